import { z } from 'zod';
import {
  MAX_BLOCK_SIZE,
  MAX_CONCURRENCY,
  MAX_KV_BLOCKS_PER_REPLICA,
  MAX_REQUESTS,
  MAX_SAMPLES,
  MAX_SWAP_SPACE_GB,
  MAX_TOKEN_COUNT,
  MAX_USD_PER_GPU_HOUR,
} from './bounds.js';
import type { ArrivalRate, PolicyNames, ScenarioInput, SchedulerName } from './types.js';
import { vllmVersionSchema } from './vllmVersion.js';
import { autoscaleSchema, coldStartSchema, failuresSchema, faultsSchema, maxRetries, poolReplicas, poolSchema, routerSettings, trafficSchema, transferSchema } from './clusterSchema.js';
import { bool, count32, cv, INT32_WHY, intAtLeast, millis, num, oneOf, positive, positiveInt, rate, seconds, text, tokens } from './leaves.js';


/** A step's rate may be 0 (a pause); its upper bound and reason are the plain rate's. */
const stepRate = num({ gte: 0, lte: 1e9, why: 'gaps below a nanosecond: use process burst for all at t = 0' });
const rateSchedule = z
  .array(z.object({ until_s: seconds({ gt: 0 }), rate_per_s: stepRate }).strict())
  .min(1)
  .superRefine((steps, ctx) => {
    // Runs on partly invalid lists too: compare only with the last until_s that was itself a valid time.
    let before: number | undefined;
    steps.forEach((step, i) => {
      const until = step.until_s;
      if (!(typeof until === 'number' && until > 0)) return;
      if (before !== undefined && !(until > before)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, 'until_s'], message: `must be > the one before (${before})` });
      }
      before = until;
    });
    if (steps.every((step) => step.rate_per_s === 0)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'every step has rate_per_s 0, so no request would arrive' });
    }
  });
const diurnalRate = z
  .object({ mean: rate, amplitude: num({ gte: 0, lte: 1 }), period_s: seconds({ gt: 0 }), phase_s: seconds({ gte: 0 }).optional() })
  .strict();
const rateKeys = { schedule: 'until_s, rate_per_s', diurnal: 'mean, amplitude, period_s, phase_s' };
/**
 * A number, a list of steps or a sinusoid, told apart by the value's shape so that each form reports
 * its own problems (a zod union would report all three). A number keeps the plain leaf's messages.
 * Unknown keys are restated here: the error formatter cannot look inside this dispatch for the allowed ones.
 */
const arrivalRate = z.any().transform((value: unknown, ctx): ArrivalRate => {
  const list = Array.isArray(value);
  const form = list ? rateSchedule : typeof value === 'object' && value !== null ? diurnalRate : rate;
  const parsed = form.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    if (issue.code !== z.ZodIssueCode.unrecognized_keys) ctx.addIssue(issue);
    else {
      const allowed = list ? rateKeys.schedule : rateKeys.diurnal;
      for (const key of issue.keys) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [...issue.path, key], message: `unknown key; allowed: ${allowed}` });
    }
  }
  return z.NEVER;
});

const arrival = z.discriminatedUnion('process', [
  z.object({ process: z.literal('poisson'), rate_per_s: arrivalRate }).strict(),
  z.object({ process: z.literal('gamma'), rate_per_s: arrivalRate, cv }).strict(),
  z.object({ process: z.literal('constant'), rate_per_s: arrivalRate }).strict(),
  z.object({ process: z.literal('burst') }).strict(),
]);

/** A mean or spread of token counts (a real number, not a count): positive, within the int32 range. */
const lengthScale = num({ gt: 0, lte: MAX_TOKEN_COUNT, why: INT32_WHY });
/**
 * Lognormal sigma (std of the log). Fits of real prompt and output lengths give 0.5–2; at 10 the
 * median is e⁻⁵⁰ of the mean and every draw but a rare one lands on min.
 */
const sigma = num({ gt: 0, lte: 10, why: 'larger spreads put nearly every draw on min' });

