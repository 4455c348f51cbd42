import { GPU_CATALOG } from '../hardware/catalog.js';
import type { Summary } from '../metrics/summary.js';
import {
  candidateProblem, candidates, priceSource, simulateDeployment, sloVerdict, steadyState,
  type Candidate, type Deployment, type DeploymentPlan, type ParetoPoint, type Pruned, type RunLength,
} from './deployment.js';
import { describeDeployment, paretoFront, paretoPoint, predictionBand } from './deploymentDescribe.js';
import { DEFAULT_MAX_REPLICAS, DEFAULT_TENSOR_PARALLEL, planModels, type DeploymentInput } from './deploymentSchema.js';

/** A candidate's minimal replica count and its run, with every count tried that met the SLO (for the Pareto front). */
type Outcome = { replicas: number; summary: Summary; met: { replicas: number; summary: Summary }[] } | { reason: string };

/**
 * The cheapest deployment that meets the SLO. Each candidate that resolves (fits in memory, TP
 * divides the heads…) gets its minimal replica count; cost is linear in replicas for a
 * candidate, so the cheapest feasible one across candidates is the answer.
 */
export interface PlanOptions {
  /** Longer steady-state runs (3× the span and the request cap) for a tighter answer, at ~3× the time. */
  thorough?: boolean;
}

export function planDeployment(plan: DeploymentInput, opts: PlanOptions = {}): DeploymentPlan {
  const how: RunLength = { thorough: opts.thorough === true };
  const feasible: Deployment[] = [];
  const pruned: Pruned[] = [];
  // Pruned by the SLO (its floor, or too many replicas) rather than by what the candidate can run; `floor`: by its latency floor.
  const bySlo = new Map<Pruned, { floor: boolean }>();
  const points: ParetoPoint[] = [];
  for (const c of candidates(plan)) {
    const problem = candidateProblem(plan, c);
    if (problem !== undefined) {
      const p = { ...c, reason: problem.reason };
      pruned.push(p);
      if (problem.fits) bySlo.set(p, { floor: true });
      continue;
    }
    const found = minimalReplicas(plan, c, how);
    if ('reason' in found) {
      const p = { ...c, reason: found.reason };
      pruned.push(p);
      bySlo.set(p, { floor: false });
    }
    else {
      feasible.push(describeDeployment(plan, c, found.replicas, found.summary));
      points.push(...found.met.map((m) => paretoPoint(plan, c, m.replicas, m.summary)));
    }
  }
  // Ties in cost go to fewer GPUs (fewer parts to fail), then to the lower p99 TTFT.
  feasible.sort((a, b) => a.usd_per_hour - b.usd_per_hour || a.gpus - b.gpus || (a.predicted.ttft_s.p99 ?? Infinity) - (b.predicted.ttft_s.p99 ?? Infinity));
  const best = feasible[0];
  // The band's two runs only for the answer: they double-to-triple a run's cost.
  if (best !== undefined) best.band = predictionBand(simulateDeployment(plan, best, best.slo_replicas, { ...how, band: true }));
  const { rate, requests, warmup_s } = steadyState(plan, how.thorough);
  return {
    model: plan.model,
    workload: {
      rate_per_s: plan.workload.rate_per_s, peak_factor: plan.workload.peak_factor ?? 1,
      target_utilization: plan.policy?.target_utilization ?? 1, simulated_rate_per_s: rate, requests, warmup_s, thorough: how.thorough === true,
    },
    slo: plan.slo as Record<string, number>,
    price_source: priceSource(plan),
    recommended: best ?? null,
    alternatives: feasible.slice(1),
    pareto: paretoFront(points),
    pruned,
    verdict: best !== undefined ? undefined : noneVerdict(plan, pruned, bySlo),
  };
}

/**
 * Doubles up to an upper bound that meets the SLO, then bisects between the last miss and it.
 * Meeting the SLO is monotone in replicas (more replicas only shorten every queue), which is what
 * makes bisection sound.
 */
