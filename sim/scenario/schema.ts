import { z } from 'zod';
import { SCHEDULER_NAMES, type ScenarioInput } from './types.js';

/*
 * Leaves are `z.custom` with our own one-line message so that every failure of a leaf (wrong
 * type, out of range, not an integer) yields exactly one issue whose text we control; zod's
 * own leaf types would emit several issues per value, in its own wording. Structure (strict
 * objects, discriminated unions, optional keys) stays with zod.
 */

interface NumRule {
  int?: boolean;
  gt?: number;
  gte?: number;
  lte?: number;
}

function num({ int = false, gt, gte, lte }: NumRule): z.ZodType<number> {
  const bounds = [gt !== undefined && `> ${gt}`, gte !== undefined && `≥ ${gte}`, lte !== undefined && `≤ ${lte}`]
    .filter(Boolean)
    .join(' and ');
  const kind = int ? 'an integer' : 'a number';
  const ok = (v: unknown): boolean =>
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!int || Number.isSafeInteger(v)) &&
    (gt === undefined || v > gt) &&
    (gte === undefined || v >= gte) &&
    (lte === undefined || v <= lte);
  return z.custom<number>(ok, (v: unknown) => ({
    // "must be > 0, got -3" reads best when the type is right; say the type when it is not.
    message: typeof v === 'number' && !int ? `must be ${bounds}` : `must be ${kind}${bounds ? ' ' + bounds : ''}`,
  }));
}

const positive = num({ gt: 0 });
const nonNegative = num({ gte: 0 });
const intAtLeast = (min: number): z.ZodType<number> => num({ int: true, gte: min });
const positiveInt = intAtLeast(1);

function oneOf<const T extends string>(values: readonly T[]): z.ZodType<T> {
  return z.custom<T>((v) => values.includes(v as T), { message: `must be one of ${values.join(', ')}` });
}

const text = z.custom<string>((v) => typeof v === 'string' && v.trim() !== '', {
  message: 'must be a non-empty string',
});
const bool = z.custom<boolean>((v) => typeof v === 'boolean', { message: 'must be true or false' });

const arrival = z.discriminatedUnion('process', [
  z.object({ process: z.literal('poisson'), rate_per_s: positive }).strict(),
  z.object({ process: z.literal('gamma'), rate_per_s: positive, cv: positive }).strict(),
  z.object({ process: z.literal('constant'), rate_per_s: positive }).strict(),
  z.object({ process: z.literal('burst') }).strict(),
]);

const lengthDist = z
  .discriminatedUnion('dist', [
    z.object({ dist: z.literal('fixed'), value: positiveInt }).strict(),
    z.object({ dist: z.literal('uniform'), min: positiveInt, max: positiveInt }).strict(),
    z
      .object({ dist: z.literal('normal'), mean: positive, std: positive, min: positiveInt.optional(), max: positiveInt.optional() })
      .strict(),
    z
      .object({ dist: z.literal('lognormal'), mean: positive, sigma: positive, min: positiveInt.optional(), max: positiveInt.optional() })
      .strict(),
    z.object({ dist: z.literal('zipf'), s: positive, min: positiveInt, max: positiveInt }).strict(),
    z.object({ dist: z.literal('empirical'), path: text, column: text }).strict(),
  ])
  .superRefine((d, ctx) => {
    if ('min' in d && 'max' in d && d.min !== undefined && d.max !== undefined && d.min > d.max) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['max'], message: `must be ≥ min (${d.min})` });
    }
  });

const trace = z
  .object({
    path: text,
    format: oneOf(['csv', 'jsonl', 'azure-2023', 'mooncake', 'vidur']),
    columns: z
      .object({
        arrival: text.optional(),
        arrival_unit: oneOf(['s', 'ms', 'us']).optional(),
        input_tokens: text,
        output_tokens: text,
      })
      .strict()
      .optional(),
    speedup: positive.optional(),
  })
  .strict();

const sweepLists = z.record(
  z.string(),
  z.custom<unknown[]>((v) => Array.isArray(v) && v.length > 0, { message: 'must be a non-empty list of values' }),
);

