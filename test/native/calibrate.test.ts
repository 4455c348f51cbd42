import { CLI_FROM_SOURCE } from '../cliMode.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { calibrateWith } from '../../sim/cli/calibrate.js';
import { InfersimError } from '../../sim/errors.js';
import { stubProbe, type NativeProbe } from '../../sim/native/index.js';
import { infersim, ROOT } from '../cli/cli.js';

const STANDALONE = 'make -C native && native/build/infersim-probe --quick --out FILE (see native/README.md)';

describe('infersim calibrate without CUDA', () => {
  it('exits non-zero with one line saying what is missing and how to use the standalone probe', () => {
    const r = infersim(['calibrate', '--quick', '--gpu', '99']); // 99: never a real device, even on a GPU host
    // Run again with the addon forced missing, so the answer does not depend on this machine's build.
    const missing = infersimEnv(['calibrate', '--quick'], { INFERSIM_NATIVE_ADDON: '/nonexistent/infersim_native.node' });
    expect(missing.status).toBe(1);
    expect(missing.stdout).toBe('');
    const lines = missing.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^infersim: error: calibrate: the native CUDA probe addon is not built \(\/nonexistent\/infersim_native.node is missing; /);
    expect(lines[0]).toContain(STANDALONE);
    // With the addon built but no GPU (this machine, CI): also one line, naming the driver problem.
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(STANDALONE);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a device error from the addon', () => {
    const probe: NativeProbe = { available: true, version: 'test', run: () => 0, describe: () => '{ "error": "GPU 3 does not exist (1 visible)" }' };
    expect(() => calibrateWith({ gpu: 3 }, probe)).toThrow(new InfersimError(`calibrate: GPU 3 does not exist (1 visible); on a GPU host without Node, build and run the standalone probe instead: ${STANDALONE}`));
    expect(() => calibrateWith({ gpu: 0 }, stubProbe('no addon'))).toThrow(/^calibrate: no addon; on a GPU host/);
  });
});

describe('infersim calibrate with an addon', () => {
  it('asks the probe for the catalog GPU and grid, then checks the profile it wrote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infersim-cal-'));
    const out = join(dir, 'mine.json');
    const calls: string[][] = [];
    const probe: NativeProbe = {
      available: true,
      version: 'test',
      describe: () => JSON.stringify({ name: 'NVIDIA H100 80GB HBM3', memory_bytes: 85017493504, sm_count: 132 }),
      run: (args) => {
        calls.push([...args]);
        const profile = {
          format: 'infersim-profile/1',
          source: 'measured',
          gpu: { catalog: 'h100-sxm', name: 'NVIDIA H100 80GB HBM3' },
          provenance: { description: 'test', date: '2026-01-01T00:00:00Z' },
          tables: { gemm: [{ dtype: 'bf16', m: 1, n: 4096, k: 4096, time_s: 2e-5 }], memcpy: [{ direction: 'd2d', bytes: 1024, time_s: 1e-6 }] },
        };
        writeFileSync(args[args.indexOf('--out') + 1], JSON.stringify(profile));
        return 0;
      },
    };
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    let logged: unknown[] = [];
    try {
      calibrateWith({ gpu: 0, quick: true, out, part: '2/3' }, probe);
      logged = log.mock.calls.map((c) => c[0]);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(calls).toEqual([['profile', '--gpu', '0', '--catalog', 'h100-sxm', '--out', out, '--quick', '--part', '2/3']]);
    expect(logged[0]).toBe(`wrote ${out}: 1 gemm, 1 memcpy; use it with hardware.profile: ${out}`);
  });

  it('fails with the probe\'s exit status', () => {
    const probe: NativeProbe = { available: true, version: 't', run: () => 2, describe: () => '{ "name": "NVIDIA A100-SXM4-40GB", "memory_bytes": 42505273344 }' };
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(() => calibrateWith({ gpu: 0, out: '/tmp/never.json' }, probe)).toThrow('calibrate: the probe failed (exit status 2); see the lines above');
    } finally {
      err.mockRestore();
    }
  });
});

function infersimEnv(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [`${ROOT}/bin/infersim.js`, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, INFERSIM_FROM_SOURCE: CLI_FROM_SOURCE, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
