import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { fieldError } from '../errors.js';
import { GPU_CATALOG } from '../hardware/catalog.js';
import { toValidationError } from '../scenario/issues.js';
import { num, oneOf, text } from '../scenario/leaves.js';
import { looksLikePath } from '../scenario/paths.js';
import { nestedTooDeep, readConfigFile, TOO_DEEP } from '../scenario/read.js';
import type { LengthDist, WeightDtype } from '../scenario/types.js';
import { parseScenarioObject } from '../setup/load.js';
import { getModel } from '../model/catalog.js';
import { PRICE_PRESET_NAMES, PRICE_PRESETS } from './prices.js';

export const WEIGHT_DTYPES = ['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4'] as const satisfies readonly WeightDtype[];
export const DEFAULT_TENSOR_PARALLEL = [1, 2, 4, 8];
export const DEFAULT_MAX_REPLICAS = 64;
export const DEFAULT_ATTAINMENT = 0.99;

/** Percentile targets, checked on the run's summary; the per-request targets define attainment. */
export const PERCENTILE_TARGETS = ['ttft_p95_ms', 'ttft_p99_ms', 'tpot_p95_ms', 'tpot_p99_ms', 'itl_p95_ms', 'itl_p99_ms', 'e2e_p95_ms', 'e2e_p99_ms'] as const;
export const REQUEST_TARGETS = ['ttft_ms', 'tpot_ms', 'e2e_ms'] as const;
export type PercentileTarget = (typeof PERCENTILE_TARGETS)[number];
export type RequestTarget = (typeof REQUEST_TARGETS)[number];

export type PlanSlo = Partial<Record<PercentileTarget | RequestTarget, number>> & { attainment?: number };

export const REDUNDANCY = ['none', 'n+1', 'n+2'] as const;
export const CRITICALITY = ['low', 'medium', 'high'] as const;
export type Redundancy = (typeof REDUNDANCY)[number];

/**
 * Spares by criticality, as whole replicas beyond what the SLO needs: a high-criticality service
 * keeps N+2, so one replica can be down for an upgrade while another fails (Beyer et al., "Site
 * Reliability Engineering", O'Reilly 2016, ch. 18 on Auxon's "N+2" intent-based capacity plans);
 * medium keeps N+1 for unplanned failures only; low keeps none.
 */
export const CRITICALITY_REDUNDANCY: Record<(typeof CRITICALITY)[number], Redundancy> = { low: 'none', medium: 'n+1', high: 'n+2' };

export interface DeploymentPolicy {
  redundancy?: Redundancy;
  criticality?: (typeof CRITICALITY)[number];
  /** Size for the peak rate ÷ this: 0.8 leaves a fifth of the capacity free. */
  target_utilization?: number;
}

export interface DeploymentInput {
  /** One model, or several to compare (each candidate is one of them). */
  model: string | string[];
  workload: { rate_per_s: number; input_tokens: number | LengthDist; output_tokens: number | LengthDist; peak_factor?: number };
  slo: PlanSlo;
  search: {
    gpus: string[];
    tensor_parallel?: number[];
    precisions?: WeightDtype[];
    max_replicas?: number;
    /** Engine knobs to search; absent: the engine's default for each candidate. */
    max_num_seqs?: number[];
    max_num_batched_tokens?: number[];
  };
  policy?: DeploymentPolicy;
  /** Prices: one for every GPU, or per GPU type, over a cloud's preset (prices.ts); absent: the catalog's. */
  cost?: { usd_per_gpu_hour?: number | Record<string, number>; preset?: string };
  seed?: number;
}

/** A plan file is a few lines; anything this large is not one. */
const MAX_PLAN_BYTES = 1024 * 1024;

