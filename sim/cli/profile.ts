import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { fieldError } from '../errors.js';
import { writeFileAtomic } from '../fsErrors.js';
import { numberFlag, numericOption } from './flags.js';
import { guarded } from './guarded.js';
import { getGpu } from '../hardware/catalog.js';
import { resolveProfile } from '../latency/build.js';
import { analyticProfile, defaultsGemmBand, fitVidurProfile, splitCollectives } from '../latency/profile/fit.js';
import { PROFILES_DIR, readProfileFile } from '../latency/profile/load.js';
import { isProfilePath } from '../scenario/paths.js';
import { profileSchema, type Profile } from '../latency/profile/schema.js';
import { bandsAgainst, compareCollectives, compareCompute, compareCpu, errorTable, formatErrorTable, OperatorPredictor, type Comparison } from '../latency/profile/validate.js';
import { importVidur, readVidurCompute, readVidurCpu, readVidurNetwork, VIDUR_GPU_DIRS } from '../latency/profile/vidur.js';
import { TRANSFER_RULES, transferProfile } from '../latency/profile/transfer.js';

/** Readable JSON: the header indented, each table row on one line (tables run to thousands of rows). */
export function formatProfile(profile: Profile): string {
  const indent = (text: string): string => text.replace(/\n/g, '\n ');
  const entries = Object.entries(profile).map(([key, value]) => {
    if (key !== 'tables') return ` ${JSON.stringify(key)}: ${indent(JSON.stringify(value, null, 1))}`;
    const tables = Object.entries(value as Record<string, unknown[]>).map(
      ([name, rows]) => `  ${JSON.stringify(name)}: [\n${rows.map((row) => `   ${JSON.stringify(row)}`).join(',\n')}\n  ]`,
    );
    return ` "tables": {\n${tables.join(',\n')}\n }`;
  });
  return `{\n${entries.join(',\n')}\n}\n`;
}

/** Profile JSON written whole or not at all (a full disk or a path through a file: one line naming --out). */
export function writeProfile(path: string, profile: Profile): void {
  const checked = profileSchema.safeParse(profile);
  if (!checked.success) throw new Error(`internal: generated profile does not match the schema: ${checked.error.issues[0]?.message}`);
  writeFileAtomic('--out', path, formatProfile(profile));
}

const list = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '');

function vidurGpu(value: string): string {
  getGpu(value, '--gpu');
  if (!(value in VIDUR_GPU_DIRS)) throw fieldError('--gpu', `Vidur's data covers ${Object.keys(VIDUR_GPU_DIRS).join(', ')}`, value);
  return value;
}

function checkFormat(format: string): void {
  if (format !== 'vidur') throw fieldError('FORMAT', 'only "vidur" (microsoft/vidur data/profiling CSVs) can be imported', format);
}

interface ImportArgs {
  format: string;
  dir: string;
  gpu: string;
  out: string;
  models?: string;
}

interface ValidateArgs {
  vidur: string;
  gpu: string;
  profile?: string;
  models?: string;
  'per-model': boolean;
  json?: boolean;
  record?: boolean;
}

interface AnalyticArgs {
  gpu: string;
  vidur?: string;
  out: string;
}

interface TransferArgs {
  gpu: string;
  from?: string;
  out: string;
}

interface FitArgs {
  format: string;
  dir: string;
  gpu: string;
  train: string;
  out?: string;
  'cpu-step-s'?: number | string;
}

