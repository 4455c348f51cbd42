import type { Argv } from 'yargs';
import { z } from 'zod';
import { InfersimError, fieldError } from '../errors.js';
import { getGpu } from '../hardware/catalog.js';
import { buildLatencyModel } from '../latency/build.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { getModel } from '../model/catalog.js';
import { engineDefaults } from '../setup/resolve.js';
import { parseJsonText } from '../scenario/read.js';
import { readText } from '../io/readText.js';
import { batchOf } from './batchSpec.js';

export interface ValidateProbeArgs {
  probe: string;
  model?: string;
  gpu?: string;
  profile?: string;
  json?: boolean;
}

export const ITERATION_PROBE_FORMAT = 'infersim-iteration-probe/1';

const count = z.number().int().positive();
/** What `infersim-probe iteration` writes (documented in native/README.md); extra keys are allowed. */
export const iterationProbeSchema = z.object({
  format: z.literal(ITERATION_PROBE_FORMAT),
  gpu: z.object({ catalog: z.string().min(1), name: z.string() }).passthrough(),
  model: z
    .object({
      name: z.string(),
      hidden_size: count,
      intermediate_size: count,
      num_attention_heads: count,
      num_key_value_heads: count,
      head_dim: count,
      num_hidden_layers: count,
      vocab_size: count,
    })
    .passthrough(),
  layers_timed: count,
  dtype: z.literal('bf16'),
  block_size: count,
  shapes: z
    .array(
      z
        .object({
          prefill: z.array(count),
          decode: z.array(z.object({ context_tokens: count, seqs: count }).strict()),
          time_s: z.number().positive(),
        })
        .passthrough(),
    )
    .min(1),
}).passthrough();
export type IterationProbe = z.infer<typeof iterationProbeSchema>;

export interface ShapeComparison {
  label: string;
  tokens: number;
  measured_s: number;
  predicted_s: number;
  /** (predicted − measured) ÷ measured */
  error: number;
}

export function validateProbeCommandBuilder(y: Argv): Argv<ValidateProbeArgs> {
  return y
    // Not global: `validate real` takes none of these, and would otherwise accept and ignore them.
    .option('probe', { type: 'string', global: false, describe: 'output of infersim-probe iteration (JSON); required unless a subcommand is given' })
    .option('model', { type: 'string', global: false, describe: "catalog name or config.json (default: the dimensions recorded in the file)" })
    .option('gpu', { type: 'string', global: false, describe: 'GPU catalog name (default: the one recorded in the file)' })
    .option('profile', { type: 'string', global: false, describe: 'latency profile name or path (default: the best shipped one for the GPU)' })
    .option('json', { type: 'boolean', global: false, describe: 'print { shapes: [...], median_abs_error, max_abs_error }' }) as unknown as Argv<ValidateProbeArgs>;
}

/** A probe file lists a few hundred shapes; this bound refuses a mistaken path before reading it whole. */
const MAX_PROBE_BYTES = 64 * 1024 * 1024;

export function readIterationProbe(path: string): IterationProbe {
  const raw = parseJsonText(readText(path, '--probe', MAX_PROBE_BYTES), path, '--probe');
  const parsed = iterationProbeSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw fieldError('--probe', `${path} is not ${ITERATION_PROBE_FORMAT} output (${issue.path.join('.') || 'file'}: ${issue.message})`);
  }
  return parsed.data;
}

/** The architecture the probe timed, from its recorded dimensions (a Llama-style SwiGLU decoder). */
export function architectureOf(probe: IterationProbe): ModelArchitecture {
  const m = probe.model;
  return {
    name: m.name,
    hidden_size: m.hidden_size,
    intermediate_size: m.intermediate_size,
    num_hidden_layers: m.num_hidden_layers,
    num_attention_heads: m.num_attention_heads,
    num_key_value_heads: m.num_key_value_heads,
    head_dim: m.head_dim,
    vocab_size: m.vocab_size,
    max_position_embeddings: 131072,
    gated_mlp: true,
    tie_word_embeddings: false,
  };
}

export function shapeLabel(prefill: readonly number[], decode: readonly { context_tokens: number; seqs: number }[]): string {
  const parts: string[] = [];
  if (prefill.length > 0) parts.push(`prefill ${prefill.join(',')}`);
  if (decode.length > 0) parts.push(`decode ${decode.map((d) => `${d.context_tokens}x${d.seqs}`).join(',')}`);
  return parts.join(' + ');
}