const ms = num({ gt: 0, lte: 1e9, why: 'past a million seconds no request is waited for' });
// The distribution's own keys are checked by the scenario schema (planWorkload), which owns them.
const length = z.custom<number | LengthDist>(
  (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1) || (typeof v === 'object' && v !== null && !Array.isArray(v)),
  { message: 'must be an integer ≥ 1 (every request has that many tokens) or a distribution such as { dist: lognormal, mean: 800, sigma: 0.6 }' },
);
const price = num({ gte: 0, lte: 1e6, why: 'larger prices overflow the cost figures' });

const slo = z
  .object({
    ...Object.fromEntries([...PERCENTILE_TARGETS, ...REQUEST_TARGETS].map((k) => [k, ms.optional()])),
    attainment: num({ gt: 0, lte: 1 }).optional(),
  })
  .strict();

const knob = (why: string) => z.array(num({ int: true, gte: 1, lte: 1 << 20, why })).min(1).optional();

const schema = z
  .object({
    model: z.union([text, z.array(text).min(1).max(8)]),
    workload: z
      .object({
        rate_per_s: num({ gt: 0, lte: 1e5, why: 'beyond any single deployment a plan could simulate' }),
        input_tokens: length,
        output_tokens: length,
        peak_factor: num({ gte: 1, lte: 100, why: 'peaks beyond 100× the mean are a different workload' }).optional(),
      })
      .strict(),
    slo,
    search: z
      .object({
        gpus: z.array(oneOf(Object.keys(GPU_CATALOG))).min(1),
        tensor_parallel: z.array(num({ int: true, gte: 1, lte: 64, why: 'no node holds more GPUs' })).min(1).optional(),
        precisions: z.array(oneOf(WEIGHT_DTYPES)).min(1).optional(),
        max_replicas: num({ int: true, gte: 1, lte: 4096, why: 'each step of the search simulates every replica' }).optional(),
        max_num_seqs: knob('no engine batches more sequences'),
        max_num_batched_tokens: knob('no engine schedules more tokens in one step'),
      })
      .strict(),
    policy: z
      .object({
        redundancy: oneOf(REDUNDANCY).optional(),
        criticality: oneOf(CRITICALITY).optional(),
        target_utilization: num({ gt: 0, lte: 1, why: 'a fraction of what the deployment can serve' }).optional(),
      })
      .strict()
      .optional(),
    cost: z
      .object({ usd_per_gpu_hour: z.union([price, z.record(price)]).optional(), preset: oneOf(PRICE_PRESET_NAMES).optional() })
      .strict()
      .refine((c) => c.usd_per_gpu_hour !== undefined || c.preset !== undefined, { message: `give usd_per_gpu_hour or a preset (${PRICE_PRESET_NAMES.join(', ')})` })
      .optional(),
    seed: num({ int: true, gte: 0, lte: 2 ** 31 }).optional(),
  })
  .strict()
  .superRefine(crossChecks);

/** Checks between keys; each looks only at values of the right type, as the rest may be invalid. */
function crossChecks(p: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const s = (p.slo ?? {}) as Record<string, unknown>;
  if (![...PERCENTILE_TARGETS, ...REQUEST_TARGETS].some((k) => s[k] !== undefined)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['slo'], message: `give at least one target: ${[...PERCENTILE_TARGETS, ...REQUEST_TARGETS].join(', ')}` });
  }
  const gpus = (p.search as { gpus?: unknown } | undefined)?.gpus;
  const cost = (p.cost ?? {}) as { usd_per_gpu_hour?: unknown; preset?: unknown };
  const prices = cost.usd_per_gpu_hour;
  if (typeof prices === 'object' && prices !== null) {
    for (const gpu of Object.keys(prices)) {
      if (!Object.hasOwn(GPU_CATALOG, gpu)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['cost', 'usd_per_gpu_hour', gpu], message: `names no GPU in the catalog; known: ${Object.keys(GPU_CATALOG).join(', ')}` });
    }
  }
  const preset = typeof cost.preset === 'string' ? PRICE_PRESETS[cost.preset] : undefined;
  if (Array.isArray(gpus) && typeof prices !== 'number' && (typeof prices === 'object' || preset !== undefined)) {
    const given = (g: string) => (prices as Record<string, unknown> | undefined)?.[g] !== undefined || preset?.usd_per_gpu_hour[g] !== undefined;
    const missing = gpus.filter((g) => typeof g === 'string' && !given(g));
    if (missing.length > 0) {
      const path = preset === undefined ? ['cost', 'usd_per_gpu_hour'] : ['cost', 'preset'];
      const message = preset === undefined
        ? `needs a price for every GPU searched; missing ${missing.join(', ')}`
        : `${String(cost.preset)} (as of ${preset.as_of}) has no price for ${missing.join(', ')}; give it in cost.usd_per_gpu_hour`;
      ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
    }
  }
}