export function profileCommandBuilder(y: Argv): Argv {
  return y
    .command<ImportArgs>(
      'import <format> <dir>',
      "convert another tool's profiling data into a profile file (vidur: its data/profiling folder)",
      (c) =>
        c
          .positional('format', { type: 'string', demandOption: true, describe: 'vidur' })
          .positional('dir', { type: 'string', demandOption: true, describe: "Vidur's data/profiling folder (compute/, network/, cpu_overhead/)" })
          .option('gpu', { type: 'string', demandOption: true, describe: `catalog GPU: ${Object.keys(VIDUR_GPU_DIRS).join(', ')}` })
          .option('out', { type: 'string', demandOption: true, describe: 'profile file to write (.json)' })
          .option('models', { type: 'string', describe: 'only these model folders, comma-separated' }) as unknown as Argv<ImportArgs>,
      guarded(importCommand),
    )
    .command<ValidateArgs>(
      'validate',
      'compare a profile\'s operator predictions with measured CSVs: median and p90 error per operator and model',
      (c) =>
        c
          .option('vidur', { type: 'string', demandOption: true, describe: "Vidur's data/profiling folder with the measurements" })
          .option('gpu', { type: 'string', demandOption: true, describe: `catalog GPU: ${Object.keys(VIDUR_GPU_DIRS).join(', ')}` })
          .option('profile', { type: 'string', describe: 'profile name or path (default: the best shipped one for the GPU)' })
          .option('models', { type: 'string', describe: 'only these model folders (default: the models the profile was not fitted on, else all)' })
          .option('per-model', { type: 'boolean', default: true, describe: 'also break errors down by model' })
          .option('json', { type: 'boolean', describe: 'print the error rows as JSON' })
          .option('record', { type: 'boolean', describe: "write the errors' p10–p90 into the profile file as its uncertainty bands" }) as unknown as Argv<ValidateArgs>,
      guarded(validateCommand),
    )
    .command<FitArgs>(
      'fit <format> <dir>',
      'fit roofline efficiencies to measurements on some models and report the error on the others',
      (c) =>
        numericOption(
          c
            .positional('format', { type: 'string', demandOption: true, describe: 'vidur' })
            .positional('dir', { type: 'string', demandOption: true, describe: "Vidur's data/profiling folder" })
            .option('gpu', { type: 'string', demandOption: true, describe: `catalog GPU: ${Object.keys(VIDUR_GPU_DIRS).join(', ')}` })
            .option('train', { type: 'string', demandOption: true, describe: 'model folders to fit on, comma-separated; the rest are held out' })
            .option('out', { type: 'string', describe: 'profile file to write (.json); without it only the error tables print' }),
          'cpu-step-s',
          { describe: 'engine CPU time per step to record in the profile (calibrated separately)' },
        ) as unknown as Argv<FitArgs>,
      guarded(fitCommand),
    )
    .command<AnalyticArgs>(
      'analytic',
      'write the datasheet-based profile of a catalog GPU (default efficiencies; band from the measured GPUs)',
      (c) =>
        c
          .option('gpu', { type: 'string', demandOption: true, describe: 'catalog GPU' })
          .option('vidur', { type: 'string', describe: "Vidur's data/profiling folder, for the error band of the defaults" })
          .option('out', { type: 'string', demandOption: true, describe: 'profile file to write (.json)' }) as unknown as Argv<AnalyticArgs>,
      guarded(analyticCommand),
    )
    .command<TransferArgs>(
      'transfer',
      "carry a fitted sibling's coefficients to a GPU of the same silicon with other memory (memory-bound terms follow its datasheet bandwidth; band widened)",
      (c) =>
        c
          .option('gpu', { type: 'string', demandOption: true, describe: `catalog GPU to write the profile for (rules: ${Object.keys(TRANSFER_RULES).join(', ')})` })
          .option('from', { type: 'string', describe: "the sibling's shipped fitted profile (default: the rule's, e.g. h100-sxm.fitted for h200-sxm)" })
          .option('out', { type: 'string', demandOption: true, describe: 'profile file to write (.json)' }) as unknown as Argv<TransferArgs>,
      guarded(transferCommand),
    )
    .demandCommand(1, 'give a profile command: import, validate, fit, analytic or transfer');
}

function importCommand(args: ImportArgs): void {
  checkFormat(args.format);
  const gpu = vidurGpu(args.gpu);
  if (!args.out.toLowerCase().endsWith('.json')) throw fieldError('--out', 'must name a .json file', args.out);
  const profile = importVidur(resolve(args.dir), gpu, { models: list(args.models) });
  writeProfile(resolve(args.out), profile);
  const t = profile.tables ?? {};
  const counts = Object.entries(t).map(([name, rows]) => `${(rows as unknown[]).length} ${name}`).join(', ');
  console.log(`wrote ${args.out}: measured profile of ${gpu} from Vidur (${counts})`);
}

/** Models named in a fitted profile's provenance as trained on: validation defaults to the others. */
function trainedModels(profile: Profile | undefined): string[] {
  return profile?.provenance.trained_on ?? [];
}