export function minimalReplicas(plan: DeploymentInput, c: Candidate, how: RunLength = {}): Outcome {
  const max = plan.search.max_replicas ?? DEFAULT_MAX_REPLICAS;
  const tried = new Map<number, { ok: boolean; why?: string; summary: Summary }>();
  const attempt = (n: number) => {
    let t = tried.get(n);
    if (t === undefined) {
      const summary = simulateDeployment(plan, c, n, how);
      t = { ...sloVerdict(plan, summary.overall), summary };
      tried.set(n, t);
    }
    return t;
  };
  let miss = 0;
  let hit = 1;
  for (;;) {
    const t = attempt(hit);
    if (t.ok) break;
    if (hit >= max) return { reason: `misses the SLO even with max_replicas ${max} (${t.why})` };
    miss = hit;
    hit = Math.min(2 * hit, max);
  }
  while (hit - miss > 1) {
    const mid = Math.floor((miss + hit) / 2);
    if (attempt(mid).ok) hit = mid;
    else miss = mid;
  }
  const met = [...tried].filter(([, t]) => t.ok).map(([replicas, t]) => ({ replicas, summary: t.summary }));
  return { replicas: hit, summary: attempt(hit).summary, met };
}

/** One line for a plan with no feasible candidate: the SLO's fault when any candidate ran, else the model's. */
function noneVerdict(plan: DeploymentInput, pruned: Pruned[], bySlo: Map<Pruned, { floor: boolean }>): string {
  if (bySlo.size > 0) {
    const floored = pruned.filter((p) => bySlo.get(p)?.floor === true);
    const why = floored.length === 0 ? '' : `${floored.length} of them out of reach even alone on an idle replica (${floored[0].reason}); `;
    return `no candidate meets the SLO within max_replicas ${plan.search.max_replicas ?? DEFAULT_MAX_REPLICAS}: ${why}loosen the SLO, raise max_replicas, or add GPUs or TP degrees`;
  }
  const models = planModels(plan);
  const smallest = smallestThatRuns(plan);
  const tried = `${models.join(', ')} ${models.length === 1 ? 'runs' : 'run'} on none of the ${pruned.length} candidate${pruned.length === 1 ? '' : 's'} (${pruned[0].reason})`;
  return smallest === undefined
    ? `${tried}; no GPU in the catalog runs ${models.length === 1 ? 'it' : 'them'} at TP ≤ 8 in ${precisionsOf(plan).join(' or ')} with these engine settings`
    : `${tried}; the smallest that would: ${models.length === 1 ? '' : `${smallest.model} on `}${smallest.gpu} × TP ${smallest.tensor_parallel} in ${smallest.precision}`;
}

const precisionsOf = (plan: DeploymentInput) => plan.search.precisions ?? ['bf16'];

/**
 * Over the whole catalog: the candidate with the least GPU memory in all that resolve (the SLO
 * aside), with the plan's first engine knobs, cheapest on ties.
 */
function smallestThatRuns(plan: DeploymentInput): Candidate | undefined {
  const knobs = { max_num_seqs: plan.search.max_num_seqs?.[0], max_num_batched_tokens: plan.search.max_num_batched_tokens?.[0] };
  const all = planModels(plan).flatMap((model) => Object.values(GPU_CATALOG).flatMap((gpu) =>
    DEFAULT_TENSOR_PARALLEL.flatMap((tensor_parallel) => precisionsOf(plan).map((precision) => ({ gpu, c: { model, gpu: gpu.name, tensor_parallel, precision, ...knobs } }))),
  ));
  all.sort((a, b) => a.gpu.memory_bytes * a.c.tensor_parallel - b.gpu.memory_bytes * b.c.tensor_parallel || a.gpu.usd_per_gpu_hour * a.c.tensor_parallel - b.gpu.usd_per_gpu_hour * b.c.tensor_parallel);
  return all.find(({ c }) => candidateProblem(plan, c)?.fits !== false)?.c;
}