/** Validation only: a plain object → the plan, one line per problem. */
export function parseDeploymentObject(data: unknown): DeploymentInput {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw fieldError('plan', 'must be a mapping', data);
  const result = schema.safeParse(data);
  if (!result.success) throw toValidationError(result.error, data, schema);
  const plan = result.data as DeploymentInput;
  checkModels(plan);
  // The lengths' distributions are the scenario's vocabulary: let its schema judge them, under the same key names.
  parseScenarioObject({ model: planModels(plan)[0], hardware: { gpu: plan.search.gpus[0] }, workload: planWorkload(plan, 1, 100) });
  return plan;
}

/** Each model known (a catalog name, or a config.json the loader reads), none twice: found now rather than pruned from every candidate. */
function checkModels(plan: DeploymentInput): void {
  const models = planModels(plan);
  models.forEach((m, i) => {
    const field = Array.isArray(plan.model) ? `model[${i}]` : 'model';
    if (models.indexOf(m) !== i) throw fieldError(field, `repeats model[${models.indexOf(m)}]: list each model once`, m);
    getModel(m, field);
  });
}

export const planModels = (plan: DeploymentInput): string[] => [plan.model].flat();

/** The spare replicas the plan keeps beyond what its SLO needs: `redundancy`, else its criticality's. */
export function spareReplicas(plan: DeploymentInput): number {
  const r = plan.policy?.redundancy ?? CRITICALITY_REDUNDANCY[plan.policy?.criticality ?? 'low'];
  return r === 'none' ? 0 : Number(r.slice(2));
}

/** The scenario workload a plan describes: Poisson arrivals at the peak rate. */
export function planWorkload(plan: DeploymentInput, rate: number, requests: number): Record<string, unknown> {
  const dist = (v: number | LengthDist): LengthDist => (typeof v === 'number' ? { dist: 'fixed', value: v } : v);
  return {
    arrival: { process: 'poisson', rate_per_s: rate },
    input_tokens: dist(plan.workload.input_tokens),
    output_tokens: dist(plan.workload.output_tokens),
    num_requests: requests,
  };
}

/** Reads a YAML or JSON plan file; a model given as a config.json path resolves against the file's folder. */
export function loadDeploymentFile(file: string, cwd = process.cwd()): DeploymentInput {
  return parseDeploymentObject(readDeploymentData(file, cwd));
}

/**
 * A plan file's keys before validation (a template fills what it leaves out), with a model given
 * as a config.json path resolved against the file's folder.
 */
export function readDeploymentData(file: string, cwd = process.cwd()): Record<string, unknown> {
  const path = resolve(cwd, file);
  const data = readConfigFile(path, 'plan', MAX_PLAN_BYTES);
  if (nestedTooDeep(data)) throw fieldError('plan', TOO_DEEP, file);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw fieldError('plan', 'must be a mapping', data);
  const model = (data as Record<string, unknown>).model;
  const local = (m: unknown): unknown => (typeof m === 'string' && looksLikePath(m) ? resolve(dirname(path), m) : m);
  if (model === undefined) return data as Record<string, unknown>;
  return { ...(data as Record<string, unknown>), model: Array.isArray(model) ? model.map(local) : local(model) };
}

