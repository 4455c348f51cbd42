import type { Argv } from 'yargs';
import { fieldError } from '../errors.js';
import { getGpu } from '../hardware/catalog.js';
import { resolve } from 'node:path';
import { buildLatencyModel } from '../latency/build.js';
import { isProfilePath } from '../scenario/paths.js';
import { getModel } from '../model/catalog.js';
import { validateParallelism } from '../model/derived.js';
import { engineDefaults } from '../setup/resolve.js';
import type { KvDtype, WeightDtype } from '../scenario/types.js';
import { batchOf, parseDecode, parsePrefill } from './batchSpec.js';
import { stageTimes } from '../cluster/pipeline.js';
import { stageLink, type StageLink } from '../setup/pipeline.js';
import type { LatencyModel } from '../latency/model.js';
import type { BatchShape } from '../latency/batch.js';
import { eachOnce, integerFlag, numericOption } from './flags.js';

export interface PredictArgs {
  model: string;
  gpu: string;
  tp: number | string;
  pp: number | string;
  prefill?: string;
  decode?: string;
  dtype: string;
  'kv-dtype'?: string;
  'block-size': number | string;
  'cuda-graphs': boolean;
  'max-num-seqs'?: number | string;
  json?: boolean;
  profile?: string;
}

const WEIGHT_DTYPES: readonly WeightDtype[] = ['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4'];
const KV_DTYPES: readonly KvDtype[] = ['fp16', 'bf16', 'fp8'];

export function predictCommandBuilder(y: Argv): Argv<PredictArgs> {
  let c = y
    .option('model', { type: 'string', demandOption: true, describe: 'catalog name or path to a Hugging Face config.json' })
    .option('gpu', { type: 'string', demandOption: true, describe: 'GPU catalog name, e.g. h100-sxm' });
  c = numericOption(c, 'tp', { default: 1, describe: 'tensor-parallel size' });
  c = numericOption(c, 'pp', { default: 1, describe: 'pipeline-parallel size: the step is also timed through its stages' });
  c = numericOption(c, 'block-size', { default: 16, describe: 'KV block size (decode attention efficiency)' });
  c = numericOption(c, 'max-num-seqs', { describe: 'largest CUDA-graph capture size (default: vLLM V1 for the GPU class)' });
  return c
    .option('prefill', { type: 'string', describe: 'prompt lengths in the batch, e.g. 2048,512' })
    .option('decode', { type: 'string', describe: 'decode contexts, e.g. 1024x32 (32 sequences at 1024)' })
    .option('dtype', { type: 'string', default: 'bf16', describe: `weights: ${WEIGHT_DTYPES.join(', ')}` })
    .option('kv-dtype', { type: 'string', describe: `KV cache: ${KV_DTYPES.join(', ')} (default: fp16 for fp16 weights, else bf16)` })
    .option('cuda-graphs', { type: 'boolean', default: true, describe: 'decode batches replay CUDA graphs (--no-cuda-graphs: eager)' })
    .option('profile', { type: 'string', describe: 'latency profile: a name in profiles/ or a path (default: the best shipped one for the GPU)' })
    .option('json', { type: 'boolean', describe: 'print { total_s, ops: [{ name, time_s, source }] }' }) as unknown as Argv<PredictArgs>;
}

/** No GPU count, block size or batch past these is a real configuration; past them, arithmetic stops being exact. */
const PARALLEL = { min: 1, max: 4096 };
const BLOCK = { min: 1, max: 65_536 };
const SEQS = { min: 1, max: 2 ** 31 - 1 };

