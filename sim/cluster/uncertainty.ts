/**
 * Uncertainty bands: how far the results may move if every iteration time is off by as much as
 * the latency model's error band (`LatencyModel.uncertainty`, from its profile's validation
 * residuals). The scenario is run again twice, same seed and same workload (so the only change
 * is the step times), with every iteration time multiplied by 1 + band.low and by 1 + band.high.
 * Those runs write no files and report nothing per request: each keeps only the summary
 * statistics (a MetricsSink without a folder).
 */
import type { LatencyBand, LatencyModel } from '../latency/model.js';
import type { Stats } from '../metrics/stats.js';
import type { Bounds, StatBounds, Summary, UncertaintySummary } from '../metrics/summary.js';
import type { ResolvedScenario } from '../setup/resolve.js';

export const UNCERTAINTY_METHOD = 're-run at band edges';

/** Prefix of the summary note that says why a run has no uncertainty bounds. */
export const UNCERTAINTY_NOTE = 'uncertainty: ';

/** Why this run gets no band runs (a summary note), or null when it does. */
export function uncertaintySkipReason(scenario: ResolvedScenario, latency: LatencyModel): string | null {
  if (!scenario.metrics.uncertainty) return `${UNCERTAINTY_NOTE}none (metrics.uncertainty is false)`;
  if (latency.uncertainty === undefined) return `${UNCERTAINTY_NOTE}none (the latency model states no error band)`;
  return null;
}

/** The iteration-time multipliers at the band's edges; throws on a band that is not low ≤ 0 ≤ high with low > −1. */
export function bandTimeScales(band: LatencyBand): { low: number; high: number } {
  if (!(Number.isFinite(band.low) && Number.isFinite(band.high) && band.low > -1 && band.low <= 0 && band.high >= 0)) {
    throw new Error(`latency uncertainty band [${band.low}, ${band.high}] is not −1 < low ≤ 0 ≤ high`);
  }
  return { low: 1 + band.low, high: 1 + band.high };
}

/**
 * `inner` with every time multiplied by `scale` (a latency model given as an override, which
 * cannot be rebuilt with a time_scale). States no band of its own.
 */
export function scaledLatencyModel(inner: LatencyModel, scale: number): LatencyModel {
  return {
    description: `${inner.description}, times × ${scale}`,
    iterationTime_s: (batch) => inner.iterationTime_s(batch) * scale,
    breakdown: (batch) => inner.breakdown(batch).map((op) => ({ ...op, time_s: op.time_s * scale })),
  };
}

/**
 * Runs the scenario at both edges of `band` (`runAt(time_scale)` returns that run's summary)
 * and gathers the bounds. Low-edge run first, then high-edge: the order is fixed, so the result
 * is deterministic.
 */
export function runAtBandEdges(band: LatencyBand, runAt: (time_scale: number, edge: 'low' | 'high') => Summary): UncertaintySummary {
  const time_scale = bandTimeScales(band);
  const a = runAt(time_scale.low, 'low').overall;
  const b = runAt(time_scale.high, 'high').overall;
  return {
    method: UNCERTAINTY_METHOD,
    band: { low: band.low, high: band.high, basis: band.basis },
    time_scale,
    ttft_s: statBounds(a.ttft_s, b.ttft_s),
    tpot_s: statBounds(a.tpot_s, b.tpot_s),
    itl_s: statBounds(a.itl_s, b.itl_s),
    e2e_s: statBounds(a.e2e_s, b.e2e_s),
    throughput: {
      requests_per_s: bounds(a.throughput.requests_per_s, b.throughput.requests_per_s),
      output_tokens_per_s: bounds(a.throughput.output_tokens_per_s, b.throughput.output_tokens_per_s),
    },
  };
}

function statBounds(a: Stats, b: Stats): StatBounds {
  return { p50: bounds(a.p50, b.p50), p90: bounds(a.p90, b.p90), p99: bounds(a.p99, b.p99), mean: bounds(a.mean, b.mean) };
}

/**
 * Min and max of the two edge runs' figure, not "low-edge run, high-edge run": under queueing a
 * percentile need not move monotonically with the time scale (slower steps form larger batches),
 * and a throughput falls as times grow. A figure one run lacks (null) is left out.
 */
export function bounds(x: number | null, y: number | null): Bounds {
  const values = [x, y].filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return { low: null, high: null };
  return { low: Math.min(...values), high: Math.max(...values) };
}
