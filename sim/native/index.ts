import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfersimError } from '../errors.js';

/** The probe's C interface as the addon exposes it (native/src/addon.cc). */
export interface NativeProbe {
  /** True when the compiled addon was loaded; false for the stub. */
  readonly available: boolean;
  /** Why the addon is missing (the stub only). */
  readonly reason?: string;
  /** Where the addon was loaded from (the real one only). */
  readonly path?: string;
  readonly version: string;
  /** Runs `infersim-probe <args…>` in-process and returns its exit status. */
  run(args: readonly string[]): number;
  /** The GPU as JSON: { name, memory_bytes, sm_count, … } or { error }. */
  describe(gpu: number): string;
}

interface RawAddon {
  run(args: string[]): number;
  describe(gpu: number): string;
  version: string;
}

const ADDON = 'infersim_native.node';

/** native/build/ of this checkout, from the sources (sim/native) or the compiled tree (dist/sim/native). */
export function nativeBuildDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return join(dir, 'native', 'build');
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build');
}

/** The stub: every call throws one clear InfersimError saying what is missing. */
export function stubProbe(reason: string): NativeProbe {
  const fail = (): never => {
    throw new InfersimError(reason);
  };
  return { available: false, reason, version: 'none', run: fail, describe: fail };
}

/**
 * The native probe addon, or a stub that explains what is missing. `INFERSIM_NATIVE_ADDON`
 * (a path to the .node file) overrides where it is looked for.
 */
export function loadNative(addonPath = process.env.INFERSIM_NATIVE_ADDON ?? join(nativeBuildDir(), ADDON)): NativeProbe {
  if (!existsSync(addonPath)) {
    const status = join(dirname(addonPath), 'status.txt');
    const why = existsSync(status) ? readFileSync(status, 'utf8').trim() : 'native/build.mjs has not run (npm run build:native)';
    return stubProbe(`the native CUDA probe addon is not built (${addonPath} is missing; ${why})`);
  }
  let raw: RawAddon;
  try {
    raw = createRequire(import.meta.url)(addonPath) as RawAddon;
  } catch (err) {
    const first = String((err as Error).message ?? err).split('\n')[0];
    return stubProbe(`the native CUDA probe addon at ${addonPath} does not load (${first}); rebuild it with npm run build:native`);
  }
  return {
    available: true,
    path: addonPath,
    version: raw.version,
    run: (args) => raw.run([...args]),
    describe: (gpu) => raw.describe(gpu),
  };
}
