import { runSimulation } from '../cluster/simulate.js';
import { InfersimError } from '../errors.js';
import { getGpu } from '../hardware/catalog.js';
import type { GroupSummary } from '../metrics/group.js';
import type { Bounds, Summary } from '../metrics/summary.js';
import type { LengthDist, ScenarioInput, WeightDtype } from '../scenario/types.js';
import { parseScenarioObject } from '../setup/load.js';
import { resolveScenario } from '../setup/resolve.js';
import { floorVerdict, latencyFloor } from './bounds.js';
import { PRICE_PRESETS } from './prices.js';
import {
  DEFAULT_ATTAINMENT, DEFAULT_TENSOR_PARALLEL, PERCENTILE_TARGETS, planModels, planWorkload,
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
/** `--thorough` runs this many times longer (span and cap). */
export const THOROUGH_FACTOR = 3;
export const WARMUP_FRACTION = 0.1;
export const HOURS_PER_MONTH = 730;

export interface Candidate {
  model: string;
  gpu: string;
  tensor_parallel: number;
  precision: WeightDtype;
  /** Engine knobs the plan searches; absent: the engine's default for the candidate. */
  max_num_seqs?: number;
  max_num_batched_tokens?: number;
}

export interface Deployment extends Candidate {
  /** Replicas deployed: those the SLO needs plus the spares the policy keeps. */
  replicas: number;
  /** Replicas the SLO needs; the predictions are for this many, i.e. with every spare down. */
  slo_replicas: number;
  spare_replicas: number;
  gpus: number;
  engine: { max_num_seqs: number; max_num_batched_tokens: number; max_model_len: number };
  predicted: {
    ttft_s: Percentiles;
    tpot_s: Percentiles;
    itl_s: Percentiles;
    e2e_s: Percentiles;
    attainment: number | null;
    requests_per_s: number | null;
    output_tokens_per_s: number | null;
  };
  /**
   * The latency model's error band carried to the predictions: the same run with every iteration
   * time at the band's two edges (summary.json `uncertainty`). Only on the recommendation; null
   * where the profile states no band.
   */
  band?: PredictionBand | null;
  usd_per_gpu_hour: number;
  usd_per_hour: number;
  usd_per_month: number;
  /** At the mean rate (rate_per_s), not the peak the deployment is sized for. */
  usd_per_million_output_tokens: number | null;
}

export interface PredictionBand {
  relative: { low: number; high: number; basis: string };
  ttft_p99_s: Bounds;
  tpot_p99_s: Bounds;
  itl_p99_s: Bounds;
  e2e_p99_s: Bounds;
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
  model: string | string[];
  workload: {
    rate_per_s: number;
    peak_factor: number;
    target_utilization: number;
    simulated_rate_per_s: number;
    requests: number;
    warmup_s: number;
    thorough: boolean;
  };
  slo: Record<string, number>;
  /** Where the prices come from: the plan file, a cloud preset (with its date), or the GPU catalog. */
  price_source: string;
  recommended: Deployment | null;
  /** Every other feasible candidate, cheapest first. */
  alternatives: Deployment[];
  /** Cost against TTFT p99 over every deployment the search simulated that met the SLO: none cheaper and faster. */
  pareto: ParetoPoint[];
  pruned: Pruned[];
  /** When nothing is recommended: why, in one line. */
  verdict?: string;
}

export interface ParetoPoint extends Candidate {
  replicas: number;
  usd_per_hour: number;
  ttft_p99_s: number | null;
  tpot_p95_s: number | null;
  e2e_p99_s: number | null;
}

/**
 * How each simulated run is made: `scale` lengthens it (the tests' check), `thorough` is
 * --thorough, `band` adds the band's runs, `deployed` runs at the peak rate itself rather than
 * the peak over target_utilization (the scenario --emit-scenario writes).
 */
export interface RunLength {
  scale?: number;
  thorough?: boolean;
  band?: boolean;
  deployed?: boolean;
}

/** The rate each run simulates, its request count and warmup: the peak over the target utilization, for a steady span. */
export function steadyState(plan: DeploymentInput, thorough = false, deployed = false): { rate: number; requests: number; warmup_s: number } {
  const rate = (plan.workload.rate_per_s * (plan.workload.peak_factor ?? 1)) / (deployed ? 1 : (plan.policy?.target_utilization ?? 1));
  const f = thorough ? THOROUGH_FACTOR : 1;
  const requests = Math.min(f * MAX_REQUESTS, Math.max(MIN_REQUESTS, Math.ceil(rate * f * STEADY_SPAN_S)));
  return { rate, requests, warmup_s: (WARMUP_FRACTION * requests) / rate };
}

/** The runnable scenario of one candidate at a replica count. */
export function deploymentScenario(plan: DeploymentInput, c: Candidate, replicas: number, how: RunLength = {}): ScenarioInput {
  const { rate, requests, warmup_s } = steadyState(plan, how.thorough, how.deployed);
  const knobs = { max_num_seqs: c.max_num_seqs, max_num_batched_tokens: c.max_num_batched_tokens };
  const len = maxModelLen(plan.workload.input_tokens, plan.workload.output_tokens);
  const s = plan.slo;
  const slo = Object.fromEntries((['ttft_ms', 'tpot_ms', 'e2e_ms'] as const).filter((k) => s[k] !== undefined).map((k) => [k, s[k]]));
  const engine = Object.fromEntries(Object.entries({ ...knobs, max_model_len: len }).filter(([, v]) => v !== undefined));
  return {
    seed: plan.seed ?? 1,
    model: c.model,
    hardware: { gpu: c.gpu, tensor_parallel: c.tensor_parallel },
    precision: { weights: c.precision },
    cluster: { replicas },
    ...(Object.keys(engine).length === 0 ? {} : { engine }),
    workload: planWorkload(plan, rate, requests * (how.scale ?? 1)) as ScenarioInput['workload'],
    slo,
    metrics: { warmup_s, uncertainty: how.band === true },
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

export function priceSource(plan: DeploymentInput): string {
  const c = plan.cost;
  const preset = c?.preset === undefined ? undefined : PRICE_PRESETS[c.preset];
  const own = c?.usd_per_gpu_hour === undefined ? undefined : 'the plan file';
  if (preset === undefined) return own ?? 'the GPU catalog (sim/hardware/catalog.ts)';
  const named = `preset ${c!.preset}: ${preset.describe}, as of ${preset.as_of}`;
  return own === undefined ? named : `the plan file, over ${named}`;
}

export function priceOf(plan: DeploymentInput, gpu: string): number {
  const p = plan.cost?.usd_per_gpu_hour;
  if (typeof p === 'number') return p;
  const preset = plan.cost?.preset === undefined ? undefined : PRICE_PRESETS[plan.cost.preset];
  // The schema refuses a preset without a price for a GPU searched; the catalog's price is for plans without a preset.
  return p?.[gpu] ?? preset?.usd_per_gpu_hour[gpu] ?? getGpu(gpu).usd_per_gpu_hour;
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
  const [metric, p] = key.split('_') as ['ttft' | 'tpot' | 'itl' | 'e2e', 'p95' | 'p99'];
  return o[`${metric}_s`][p];
}

/** Every (model, gpu, tensor_parallel, precision, engine knobs) the plan searches, in its order. */
export function candidates(plan: DeploymentInput): Candidate[] {
  const tps = plan.search.tensor_parallel ?? DEFAULT_TENSOR_PARALLEL;
  const precisions = plan.search.precisions ?? ['bf16'];
  const seqs: (number | undefined)[] = plan.search.max_num_seqs ?? [undefined];
  const budgets: (number | undefined)[] = plan.search.max_num_batched_tokens ?? [undefined];
  const knobs = seqs.flatMap((max_num_seqs) => budgets.map((max_num_batched_tokens) => ({ max_num_seqs, max_num_batched_tokens })));
  const points = planModels(plan).flatMap((model) =>
    plan.search.gpus.flatMap((gpu) => tps.flatMap((tensor_parallel) => precisions.flatMap((precision) => knobs.map((k) => ({ model, gpu, tensor_parallel, precision, ...k }))))),
  );
  // Unsearched knobs stay absent rather than undefined, so the JSON output has no holes.
  return points.map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as unknown as Candidate);
}

/** Why a candidate is pruned before any run: it cannot run at all (`fits` false), or it runs but its latency floor misses the SLO. */
export interface Problem {
  reason: string;
  fits: boolean;
}

/**
 * Resolves a candidate without running it: the first problem (it does not fit, TP does not divide
 * the heads, the SLO lies below its latency floor), or undefined when it can run.
 */
export function candidateProblem(plan: DeploymentInput, c: Candidate): Problem | undefined {
  let setup;
  try {
    setup = resolveScenario(parseScenarioObject(deploymentScenario(plan, c, 1)));
  } catch (err) {
    if (err instanceof InfersimError) return { reason: err.message, fits: false };
    throw err;
  }
  const floor = floorVerdict(plan, latencyFloor(setup, plan));
  return floor === undefined ? undefined : { reason: floor, fits: true };
}

/** candidateProblem's message alone. */
export function cannotRun(plan: DeploymentInput, c: Candidate): string | undefined {
  return candidateProblem(plan, c)?.reason;
}

export function simulateDeployment(plan: DeploymentInput, c: Candidate, replicas: number, how: RunLength = {}): Summary {
  return runSimulation(resolveScenario(parseScenarioObject(deploymentScenario(plan, c, replicas, how)))).summary;
}
