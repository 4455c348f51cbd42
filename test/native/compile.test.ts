import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../cli/cli.js';
import { ADDON, BUILD, hasNvcc } from './helpers.js';

// Where nvcc exists (CI, this machine), the CUDA sources must build for sm_80 and sm_90. When
// `npm ci` already built the addon, its build log is checked instead of compiling twice.
const nvcc = hasNvcc();
if (!nvcc) console.warn('test/native/compile.test.ts: skipped: no nvcc on this machine');

describe.skipIf(!nvcc)('CUDA sources', () => {
  it('build for sm_80 and sm_90 (plus compute_90 PTX)', () => {
    const log = join(BUILD, 'build.log');
    if (existsSync(ADDON) && existsSync(log)) {
      expect(readFileSync(join(BUILD, 'status.txt'), 'utf8')).toMatch(/^built: addon and native\/build\/infersim-probe/);
      const text = readFileSync(log, 'utf8');
      for (const src of ['kernels.cu', 'measure.cu', 'iteration.cu', 'selftest.cu']) {
        const line = text.split('\n').find((l) => l.includes(`src/${src}`) && l.includes(' -c '));
        expect(line, `nvcc line for ${src} in ${log}`).toBeDefined();
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
});
