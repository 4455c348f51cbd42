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

export const WEIGHT_DTYPES = ['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4'] as const satisfies readonly WeightDtype[];
export const DEFAULT_TENSOR_PARALLEL = [1, 2, 4, 8];
export const DEFAULT_MAX_REPLICAS = 64;
export const DEFAULT_ATTAINMENT = 0.99;

/** Percentile targets, checked on the run's summary; the per-request targets define attainment. */
export const PERCENTILE_TARGETS = ['ttft_p95_ms', 'ttft_p99_ms', 'tpot_p95_ms', 'tpot_p99_ms', 'e2e_p95_ms', 'e2e_p99_ms'] as const;
export const REQUEST_TARGETS = ['ttft_ms', 'tpot_ms', 'e2e_ms'] as const;
export type PercentileTarget = (typeof PERCENTILE_TARGETS)[number];
export type RequestTarget = (typeof REQUEST_TARGETS)[number];

export type PlanSlo = Partial<Record<PercentileTarget | RequestTarget, number>> & { attainment?: number };

export interface DeploymentInput {
  model: string;
  workload: { rate_per_s: number; input_tokens: number | LengthDist; output_tokens: number | LengthDist; peak_factor?: number };
  slo: PlanSlo;
  search: { gpus: string[]; tensor_parallel?: number[]; precisions?: WeightDtype[]; max_replicas?: number };
  cost?: { usd_per_gpu_hour: number | Record<string, number> };
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

const schema = z
  .object({
    model: text,
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
      })
      .strict(),
    cost: z.object({ usd_per_gpu_hour: z.union([price, z.record(price)]) }).strict().optional(),
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
  const prices = (p.cost as { usd_per_gpu_hour?: unknown } | undefined)?.usd_per_gpu_hour;
  if (Array.isArray(gpus) && typeof prices === 'object' && prices !== null) {
    const missing = gpus.filter((g) => typeof g === 'string' && (prices as Record<string, unknown>)[g] === undefined);
    if (missing.length > 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['cost', 'usd_per_gpu_hour'], message: `needs a price for every GPU searched; missing ${missing.join(', ')}` });
    }
  }
}

/** Validation only: a plain object → the plan, one line per problem. */
export function parseDeploymentObject(data: unknown): DeploymentInput {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw fieldError('plan', 'must be a mapping', data);
  const result = schema.safeParse(data);
  if (!result.success) throw toValidationError(result.error, data, schema);
  const plan = result.data as DeploymentInput;
  // The lengths' distributions are the scenario's vocabulary: let its schema judge them, under the same key names.
  parseScenarioObject({ model: plan.model, hardware: { gpu: plan.search.gpus[0] }, workload: planWorkload(plan, 1, 100) });
  return plan;
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
  return typeof model === 'string' && looksLikePath(model) ? { ...data, model: resolve(dirname(path), model) } : (data as Record<string, unknown>);
}

