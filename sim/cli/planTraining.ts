import type { Argv } from 'yargs';
import { estimateTraining, resolvePlan, type TrainingEstimate } from '../plan/training.js';
import { loadTrainingFile } from '../plan/trainingSchema.js';
import { eachOnce } from './flags.js';

export interface PlanTrainingArgs {
  file: string;
  json?: boolean;
}

export function planTrainingBuilder(y: Argv): Argv<PlanTrainingArgs> {
  return y
    .positional('file', { type: 'string', describe: 'training file (YAML or JSON)' })
    .option('json', { type: 'boolean', describe: 'print the estimate as JSON' }) as unknown as Argv<PlanTrainingArgs>;
}

export function planTrainingCommand(args: PlanTrainingArgs): void {
  eachOnce(args as unknown as Record<string, unknown>, ['file']);
  const estimate = estimateTraining(resolvePlan(loadTrainingFile(args.file)));
  console.log(args.json ? JSON.stringify(estimate, null, 2) : table(estimate));
}

const GiB = 2 ** 30;
const gib = (bytes: number): string => `${(bytes / GiB).toFixed(1)} GiB`;
const big = (n: number): string => (n >= 1e12 ? `${(n / 1e12).toFixed(2)} T` : n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n.toLocaleString('en-US'));
const round = (n: number): string => (n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US'));

function duration(seconds: number): string {
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 2 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

function table(e: TrainingEstimate): string {
  const m = e.memory_per_gpu_bytes;
  const rows: [string, string][] = [
    ['model', `${e.model}: ${big(e.parameters)} parameters, ${big(e.trainable_parameters)} trained (${e.method})`],
    ['hardware', `${e.gpus} × ${e.gpu}`],
    ['memory per GPU', ''],
    ['  weights', gib(m.weights)],
    ['  gradients', gib(m.gradients)],
    ['  optimizer states', gib(m.optimizer_states)],
    ['  activations', gib(m.activations)],
    ['  buffers/overheads', gib(m.buffers)],
    ['  total', `${gib(m.total)} of ${gib(e.gpu_memory_bytes)}: ${e.fits ? 'fits' : `does not fit; ${e.advice}`}`],
    ['tokens', big(e.tokens) + (e.steps === undefined ? '' : ` (${round(e.steps)} steps, gradient accumulation ${e.gradient_accumulation})`)],
    ['FLOPs', `${e.total_flops.toExponential(3)} (${e.flops_per_token.toExponential(3)} per token)`],
    ['MFU', `${(e.mfu * 100).toFixed(1)} % of ${(e.peak_flops_per_gpu / 1e12).toFixed(0)} TFLOP/s (${e.mfu_source})`],
    ['time', duration(e.time_s)],
    ['GPU-hours', round(e.gpu_hours)],
    ['cost', `$${round(e.cost_usd)} at $${e.usd_per_gpu_hour}/GPU-hour`],
    ['checkpoint', `${gib(e.checkpoint_bytes.weights)} weights, ${gib(e.checkpoint_bytes.with_optimizer)} with optimizer state`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`.trimEnd()).join('\n');
}