function validateCommand(args: ValidateArgs): void {
  const gpu = vidurGpu(args.gpu);
  // --record rewrites a profile file: only the one the user named.
  if (args.record && args.profile === undefined) throw fieldError('--record', 'needs --profile naming the profile file to write the bands into');
  const profileRef = args.profile === undefined ? undefined : isProfilePath(args.profile) ? resolve(args.profile) : args.profile;
  const loaded = resolveProfile(profileRef, gpu, '--profile', '--gpu');
  const root = resolve(args.vidur);
  const trained = trainedModels(loaded?.profile);
  const models = list(args.models);
  if (models) {
    const known = [...new Set(readVidurCompute(root, gpu).map((r) => r.model))];
    const unknown = models.filter((m) => !known.includes(m));
    if (unknown.length > 0) throw fieldError('--models', `unknown model folder; the data has ${known.join(', ')}`, unknown.join(','));
  }
  const compute = readVidurCompute(root, gpu, models ? { models } : { exclude: trained });
  // A fitted profile's all-reduce coefficients saw every other message size: validate on the rest.
  const allNet = readVidurNetwork(root, gpu);
  const net = trained.length > 0 ? splitCollectives(allNet.filter((c) => c.collective === 'all_reduce'))[1] : allNet;
  const predictor = new OperatorPredictor(getGpu(gpu), loaded?.profile);
  const comparisons = [...compareCompute(compute, predictor), ...compareCollectives(net, predictor), ...compareCpu(readVidurCpu(root, gpu), predictor.efficiency)];
  const rows = errorTable(comparisons).filter((r) => args['per-model'] || r.model === 'all');
  if (args.record) recordBands(loaded!.ref, comparisons, gpu);
  if (args.json) {
    console.log(JSON.stringify({ gpu, profile: loaded?.ref ?? null, models: [...new Set(compute.map((r) => r.model))], rows }, null, 1));
    return;
  }
  const heldOut = `models not used in fitting (${[...new Set(compute.map((r) => r.model))].join(', ')}) and message sizes not used in fitting`;
  const scope = models ? models.join(', ') : trained.length > 0 ? heldOut : 'all models';
  console.log(`profile ${loaded?.ref ?? '(built-in defaults)'} on ${gpu} against Vidur measurements, ${scope}`);
  console.log(formatErrorTable(rows));
}

function fitCommand(args: FitArgs): void {
  checkFormat(args.format);
  const gpu = vidurGpu(args.gpu);
  const train = list(args.train) ?? [];
  if (train.length === 0) throw fieldError('--train', 'name at least one model folder to fit on', args.train);
  const cpuStep = numberFlag('--cpu-step-s', args['cpu-step-s'], { min: 0, max: 1, unit: 'seconds' });
  if (args.out !== undefined && !args.out.toLowerCase().endsWith('.json')) throw fieldError('--out', 'must name a .json file', args.out);
  const extra = cpuStep !== undefined ? { cpu_step_s: cpuStep } : {};
  const report = fitVidurProfile(resolve(args.dir), gpu, train, extra);
  console.log(`fitted on ${train.join(', ')}: ${JSON.stringify(report.profile.efficiency)}`);
  console.log('\nheld-out models and message sizes:');
  console.log(formatErrorTable(report.held_out.filter((r) => r.model === 'all')));
  if (args.out) {
    writeProfile(resolve(args.out), report.profile);
    console.log(`\nwrote ${args.out}`);
  }
}

function analyticCommand(args: AnalyticArgs): void {
  getGpu(args.gpu, '--gpu');
  if (!args.out.toLowerCase().endsWith('.json')) throw fieldError('--out', 'must name a .json file', args.out);
  const bands = args.vidur ? Object.keys(VIDUR_GPU_DIRS).map((g) => defaultsGemmBand(resolve(args.vidur!), g)) : [];
  writeProfile(resolve(args.out), analyticProfile(args.gpu, bands));
  console.log(`wrote ${args.out}: analytic profile of ${args.gpu}`);
}

function transferCommand(args: TransferArgs): void {
  if (!args.out.toLowerCase().endsWith('.json')) throw fieldError('--out', 'must name a .json file', args.out);
  const profile = transferProfile(args.gpu, args.from);
  writeProfile(resolve(args.out), profile);
  console.log(`wrote ${args.out}: ${args.gpu} profile transferred from ${profile.provenance.transferred_from}`);
}

/**
 * Writes the validation's p10–p90 signed errors into the profile file as its bands, each over the
 * pooled errors of its class: GEMMs (the four projections together), elementwise kernels,
 * all-reduce, and the iteration (the GEMM band: GEMMs are most of an iteration's GPU time).
 */
function recordBands(ref: string, comparisons: readonly Comparison[], gpu: string): void {
  const path = isProfilePath(ref) ? ref : `${PROFILES_DIR}${ref}.json`;
  const own = readProfileFile(path, '--profile');
  const source = `Vidur's ${VIDUR_GPU_DIRS[gpu].toUpperCase()} measurements (microsoft/vidur, a PyTorch/vLLM stack)`;
  const uncertainty = { ...(own.uncertainty ?? {}), ...bandsAgainst(comparisons, source) };
  writeProfile(path, { ...own, uncertainty });
  console.log(`recorded bands in ${path}`);
}
