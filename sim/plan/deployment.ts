import { runSimulation } from '../cluster/simulate.js';
import { InfersimError } from '../errors.js';
import { getGpu } from '../hardware/catalog.js';
import type { GroupSummary } from '../metrics/group.js';
import type { Summary } from '../metrics/summary.js';
import type { LengthDist, ScenarioInput, WeightDtype } from '../scenario/types.js';
import { parseScenarioObject } from '../setup/load.js';
import { resolveScenario } from '../setup/resolve.js';
import {
  DEFAULT_ATTAINMENT, DEFAULT_TENSOR_PARALLEL, PERCENTILE_TARGETS, planWorkload,
  type DeploymentInput, type PercentileTarget,
} from './deploymentSchema.js';

/**
 * Steady state: 60 s of arrivals at the peak rate, at least 300 and at most 3,000 requests, the
 * first 10 % of that span left out as warmup. The warmup drops the empty cluster's first requests,
 * which see no queue; a deployment short of capacity builds a queue that grows through the whole
 * span, so a minute of it pushes far more than 1 % of requests past any target. The tests re-run
 * each recommendation on 3× the requests to hold the verdict to that.
 */
export const STEADY_SPAN_S = 60;
export const MIN_REQUESTS = 300;
export const MAX_REQUESTS = 3000;
export const WARMUP_FRACTION = 0.1;
export const HOURS_PER_MONTH = 730;

export interface Candidate {
  gpu: string;
  tensor_parallel: number;
  precision: WeightDtype;
}

