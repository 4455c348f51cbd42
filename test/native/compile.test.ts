import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../cli/cli.js';
import { ADDON, BUILD, hasNvcc } from './helpers.js';

// Where nvcc exists (CI, this machine), the CUDA sources must build for sm_80 and sm_90. When
// `npm ci` already built the addon, the test asks make two questions instead of compiling twice:
// are the binaries up to date with every source (`-q`), and which commands build them (`-n -B`).
// Neither depends on a log file, which any later run of the install script may rewrite.
const nvcc = hasNvcc();
if (!nvcc) console.warn('test/native/compile.test.ts: skipped: no nvcc on this machine');

/** The addon target is part of `all` only when the Node include paths are given; make -q/-n never reads them. */
const ALL_TARGETS = ['-C', join(ROOT, 'native'), 'all', 'NODE_INCLUDE=/unused', 'NAPI_INCLUDE=/unused'];

describe.skipIf(!nvcc)('CUDA sources', () => {
  it('build for sm_80 and sm_90 (plus compute_90 PTX)', () => {
    if (existsSync(ADDON)) {
      expect(readFileSync(join(BUILD, 'status.txt'), 'utf8')).toMatch(/^built: addon and native\/build\/infersim-probe/);
      const upToDate = spawnSync('make', ['-q', ...ALL_TARGETS], { encoding: 'utf8' });
      expect(upToDate.status, 'native/build is older than native/src: run npm run build:native').toBe(0);
      const plan = spawnSync('make', ['-n', '-B', ...ALL_TARGETS], { encoding: 'utf8' });
      expect(plan.status, plan.stderr).toBe(0);
      for (const src of ['kernels.cu', 'measure.cu', 'iteration.cu', 'selftest.cu']) {
        const line = plan.stdout.split('\n').find((l) => l.includes(`src/${src}`) && l.includes(' -c '));
        expect(line, `nvcc command for ${src}`).toBeDefined();
        expect(line).toContain('-gencode arch=compute_80,code=sm_80');
        expect(line).toContain('-gencode arch=compute_90,code=sm_90');
        expect(line).toContain('-gencode arch=compute_90,code=compute_90');
      }
      return;
    }
    for (const arch of ['80', '90']) {
      const r = spawnSync('make', ['-C', join(ROOT, 'native'), 'check-arch', `ARCH=${arch}`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(BUILD, 'check', `kernels_sm${arch}.o`))).toBe(true);
    }
  }, 300_000);

  // Only where `npm ci` built the addon: otherwise there is no record to keep.
  it.skipIf(!existsSync(ADDON))('a rebuild with nothing to do keeps the record of the build that compiled', () => {
    const log = join(BUILD, 'build.log');
    const original = readFileSync(log, 'utf8');
    // A stand-in record: a no-op rebuild must leave it exactly as it is.
    const record = `${original}\n# record kept by test/native/compile.test.ts\n`;
    writeFileSync(log, record);
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'native', 'build.mjs')], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/native CUDA probe built/);
      expect(readFileSync(log, 'utf8')).toBe(record);
      expect(existsSync(`${log}.attempt`)).toBe(false);
    } finally {
      writeFileSync(log, original);
    }
  }, 300_000);
});
