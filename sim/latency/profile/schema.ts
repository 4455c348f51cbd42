import { z } from 'zod';

/*
 * The profile file format, `infersim-profile/1` (documented in profiles/README.md). Validation is
 * strict (unknown keys are errors) so a typo in a hand-edited profile surfaces instead of being
 * silently ignored.
 */

/**
 * Longest time a profile may give one operator, one step's fixed cost or one kernel, s. Nothing a
 * GPU runs within one engine step takes an hour; larger values are corrupt files, and 1e308 ran the
 * simulated clock to Infinity.
 */
export const MAX_PROFILE_TIME_S = 3600;
const TIME_LIMIT = { message: `must be ≤ ${MAX_PROFILE_TIME_S} s (no operator or step cost of a profile takes an hour)` };

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();
const time = positive.max(MAX_PROFILE_TIME_S, TIME_LIMIT);
const nonNegativeTime = nonNegative.max(MAX_PROFILE_TIME_S, TIME_LIMIT);
const count = z.number().int().positive();

export const PROFILE_FORMAT = 'infersim-profile/1';
/**
 * `transferred`: another GPU's fitted coefficients carried over to a GPU of the same silicon (same
 * die, SMs, clocks and links, other memory), named in `provenance.transferred_from`; see transfer.ts.
 */
export const PROFILE_SOURCES = ['measured', 'analytic', 'fitted', 'transferred'] as const;
export const GEMM_DTYPES = ['bf16', 'fp16', 'fp8', 'int8'] as const;
export const LINKS = ['nvlink', 'pcie'] as const;
export const UNCERTAINTY_KEYS = [
  'gemm',
  'attention_prefill',
  'attention_decode',
  'elementwise',
  'all_reduce',
  'send_recv',
  'cpu',
  'iteration',
] as const;

const spread = { p10_s: time.optional(), p90_s: time.optional(), kernel: z.string().min(1).optional() };

/**
 * What a GEMM computes in a transformer layer, when a table row knows it: the input data differs by
 * role (the down projection reads SiLU·up activations), and on H100 that alone shifts the time by
 * several percent at one shape (data-dependent power and clocks), so lookups prefer rows of the role.
 */
export const GEMM_ROLES = ['qkv', 'o', 'up', 'down', 'lm_head'] as const;

const gemmRow = z
  .object({ dtype: z.enum(GEMM_DTYPES), m: count, n: count, k: count, role: z.enum(GEMM_ROLES).optional(), time_s: time, ...spread })
  .strict();

const attentionPrefillRow = z
  .object({
    dtype: z.enum(GEMM_DTYPES),
    seqs: count,
    query_tokens: count,
    context_tokens: count,
    heads: count,
    kv_heads: count,
    head_dim: count,
    causal: z.boolean().optional(),
    time_s: time,
    ...spread,
  })
  .strict()
  .refine((r) => r.context_tokens >= r.query_tokens, { message: 'context_tokens must be ≥ query_tokens', path: ['context_tokens'] });

const attentionDecodeRow = z
  .object({
    dtype: z.enum(GEMM_DTYPES),
    seqs: count,
    context_tokens: count,
    heads: count,
    kv_heads: count,
    head_dim: count,
    block_size: count,
    time_s: time,
    ...spread,
  })
  .strict();

const elementwiseRow = z.object({ op: z.string().min(1), bytes: count, time_s: time, ...spread }).strict();
const memcpyRow = z.object({ direction: z.enum(['d2d', 'h2d', 'd2h']), bytes: count, time_s: time, ...spread }).strict();
const allReduceRow = z.object({ bytes: count, group_size: z.number().int().min(2), link: z.enum(LINKS), time_s: time, ...spread }).strict();
const sendRecvRow = z.object({ bytes: count, link: z.enum(LINKS), time_s: time, ...spread }).strict();