const lengthDist = z
  .discriminatedUnion('dist', [
    z.object({ dist: z.literal('fixed'), value: tokens }).strict(),
    z.object({ dist: z.literal('uniform'), min: tokens, max: tokens }).strict(),
    z
      .object({ dist: z.literal('normal'), mean: lengthScale, std: lengthScale, min: tokens.optional(), max: tokens.optional() })
      .strict(),
    z
      .object({ dist: z.literal('lognormal'), mean: lengthScale, sigma, min: tokens.optional(), max: tokens.optional() })
      .strict(),
    z.object({ dist: z.literal('zipf'), s: positive, min: tokens, max: tokens }).strict(),
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
    format: oneOf(['csv', 'jsonl', 'azure-2023', 'mooncake', 'vidur', 'azure-2024', 'burstgpt', 'splitwise', 'arrow']),
    columns: z
      .object({
        arrival: text.optional(),
        arrival_unit: oneOf(['s', 'ms', 'us']).optional(),
        input_tokens: text,
        output_tokens: text,
        model: text.optional(),
        user: text.optional(),
        adapter: text.optional(),
      })
      .strict()
      .optional(),
    speedup: positive.optional(),
    burstgpt: z
      .object({
        failed: oneOf(['drop', 'keep']).optional(),
        log_type: oneOf(['conversation', 'api']).optional(),
        models: z.record(z.string(), text).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** n and best_of: every sample of a request is created when it arrives. */
const samples = num({ int: true, gte: 1, lte: MAX_SAMPLES, why: 'all samples of a request are created when it arrives' });

const sweepLists = z.record(
  z.string(),
  z.custom<unknown[]>((v) => Array.isArray(v) && v.length > 0, { message: 'must be a non-empty list of values' }),
);

/** The engine section; engine.scheduler takes the names given (the setup layer passes every registered policy). */
function engineSchema(schedulers: readonly string[]) {
  return z
    .object({
      scheduler: (oneOf(schedulers) as z.ZodType<SchedulerName>).optional(),
      usage: oneOf(['server', 'offline']).optional(),
      max_num_seqs: count32.optional(),
      max_num_batched_tokens: count32.optional(),
      block_size: num({ int: true, gte: 1, lte: MAX_BLOCK_SIZE, why: 'vLLM offers block sizes up to 128' }).optional(),
      enable_chunked_prefill: bool.optional(),
      preemption: oneOf(['recompute', 'swap', 'auto']).optional(),
      max_model_len: positiveInt.optional(),
      num_gpu_blocks_override: num({
        int: true,
        gte: 1,
        lte: MAX_KV_BLOCKS_PER_REPLICA,
        why: 'a simulation holds every block of every replica in memory',
      }).optional(),
      cuda_graphs: bool.optional(),
      vllm_version: vllmVersionSchema.optional(),
      frontend_input_ms: millis({ gte: 0 }).optional(),
      frontend_output_ms: millis({ gte: 0 }).optional(),
      swap_space_gb: num({ gte: 0, lte: MAX_SWAP_SPACE_GB, why: 'more than any host has per GPU' }).optional(),
      enable_prefix_caching: bool.optional(),
      orca_reservation: oneOf(['max', 'pow2', 'oracle']).optional(),
      max_batch_size: count32.optional(),
      batch_timeout_ms: millis({ gte: 0 }).optional(),
      max_queue_len: positiveInt.optional(),
      scheduling_policy: oneOf(['fcfs', 'priority']).optional(),
      speculative: speculativeSchema.optional(),
      lora: loraSchema.optional(),
    })
    .strict()
    .optional();
}

const acceptanceRate = num({ gte: 0, lte: 1, why: 'a probability' });
const speculativeSchema = z
  .object({
    method: oneOf(['draft', 'eagle', 'mtp', 'ngram']),
    model: text.optional(),
    k: num({ int: true, gte: 1, lte: 16, why: 'vLLM proposes a handful of tokens per step; past 16 nearly all are rejected' }),
    acceptance: z.union([acceptanceRate, z.array(acceptanceRate).min(1)]).optional(),
  })
  .strict();

/** The adapter ranks vLLM serves (MaxLoRARanks in vllm/config/lora.py). */
export const LORA_RANKS = [1, 8, 16, 32, 64, 128, 256, 320, 512] as const;

/**
 * engine.lora: vLLM's LoRAConfig (vllm/config/lora.py): max_lora_rank is one of its MaxLoRARanks;
 * max_cpu_loras ≥ max_loras is checked where the defaults are filled (sim/setup/lora.ts).
 */
const loraSchema = z
  .object({
    max_loras: num({ int: true, gte: 1, lte: 1024, why: 'each slot holds an adapter on every GPU' }).optional(),
    max_lora_rank: z
      .custom<number>((v) => typeof v === 'number' && (LORA_RANKS as readonly number[]).includes(v), {
        message: `must be one of vLLM's LoRA ranks: ${LORA_RANKS.join(', ')}`,
      })
      .optional(),
    max_cpu_loras: num({ int: true, gte: 1, lte: 1e6, why: 'each one is an adapter held in host memory' }).optional(),
  })
  .strict();

/** workload.lora: which adapter each generated request names. */
const workloadLora = z
  .object({
    adapters: num({ int: true, gte: 1, lte: 1e6, why: 'a simulation tracks every adapter' }),
    popularity: oneOf(['zipf', 'uniform', 'round_robin']).optional(),
    zipf_alpha: num({ gt: 0, lte: 10, why: 'past 10 nearly every request names adapter 0' }).optional(),
    base_fraction: num({ gte: 0, lte: 1, why: 'a share of the requests' }).optional(),
  })
  .strict();

const workload = z
  .object({
    trace: trace.optional(),
    arrival: arrival.optional(),
    concurrency: num({ int: true, gte: 1, lte: MAX_CONCURRENCY, why: 'each client holds a request in memory' }).optional(),
    input_tokens: lengthDist.optional(),
    output_tokens: lengthDist.optional(),
    num_requests: num({ int: true, gte: 1, lte: MAX_REQUESTS, why: 'the summary keeps every request\'s latencies in memory' }).optional(),
    duration_s: seconds({ gt: 0 }).optional(),
    prefix: z.object({ groups: positiveInt, tokens, fraction: num({ gt: 0, lte: 1 }) }).strict().optional(),
    sessions: z.object({ turns: lengthDist, think_time_s: seconds({ gte: 0 }) }).strict().optional(),
    priority: z
      .object({
        classes: z
          .array(z.object({ priority: num({ int: true, gte: -1e9, lte: 1e9 }), weight: positive, name: text.optional() }).strict())
          .min(1, { message: 'must list at least one class' }),
      })
      .strict()
      .optional(),
    timeout_s: seconds({ gt: 0 }).optional(),
    n: samples.optional(),
    best_of: samples.optional(),
    max_tokens: tokens.optional(),
    models: z
      .array(z.object({ name: text, weight: num({ gt: 0, lte: 1e6, why: 'a relative weight' }) }).strict())
      .min(1, { message: 'must list at least one model' })
      .optional(),
    users: num({ int: true, gte: 1, lte: MAX_REQUESTS, why: 'at most one user per request' }).optional(),
    lora: workloadLora.optional(),
  })
  .strict();

const hardware = z
  .object({
    gpu: text.optional(),
    tensor_parallel: positiveInt.optional(),
    pipeline_parallel: positiveInt.optional(),
    gpu_memory_utilization: num({ gt: 0, lte: 1 }).optional(),
    profile: text.optional(),
  })
  .strict();

const precision = z
  .object({
    weights: oneOf(['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4']).optional(),
    kv_cache: oneOf(['fp16', 'bf16', 'fp8']).optional(),
  })
  .strict();

const price = num({ gte: 0, lte: MAX_USD_PER_GPU_HOUR, why: 'larger prices overflow the cost figures' });
/** One price for every GPU, or a map GPU name → price: a map's entries are checked as prices, each under its own key. */
const priceOrMap = z.custom<number | Record<string, number>>((v) => typeof v === 'number' || (typeof v === 'object' && v !== null && !Array.isArray(v)), {
  message: 'must be a price per GPU-hour (a number) or a map of GPU name → price',
}).superRefine((v, ctx) => {
  const entries: [string | undefined, unknown][] = typeof v === 'number' ? [[undefined, v]] : Object.entries(v);
  if (entries.length === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must list at least one GPU' });
  for (const [gpu, value] of entries) {
    const parsed = price.safeParse(value);
    if (!parsed.success) ctx.addIssue({ code: z.ZodIssueCode.custom, path: gpu === undefined ? [] : [gpu], message: parsed.error.issues[0].message });
  }
});

function buildSchema(names: PolicyNames) {
  const engine = engineSchema(names.schedulers);
  return z
    .object({
      seed: intAtLeast(0).optional(),
      model: text,
      hardware: hardware.extend({ gpu: text }),
      precision: precision.optional(),
      cluster: z
        .object({ replicas: poolReplicas.optional(), max_retries: maxRetries.optional(), ...routerSettings(names.routers) })
        .strict()
        .optional(),
      pools: z
        .array(poolSchema(names.routers, { hardware, precision, engine }))
        .min(1, { message: 'must list at least one pool' })
        .optional(),
      traffic: trafficSchema.optional(),
      transfer: transferSchema.optional(),
      autoscale: autoscaleSchema.optional(),
      cold_start: coldStartSchema.optional(),
      failures: failuresSchema.optional(),
      faults: faultsSchema.optional(),
      engine: engine.optional(),
      workload,
      slo: z
        .object({ ttft_ms: millis({ gt: 0 }).optional(), tpot_ms: millis({ gt: 0 }).optional(), e2e_ms: millis({ gt: 0 }).optional() })
        .strict()
        .optional(),
      metrics: z.object({ warmup_s: seconds({ gte: 0 }).optional(), uncertainty: bool.optional(), interval_s: seconds({ gt: 0 }).optional() }).strict().optional(),
      cost: z
        .object({ usd_per_gpu_hour: priceOrMap.optional() })
        .strict()
        .optional(),
      output: z.object({ dir: text.optional(), tokens: bool.optional() }).strict().optional(),
      // Read by `infersim sweep` only (keys are dotted paths; each list's values are checked per point, as --set values are).
      sweep: z
        .object({ grid: sweepLists.optional(), zip: sweepLists.optional() })
        .strict()
        .optional(),
    })
    .strict();
}

const schemas = new Map<string, ReturnType<typeof buildSchema>>();

/** The scenario schema for these policy names (what the registries hold), built once per set of names. */
export function scenarioSchema(names: PolicyNames): ReturnType<typeof buildSchema> {
  const key = `${names.schedulers.join('\u0000')}\u0001${names.routers.join('\u0000')}`;
  let schema = schemas.get(key);
  if (schema === undefined) schemas.set(key, (schema = buildSchema(names)));
  return schema;
}

// The schema must produce exactly ScenarioInput: a key added to one and not the other fails here.
type Parsed = z.infer<ReturnType<typeof buildSchema>>;
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaMatchesTypes: Same<Parsed, ScenarioInput> = true;
void schemaMatchesTypes;
