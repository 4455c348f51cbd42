import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { InfersimError, fieldError } from '../errors.js';
import { profileSchema } from '../latency/profile/schema.js';
import { loadNative, type NativeProbe } from '../native/index.js';
import { integerFlag, numericOption } from './flags.js';

export interface CalibrateArgs {
  gpu: number | string;
  quick?: boolean;
  out?: string;
  part?: string;
  catalog?: string;
  cublas?: string;
  force?: boolean;
}

const STANDALONE =
  'on a GPU host without Node, build and run the standalone probe instead: make -C native && native/build/infersim-probe --quick --out FILE (see native/README.md)';

export function calibrateCommandBuilder(y: Argv): Argv<CalibrateArgs> {
  return numericOption(y, 'gpu', { default: 0, describe: 'CUDA device index' })
    .option('quick', { type: 'boolean', describe: 'the quick grid (under 3 minutes on an H100) instead of the full one' })
    .option('out', { type: 'string', describe: 'profile file to write (default: <gpu>.measured.json here)' })
    .option('part', { type: 'string', describe: 'measure part K/N of the grid only (resumable; merge with infersim-probe merge)' })
    .option('catalog', { type: 'string', describe: 'GPU catalog name, when the device name is not recognised' })
    .option('cublas', { type: 'string', describe: 'path to libcublasLt.so (or its folder)' })
    .option('force', { type: 'boolean', describe: 'measure again even if --out exists' }) as unknown as Argv<CalibrateArgs>;
}

/** The GPU catalog key for a device name (as native/src/probe.cpp names it), for the default file name. */
export function catalogFor(name: string, memoryBytes: number): string | undefined {
  if (name.includes('H100')) return name.includes('PCIe') ? 'h100-pcie' : 'h100-sxm';
  if (name.includes('H200')) return 'h200-sxm';
  if (name.includes('A100')) return memoryBytes > 60e9 ? 'a100-sxm-80gb' : 'a100-sxm-40gb';
  if (name.includes('L40S')) return 'l40s';
  if (name.includes('A10G')) return 'a10g';
  if (name.includes('L4')) return 'l4';
  return undefined;
}

/** Measures this machine's GPU into a profile through the native addon. */
export function calibrateCommand(args: CalibrateArgs): void {
  calibrateWith(args, loadNative());
}

/** calibrateCommand with the probe given (tests pass a stub). */
export function calibrateWith(args: CalibrateArgs, probe: NativeProbe): void {
  const gpu = integerFlag('--gpu', args.gpu, { min: 0 }) ?? 0;
  if (!probe.available) throw new InfersimError(`calibrate: ${probe.reason}; ${STANDALONE}`);
  const device = JSON.parse(probe.describe(gpu)) as { error?: string; name?: string; memory_bytes?: number };
  if (device.error !== undefined) throw new InfersimError(`calibrate: ${device.error}; ${STANDALONE}`);
  const catalog = args.catalog ?? catalogFor(device.name ?? '', device.memory_bytes ?? 0);
  if (catalog === undefined) throw fieldError('--catalog', `no GPU catalog entry is known for "${device.name}": name one`);
  const out = args.out ?? `${catalog}.measured.json`;
  const probeArgs = ['profile', '--gpu', String(gpu), '--catalog', catalog, '--out', out];
  if (args.quick) probeArgs.push('--quick');
  if (args.part !== undefined) probeArgs.push('--part', args.part);
  if (args.cublas !== undefined) probeArgs.push('--cublas', args.cublas);
  if (args.force) probeArgs.push('--force');
  console.error(`infersim calibrate: ${device.name} (GPU ${gpu}) → ${out}`);
  const status = probe.run(probeArgs);
  if (status !== 0) throw new InfersimError(`calibrate: the probe failed (exit status ${status}); see the lines above`);
  const profile = profileSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
  const rows = Object.entries(profile.tables ?? {}).map(([table, list]) => `${(list as unknown[]).length} ${table}`);
  console.log(`wrote ${out}: ${rows.join(', ')}; use it with hardware.profile: ${out}`);
}