export interface Deployment extends Candidate {
  replicas: number;
  gpus: number;
  engine: { max_num_seqs: number; max_num_batched_tokens: number; max_model_len: number };
  predicted: {
    ttft_s: Percentiles;
    tpot_s: Percentiles;
    e2e_s: Percentiles;
    attainment: number | null;
    requests_per_s: number | null;
    output_tokens_per_s: number | null;
  };
  usd_per_gpu_hour: number;
  usd_per_hour: number;
  usd_per_month: number;
  /** At the mean rate (rate_per_s), not the peak the deployment is sized for. */
  usd_per_million_output_tokens: number | null;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface Pruned extends Candidate {
  reason: string;
}

export interface DeploymentPlan {
  model: string;
  workload: { rate_per_s: number; peak_factor: number; simulated_rate_per_s: number; requests: number; warmup_s: number };
  slo: Record<string, number>;
  recommended: Deployment | null;
  /** Every other feasible candidate, cheapest first. */
  alternatives: Deployment[];
  pruned: Pruned[];
  /** When nothing is recommended: why, in one line. */
  verdict?: string;
}

/** The run length and warmup this plan's steady state takes. */
export function steadyState(plan: DeploymentInput): { rate: number; requests: number; warmup_s: number } {
  const rate = plan.workload.rate_per_s * (plan.workload.peak_factor ?? 1);
  const requests = Math.min(MAX_REQUESTS, Math.max(MIN_REQUESTS, Math.ceil(rate * STEADY_SPAN_S)));
  return { rate, requests, warmup_s: (WARMUP_FRACTION * requests) / rate };
}

/** The runnable scenario of one candidate at a replica count; `scale` lengthens the run (the tests' check). */
export function deploymentScenario(plan: DeploymentInput, c: Candidate, replicas: number, scale = 1): ScenarioInput {
  const { rate, requests, warmup_s } = steadyState(plan);
  const len = maxModelLen(plan.workload.input_tokens, plan.workload.output_tokens);
  const s = plan.slo;
  const slo = Object.fromEntries((['ttft_ms', 'tpot_ms', 'e2e_ms'] as const).filter((k) => s[k] !== undefined).map((k) => [k, s[k]]));
  return {
    seed: plan.seed ?? 1,
    model: plan.model,
    hardware: { gpu: c.gpu, tensor_parallel: c.tensor_parallel },
    precision: { weights: c.precision },
    cluster: { replicas },
    ...(len === undefined ? {} : { engine: { max_model_len: len } }),
    workload: planWorkload(plan, rate, requests * scale) as ScenarioInput['workload'],
    slo,
    metrics: { warmup_s, uncertainty: false },
    cost: { usd_per_gpu_hour: priceOf(plan, c.gpu) },
  };
}

/**
 * The longest request the workload can send, when its lengths are bounded: the engine is started
 * with that as max_model_len, as a deployment would be, instead of the model's full context, whose
 * KV a small GPU could not hold for even one request.
 */
function maxModelLen(input: number | LengthDist, output: number | LengthDist): number | undefined {
  const upper = (d: number | LengthDist): number | undefined => {
    if (typeof d === 'number') return d;
    if (d.dist === 'fixed') return d.value;
    if (d.dist === 'uniform' || d.dist === 'zipf') return d.max;
    return d.dist === 'empirical' ? undefined : d.max;
  };
  const a = upper(input);
  const b = upper(output);
  return a === undefined || b === undefined ? undefined : a + b;
}

export function priceOf(plan: DeploymentInput, gpu: string): number {
  const p = plan.cost?.usd_per_gpu_hour;
  if (typeof p === 'number') return p;
  return p?.[gpu] ?? getGpu(gpu).usd_per_gpu_hour;
}

/** Whether a run meets the plan's SLO, and if not, the first target it misses. */
export function sloVerdict(plan: DeploymentInput, o: GroupSummary): { ok: boolean; why?: string } {
  const s = plan.slo;
  for (const key of PERCENTILE_TARGETS) {
    const target = s[key];
    if (target === undefined) continue;
    const value = percentileOf(o, key);
    if (value === null || value * 1000 > target) {
      return { ok: false, why: `${key.replace(/_ms$/, '')} ${value === null ? 'not measured' : `${(value * 1000).toFixed(0)} ms`} > ${target} ms` };
    }
  }
  const want = s.attainment ?? DEFAULT_ATTAINMENT;
  const got = o.slo.attainment;
  if (got === null || got < want) return { ok: false, why: `attainment ${got === null ? 'not measured' : pct(got)} < ${pct(want)}` };
  return { ok: true };
}

const pct = (f: number): string => `${(f * 100).toFixed(1)} %`;

function percentileOf(o: GroupSummary, key: PercentileTarget): number | null {
  const [metric, p] = key.split('_') as ['ttft' | 'tpot' | 'e2e', 'p95' | 'p99'];
  return o[`${metric}_s`][p];
}

/** Every (gpu, tensor_parallel, precision) the plan searches, in its order. */
export function candidates(plan: DeploymentInput): Candidate[] {
  const tps = plan.search.tensor_parallel ?? DEFAULT_TENSOR_PARALLEL;
  const precisions = plan.search.precisions ?? ['bf16'];
  return plan.search.gpus.flatMap((gpu) => tps.flatMap((tensor_parallel) => precisions.map((precision) => ({ gpu, tensor_parallel, precision }))));
}

/** Resolves a candidate without running it: the message of the first problem, or undefined when it can run. */
export function cannotRun(plan: DeploymentInput, c: Candidate): string | undefined {
  try {
    resolveScenario(parseScenarioObject(deploymentScenario(plan, c, 1)));
    return undefined;
  } catch (err) {
    if (err instanceof InfersimError) return err.message;
    throw err;
  }
}

export function simulateDeployment(plan: DeploymentInput, c: Candidate, replicas: number, scale = 1): Summary {
  return runSimulation(resolveScenario(parseScenarioObject(deploymentScenario(plan, c, replicas, scale)))).summary;
}

export function describeDeployment(plan: DeploymentInput, c: Candidate, replicas: number, summary: Summary): Deployment {
  const setup = resolveScenario(parseScenarioObject(deploymentScenario(plan, c, replicas)));
  const e = setup.scenario.engine;
  const o = summary.overall;
  const three = (st: { p50: number | null; p95: number | null; p99: number | null }): Percentiles => ({ p50: st.p50, p95: st.p95, p99: st.p99 });
  const price = priceOf(plan, c.gpu);
  const perHour = replicas * c.tensor_parallel * price;
  const outPerRequest = o.requests.finished > 0 ? o.tokens.output / o.requests.finished : 0;
  const tokensPerHour = plan.workload.rate_per_s * outPerRequest * 3600;
  return {
    ...c,
    replicas,
    gpus: replicas * c.tensor_parallel,
    engine: { max_num_seqs: e.max_num_seqs, max_num_batched_tokens: e.max_num_batched_tokens, max_model_len: e.max_model_len },
    predicted: {
      ttft_s: three(o.ttft_s), tpot_s: three(o.tpot_s), e2e_s: three(o.e2e_s),
      attainment: o.slo.attainment,
      requests_per_s: o.throughput.requests_per_s,
      output_tokens_per_s: o.throughput.output_tokens_per_s,
    },
    usd_per_gpu_hour: price,
    usd_per_hour: perHour,
    usd_per_month: perHour * HOURS_PER_MONTH,
    usd_per_million_output_tokens: tokensPerHour > 0 ? (perHour / tokensPerHour) * 1e6 : null,
  };
}