const band = z
  .object({
    // Re-runs at the edges scale every step by 1 + low and 1 + high: a scale ≤ 0 stops time, and
    // one over ×11 is no error band but a different model.
    low: z.number().gt(-1, { message: 'must be > -1 (steps are scaled by 1 + low, which must stay positive)' }).max(0),
    high: z.number().min(0).max(10, { message: 'must be ≤ 10 (steps are scaled by 1 + high; a model off by more than ×11 states no band)' }),
    median_abs: nonNegative.optional(),
    p90_abs: nonNegative.optional(),
    n: z.number().int().nonnegative().optional(),
    basis: z.string().optional(),
  })
  .strict();

export const profileSchema = z
  .object({
    format: z.literal(PROFILE_FORMAT),
    source: z.enum(PROFILE_SOURCES),
    gpu: z
      .object({
        catalog: z.string().min(1),
        name: z.string().min(1),
        memory_bytes: count.optional(),
        sm_count: count.optional(),
        sm_clock_mhz: positive.optional(),
        memory_clock_mhz: positive.optional(),
        compute_capability: z.string().optional(),
        driver_version: z.string().optional(),
        cuda_version: z.string().optional(),
      })
      .strict(),
    provenance: z
      .object({
        description: z.string().min(1),
        date: z.string().min(1),
        probe_version: z.string().optional(),
        command: z.string().optional(),
        grid: z.string().optional(),
        parts: z.array(z.string()).optional(),
        references: z.array(z.string()).optional(),
        /** Fitted profiles: the models the coefficients were fitted on (validation holds them out). */
        trained_on: z.array(z.string()).optional(),
        /** Transferred profiles: the shipped profile of the sibling GPU whose coefficients were carried over. */
        transferred_from: z.string().min(1).optional(),
      })
      .strict(),
    /** A shipped profile of the same GPU whose coefficients stand in where this one has none (e.g. a probe's tables on a fitted profile). */
    base: z.string().min(1).optional(),
    efficiency: z.record(z.string(), z.union([nonNegative, z.record(z.string(), nonNegative)])).optional(),
    uncertainty: z.object(Object.fromEntries(UNCERTAINTY_KEYS.map((k) => [k, band.optional()]))).strict().optional(),
    tables: z
      .object({
        gemm: z.array(gemmRow).optional(),
        attention_prefill: z.array(attentionPrefillRow).optional(),
        attention_decode: z.array(attentionDecodeRow).optional(),
        elementwise: z.array(elementwiseRow).optional(),
        memcpy: z.array(memcpyRow).optional(),
        all_reduce: z.array(allReduceRow).optional(),
        send_recv: z.array(sendRecvRow).optional(),
      })
      .strict()
      .optional(),
    scalars: z
      .object({ kernel_launch_s: time.optional(), cpu_step_s: nonNegativeTime.optional(), cpu_per_seq_s: nonNegativeTime.optional() })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    // A transferred profile's numbers are another GPU's: it must say whose.
    if (p.source === 'transferred' && p.provenance.transferred_from === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['provenance', 'transferred_from'], message: 'a transferred profile must name the sibling profile it was transferred from' });
    }
    if (p.source !== 'transferred' && p.provenance.transferred_from !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['provenance', 'transferred_from'], message: `only a transferred profile names a sibling (source is ${JSON.stringify(p.source)})` });
    }
  });

export type Profile = z.infer<typeof profileSchema>;
export type GemmRow = z.infer<typeof gemmRow>;
export type GemmRole = (typeof GEMM_ROLES)[number];
export type AttentionPrefillRow = z.infer<typeof attentionPrefillRow>;
export type AttentionDecodeRow = z.infer<typeof attentionDecodeRow>;
export type ElementwiseRow = z.infer<typeof elementwiseRow>;
export type AllReduceRow = z.infer<typeof allReduceRow>;
export type SendRecvRow = z.infer<typeof sendRecvRow>;
export type UncertaintyBand = z.infer<typeof band>;
export type UncertaintyKey = (typeof UNCERTAINTY_KEYS)[number];
