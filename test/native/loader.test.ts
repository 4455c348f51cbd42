import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import { loadNative } from '../../sim/native/index.js';

describe('native loader', () => {
  it('returns a stub naming the missing addon when nothing was built', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infersim-native-'));
    const probe = loadNative(join(dir, 'infersim_native.node'));
    expect(probe.available).toBe(false);
    expect(probe.reason).toBe(
      `the native CUDA probe addon is not built (${join(dir, 'infersim_native.node')} is missing; native/build.mjs has not run (npm run build:native))`,
    );
    expect(() => probe.run(['info'])).toThrow(InfersimError);
    expect(() => probe.describe(0)).toThrow(probe.reason);
  });

  it('passes on the build script\'s reason (no nvcc, a failed build)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infersim-native-'));
    writeFileSync(join(dir, 'status.txt'), 'not built: no nvcc found (install the CUDA toolkit or set CUDA_HOME)\n');
    const probe = loadNative(join(dir, 'infersim_native.node'));
    expect(probe.available).toBe(false);
    expect(probe.reason).toContain('; not built: no nvcc found (install the CUDA toolkit or set CUDA_HOME))');
  });

  it('reports an addon file that does not load instead of throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infersim-native-'));
    const path = join(dir, 'infersim_native.node');
    writeFileSync(path, 'not a shared object');
    const probe = loadNative(path);
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/^the native CUDA probe addon at .* does not load \(.*\); rebuild it with npm run build:native$/);
  });
});