/** Median of absolute values. */
export function medianAbs(values: readonly number[]): number {
  const a = values.map(Math.abs).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const mid = Math.floor(a.length / 2);
  return a.length % 2 === 1 ? a[mid] : (a[mid - 1] + a[mid]) / 2;
}

/**
 * Predicted against measured, shape by shape. The probe times GPU work only (a CUDA-graph replay),
 * so the prediction's CPU term (cpu_overhead) is left out; every other operator counts.
 */
export function compareProbe(probe: IterationProbe, args: Omit<ValidateProbeArgs, 'probe' | 'json'>): ShapeComparison[] {
  const arch = args.model !== undefined ? getModel(args.model, '--model') : architectureOf(probe);
  // Fewer layers timed than the model has (--layers): predict the same truncated model.
  if (probe.layers_timed < arch.num_hidden_layers) arch.num_hidden_layers = probe.layers_timed;
  const gpu = getGpu(args.gpu ?? probe.gpu.catalog, args.gpu !== undefined ? '--gpu' : `--probe gpu.catalog`);
  const model = buildLatencyModel({
    arch,
    gpu,
    tensor_parallel: 1,
    weights: 'bf16',
    kv_cache: 'bf16',
    block_size: probe.block_size,
    cuda_graphs: true,
    max_num_seqs: engineDefaults(gpu, 'server').max_num_seqs,
    profile: args.profile,
    profile_field: '--profile',
  });
  return probe.shapes.map((shape) => {
    const decodes: number[] = [];
    for (const d of shape.decode) for (let i = 0; i < d.seqs; i++) decodes.push(d.context_tokens);
    const batch = batchOf(shape.prefill, decodes);
    const predicted_s = model
      .breakdown(batch)
      .filter((op) => op.name !== 'cpu_overhead')
      .reduce((sum, op) => sum + op.time_s, 0);
    return {
      label: shapeLabel(shape.prefill, shape.decode),
      tokens: batch.prefill_tokens + batch.decode_tokens,
      measured_s: shape.time_s,
      predicted_s,
      error: (predicted_s - shape.time_s) / shape.time_s,
    };
  });
}

/** `infersim validate --probe FILE`: the simulator's prediction against a measured iteration. */
export function validateProbeCommand(args: ValidateProbeArgs): void {
  // Not a yargs demand: that would bind `validate real`, which takes no probe, too.
  if (args.probe === undefined) throw fieldError('--probe', 'required: give an infersim-probe iteration file, or the subcommand `validate real DIR`');
  const probe = readIterationProbe(args.probe);
  const rows = compareProbe(probe, args);
  const errors = rows.map((r) => r.error);
  const median_abs_error = medianAbs(errors);
  const max_abs_error = Math.max(...errors.map(Math.abs));
  if (args.json) {
    console.log(JSON.stringify({ probe: args.probe, model: probe.model.name, gpu: probe.gpu.name, shapes: rows, median_abs_error, max_abs_error }, null, 2));
    return;
  }
  if (rows.length === 0) throw new InfersimError('--probe: the file has no shapes');
  console.log(`${probe.model.name} (${probe.layers_timed} layers) on ${probe.gpu.name}: prediction (without CPU overhead) vs infersim-probe iteration`);
  const width = Math.max(5, ...rows.map((r) => r.label.length));
  console.log(`${'shape'.padEnd(width)}  ${'tokens'.padStart(6)}  ${'measured ms'.padStart(11)}  ${'predicted ms'.padStart(12)}  ${'error'.padStart(8)}`);
  for (const r of rows) {
    const err = `${r.error >= 0 ? '+' : ''}${(100 * r.error).toFixed(1)} %`;
    console.log(
      `${r.label.padEnd(width)}  ${String(r.tokens).padStart(6)}  ${(r.measured_s * 1e3).toFixed(3).padStart(11)}  ${(r.predicted_s * 1e3).toFixed(3).padStart(12)}  ${err.padStart(8)}`,
    );
  }
  console.log(`median |error| ${(100 * median_abs_error).toFixed(1)} %, max |error| ${(100 * max_abs_error).toFixed(1)} % over ${rows.length} shapes`);
}
