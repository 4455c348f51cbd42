import type { StatBounds, Summary } from '../metrics/summary.js';
import { parseScenarioObject } from '../setup/load.js';
import { resolveScenario } from '../setup/resolve.js';
import {
  deploymentScenario, HOURS_PER_MONTH, priceOf,
  type Candidate, type Deployment, type ParetoPoint, type Percentiles, type PredictionBand,
} from './deployment.js';
import { spareReplicas, type DeploymentInput } from './deploymentSchema.js';

const three = (st: { p50: number | null; p95: number | null; p99: number | null }): Percentiles => ({ p50: st.p50, p95: st.p95, p99: st.p99 });

/** What it costs to run `replicas` of a candidate, per hour. */
export function hourlyCost(plan: DeploymentInput, c: Candidate, replicas: number): number {
  return replicas * c.tensor_parallel * priceOf(plan, c.gpu);
}

/**
 * A candidate at the replica count its SLO needs, described from that run's summary, with the
 * policy's spares added to what it costs (not to what it is predicted to do: the figures hold
 * with every spare down).
 */
export function describeDeployment(plan: DeploymentInput, c: Candidate, slo_replicas: number, summary: Summary): Deployment {
  const setup = resolveScenario(parseScenarioObject(deploymentScenario(plan, c, slo_replicas)));
  const e = setup.scenario.engine;
  const o = summary.overall;
  const spare_replicas = spareReplicas(plan);
  const replicas = slo_replicas + spare_replicas;
  const perHour = hourlyCost(plan, c, replicas);
  const outPerRequest = o.requests.finished > 0 ? o.tokens.output / o.requests.finished : 0;
  const tokensPerHour = plan.workload.rate_per_s * outPerRequest * 3600;
  return {
    ...c,
    replicas,
    slo_replicas,
    spare_replicas,
    gpus: replicas * c.tensor_parallel,
    engine: { max_num_seqs: e.max_num_seqs, max_num_batched_tokens: e.max_num_batched_tokens, max_model_len: e.max_model_len },
    predicted: {
      ttft_s: three(o.ttft_s), tpot_s: three(o.tpot_s), itl_s: three(o.itl_s), e2e_s: three(o.e2e_s),
      attainment: o.slo.attainment,
      requests_per_s: o.throughput.requests_per_s,
      output_tokens_per_s: o.throughput.output_tokens_per_s,
    },
    usd_per_gpu_hour: priceOf(plan, c.gpu),
    usd_per_hour: perHour,
    usd_per_month: perHour * HOURS_PER_MONTH,
    usd_per_million_output_tokens: tokensPerHour > 0 ? (perHour / tokensPerHour) * 1e6 : null,
  };
}

/** The p99 bounds of a run made with the band's runs (metrics.uncertainty on); null when it had none. */
export function predictionBand(summary: Summary): PredictionBand | null {
  const u = summary.uncertainty;
  if (u === null || u === undefined) return null;
  const p99 = (b: StatBounds) => b.p99;
  return {
    relative: { low: u.band.low, high: u.band.high, basis: u.band.basis },
    ttft_p99_s: p99(u.ttft_s),
    tpot_p99_s: p99(u.tpot_s),
    itl_p99_s: p99(u.itl_s),
    e2e_p99_s: p99(u.e2e_s),
  };
}

export function paretoPoint(plan: DeploymentInput, c: Candidate, slo_replicas: number, summary: Summary): ParetoPoint {
  const o = summary.overall;
  const replicas = slo_replicas + spareReplicas(plan);
  return { ...c, replicas, usd_per_hour: hourlyCost(plan, c, replicas), ttft_p99_s: o.ttft_s.p99, tpot_p95_s: o.tpot_s.p95, e2e_p99_s: o.e2e_s.p99 };
}

/** The points no other point beats on both cost and TTFT p99, cheapest first. */
export function paretoFront(points: ParetoPoint[]): ParetoPoint[] {
  const latency = (p: ParetoPoint) => p.ttft_p99_s ?? Infinity;
  const sorted = [...points].sort((a, b) => a.usd_per_hour - b.usd_per_hour || latency(a) - latency(b));
  const front: ParetoPoint[] = [];
  for (const p of sorted) if (front.length === 0 || latency(p) < latency(front[front.length - 1])) front.push(p);
  return front;
}