export const scenarioSchema = z
  .object({
    seed: intAtLeast(0).optional(),
    model: text,
    hardware: z
      .object({
        gpu: text,
        tensor_parallel: positiveInt.optional(),
        pipeline_parallel: positiveInt.optional(),
        gpu_memory_utilization: num({ gt: 0, lte: 1 }).optional(),
        profile: text.optional(),
      })
      .strict(),
    precision: z
      .object({
        weights: oneOf(['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4']).optional(),
        kv_cache: oneOf(['fp16', 'bf16', 'fp8']).optional(),
      })
      .strict()
      .optional(),
    cluster: z
      .object({
        replicas: positiveInt.optional(),
        router: oneOf(['round-robin', 'least-outstanding', 'random']).optional(),
      })
      .strict()
      .optional(),
    engine: z
      .object({
        scheduler: oneOf(SCHEDULER_NAMES).optional(),
        usage: oneOf(['server', 'offline']).optional(),
        max_num_seqs: positiveInt.optional(),
        max_num_batched_tokens: positiveInt.optional(),
        block_size: positiveInt.optional(),
        enable_chunked_prefill: bool.optional(),
        preemption: oneOf(['recompute', 'swap', 'auto']).optional(),
        max_model_len: positiveInt.optional(),
        num_gpu_blocks_override: positiveInt.optional(),
        cuda_graphs: bool.optional(),
        frontend_input_ms: nonNegative.optional(),
        frontend_output_ms: nonNegative.optional(),
        swap_space_gb: nonNegative.optional(),
        enable_prefix_caching: bool.optional(),
        orca_reservation: oneOf(['max', 'pow2', 'oracle']).optional(),
        max_batch_size: positiveInt.optional(),
        batch_timeout_ms: nonNegative.optional(),
        max_queue_len: positiveInt.optional(),
        scheduling_policy: oneOf(['fcfs', 'priority']).optional(),
      })
      .strict()
      .optional(),
    workload: z
      .object({
        trace: trace.optional(),
        arrival: arrival.optional(),
        concurrency: positiveInt.optional(),
        input_tokens: lengthDist.optional(),
        output_tokens: lengthDist.optional(),
        num_requests: positiveInt.optional(),
        duration_s: positive.optional(),
        prefix: z.object({ groups: positiveInt, tokens: positiveInt, fraction: num({ gt: 0, lte: 1 }) }).strict().optional(),
        sessions: z.object({ turns: lengthDist, think_time_s: nonNegative }).strict().optional(),
        priority: z
          .object({
            classes: z
              .array(z.object({ priority: num({ int: true, gte: -1e9, lte: 1e9 }), weight: positive, name: text.optional() }).strict())
              .min(1, { message: 'must list at least one class' }),
          })
          .strict()
          .optional(),
        timeout_s: positive.optional(),
        n: positiveInt.optional(),
        best_of: positiveInt.optional(),
        max_tokens: positiveInt.optional(),
      })
      .strict(),
    slo: z
      .object({ ttft_ms: positive.optional(), tpot_ms: positive.optional(), e2e_ms: positive.optional() })
      .strict()
      .optional(),
    metrics: z.object({ warmup_s: nonNegative.optional(), uncertainty: bool.optional() }).strict().optional(),
    cost: z.object({ usd_per_gpu_hour: nonNegative.optional() }).strict().optional(),
    output: z.object({ dir: text.optional(), tokens: bool.optional() }).strict().optional(),
    // Read by `infersim sweep` only (keys are dotted paths; each list's values are checked per point, as --set values are).
    sweep: z
      .object({ grid: sweepLists.optional(), zip: sweepLists.optional() })
      .strict()
      .optional(),
  })
  .strict();

// The schema must produce exactly ScenarioInput: a key added to one and not the other fails here.
type Parsed = z.infer<typeof scenarioSchema>;
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaMatchesTypes: Same<Parsed, ScenarioInput> = true;
void schemaMatchesTypes;