/** One iteration's predicted time with its per-operator breakdown. */
export function predictCommand(args: PredictArgs): void {
  eachOnce(args as unknown as Record<string, unknown>, ['model', 'gpu', 'prefill', 'decode', 'dtype', 'kv-dtype', 'profile']);
  const arch = getModel(args.model, '--model');
  const gpu = getGpu(args.gpu, '--gpu');
  const tp = integerFlag('--tp', args.tp, PARALLEL)!;
  const pp = integerFlag('--pp', args.pp, PARALLEL)!;
  validateParallelism(arch, tp, pp, { tp: '--tp', pp: '--pp' });
  const weights = args.dtype as WeightDtype;
  if (!WEIGHT_DTYPES.includes(weights)) throw fieldError('--dtype', `must be one of ${WEIGHT_DTYPES.join(', ')}`, args.dtype);
  const kv = (args['kv-dtype'] ?? (weights === 'fp16' ? 'fp16' : 'bf16')) as KvDtype;
  if (!KV_DTYPES.includes(kv)) throw fieldError('--kv-dtype', `must be one of ${KV_DTYPES.join(', ')}`, args['kv-dtype']);
  const block_size = integerFlag('--block-size', args['block-size'], BLOCK)!;
  const prompts = parsePrefill(args.prefill);
  const decodes = parseDecode(args.decode);
  if (prompts.length + decodes.length === 0) throw fieldError('--prefill', 'give --prefill and/or --decode: the batch is empty');
  const max_num_seqs = integerFlag('--max-num-seqs', args['max-num-seqs'], SEQS) ?? engineDefaults(gpu, 'server').max_num_seqs;

  const model = buildLatencyModel({
    arch, gpu, tensor_parallel: tp, weights, kv_cache: kv, block_size,
    cuda_graphs: args['cuda-graphs'], max_num_seqs,
    profile_field: '--profile',
    gpu_field: '--gpu',
    profile: args.profile === undefined ? undefined : isProfilePath(args.profile) ? resolve(args.profile) : args.profile,
  });
  const batch = batchOf(prompts, decodes);
  const ops = model.breakdown(batch);
  const total_s = model.iterationTime_s(batch);
  // The profile's error band around the total (absent when the profile states none).
  const u = model.uncertainty;
  const band = u ? { low_s: total_s * (1 + u.low), high_s: total_s * (1 + u.high), low: u.low, high: u.high, basis: u.basis } : null;
  const pipeline = pp > 1 ? pipelineOf(model, batch, stageLink(arch, gpu, tp, pp), pp) : undefined;
  if (args.json) {
    console.log(JSON.stringify({ total_s, ops: ops.map(({ name, time_s, source }) => ({ name, time_s, source })), band, ...(pipeline ? { pipeline } : {}) }, null, 2));
    return;
  }
  console.log(`${arch.name} on ${tp} × ${gpu.name}, ${weights} weights, ${kv} KV: ${prompts.length} prefill (${batch.prefill_tokens} tokens), ${decodes.length} decode`);
  console.log(`latency model: ${model.description}`);
  const width = Math.max(...ops.map((o) => o.name.length), 5);
  console.log(`${'op'.padEnd(width)}  ${'ms'.padStart(10)}  ${'share'.padStart(7)}  source`);
  for (const op of ops) {
    const share = total_s > 0 ? (100 * op.time_s) / total_s : 0;
    console.log(`${op.name.padEnd(width)}  ${(op.time_s * 1000).toFixed(4).padStart(10)}  ${share.toFixed(1).padStart(6)} %  ${op.source}`);
  }
  console.log(`${'total'.padEnd(width)}  ${(total_s * 1000).toFixed(4).padStart(10)}`);
  if (band) {
    const pct = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(1)} %`;
    console.log(`band ${(band.low_s * 1000).toFixed(4)} – ${(band.high_s * 1000).toFixed(4)} ms (${pct(band.low)} / ${pct(band.high)}; ${band.basis})`);
  }
  if (pipeline) {
    const ms = (v: number) => (v * 1000).toFixed(4);
    console.log(
      `pipeline of ${pp} stages over ${pipeline.link}: this batch alone takes ${ms(pipeline.through_s)} ms through every stage ` +
        `(host ${ms(pipeline.host_s)}, each stage ${ms(pipeline.stage_s)}, LM head ${ms(pipeline.last_s)}, each send ${ms(pipeline.send_s)}); ` +
        `with a micro-batch like it in every stage, one completes every ${ms(pipeline.interval_s)} ms`,
    );
  }
}

/** The step as a pipeline runs it: alone through every stage, and the pace of the slowest stage when every stage is busy. */
function pipelineOf(model: LatencyModel, batch: BatchShape, link: StageLink, pp: number) {
  const t = stageTimes(model, batch, pp, link, 0);
  const through_s = t.host_s + pp * t.stage_s + t.last_s + (pp - 1) * t.send_s;
  // At most pp micro-batches are in flight: one can form only when the one pp places ahead has completed.
  const interval_s = Math.max(t.host_s, t.stage_s + t.send_s, t.stage_s + t.last_s, through_s / pp);
  return { stages: pp, link: link.link, ...t, through_s, interval_s };
}
