import { runSimulation } from '../cluster/simulate.js';
import { InfersimError } from '../errors.js';
import { FileSystemError, isSystemError, systemErrorLine } from '../fsErrors.js';
import type { Summary } from '../metrics/summary.js';
import { resolveScenario } from '../setup/resolve.js';
import type { ScenarioInput } from '../scenario/types.js';
import type { FindMaxRate } from './plan.js';
import type { MaxRateResult, PointMetrics } from './record.js';

export interface PointJob {
  index: number;
  input: ScenarioInput;
  /** `--keep-runs`: this point's output folder. */
  outDir?: string;
  findMaxRate?: FindMaxRate | null;
}

export interface PointOutcome {
  index: number;
  /**
   * ok; failed: an input error (InfersimError: an invalid combination, a model that does not
   * fit), deterministic, so recorded as finished; crashed: an internal error or a worker that
   * died, never recorded as finished (a rerun retries the point).
   */
  status: 'ok' | 'failed' | 'crashed';
  /**
   * On a crashed point: the file system failed it (a full disk under --keep-runs), which is
   * neither the input's fault nor a bug: the sweep stops and says so, and a rerun retries the point.
   */
  fault?: 'file-system';
  /** The error's one-line message; null when ok. */
  error: string | null;
  metrics: PointMetrics | null;
  maxRate: MaxRateResult | null;
  wall_s: number;
}

export function pointMetrics(s: Summary): PointMetrics {
  const o = s.overall;
  const kvMean = s.kv?.mean_utilization;
  return {
    requests_per_s: o.throughput.requests_per_s,
    output_tokens_per_s: o.throughput.output_tokens_per_s,
    goodput_req_per_s: o.slo.goodput_req_per_s,
    slo_attainment: o.slo.attainment,
    ttft_p50_s: o.ttft_s.p50,
    ttft_p90_s: o.ttft_s.p90,
    ttft_p99_s: o.ttft_s.p99,
    tpot_p50_s: o.tpot_s.p50,
    tpot_p90_s: o.tpot_s.p90,
    tpot_p99_s: o.tpot_s.p99,
    e2e_p50_s: o.e2e_s.p50,
    e2e_p90_s: o.e2e_s.p90,
    e2e_p99_s: o.e2e_s.p99,
    kv_mean_utilization: typeof kvMean === 'number' ? kvMean : null,
    preemptions: o.preemptions,
    usd_per_million_output_tokens: s.cost.usd_per_million_output_tokens,
  };
}

/** A sweep runs its points side by side (--jobs): a point's band re-runs stay in its own thread. */
function simulateOnce(input: ScenarioInput, outDir?: string): Summary {
  return runSimulation(resolveScenario(input), { outDir, band_threads: false }).summary;
}

/** Runs one point; an input error becomes a failed outcome, anything else a crashed one, never a throw. */
export function runPoint(job: PointJob): PointOutcome {
  const start = performance.now();
  const done = (o: Omit<PointOutcome, 'index' | 'wall_s'>): PointOutcome => ({ index: job.index, ...o, wall_s: (performance.now() - start) / 1000 });
  try {
    if (job.findMaxRate) {
      const found = findMaxRate(job.input, job.findMaxRate, job.outDir);
      return done({ status: 'ok', error: null, metrics: found.summary ? pointMetrics(found.summary) : null, maxRate: found.result });
    }
    return done({ status: 'ok', error: null, metrics: pointMetrics(simulateOnce(job.input, job.outDir)), maxRate: null });
  } catch (err) {
    if (err instanceof FileSystemError || isSystemError(err)) {
      const message = err instanceof FileSystemError ? err.message : (systemErrorLine(err) ?? err.message);
      return done({ status: 'crashed', fault: 'file-system', error: message.split('\n')[0], metrics: null, maxRate: null });
    }
    if (err instanceof InfersimError) return done({ status: 'failed', error: err.message.split('\n')[0], metrics: null, maxRate: null });
    const message = `internal error (please report): ${err instanceof Error ? err.message : String(err)}`;
    return done({ status: 'crashed', error: message.split('\n')[0], metrics: null, maxRate: null });
  }
}

/** Doublings (or halvings) from the scenario's rate before the search gives up on a bracket. */
const MAX_BRACKET_STEPS = 12;

/**
 * The highest `workload.arrival.rate_per_s` at which SLO attainment ≥ target. Bracket: start at
 * the scenario's rate r; if it meets the target, double until a rate misses (low = last pass,
 * high = first miss); if not, halve until a rate passes. Then bisect (arithmetic midpoint) until
 * (high − low) ÷ low ≤ precision and report low, the highest rate seen to pass. Each probe is a
 * full run with the same seed, so the result is deterministic; attainment is assumed to fall
 * with rate (a non-monotone case finds one crossing, not necessarily the highest). Metrics are
 * those of the run at the reported rate (or, when no rate passed, of the lowest rate tried).
 */
export function findMaxRate(
  input: ScenarioInput,
  f: FindMaxRate,
  outDir?: string,
): { result: MaxRateResult; summary: Summary | null } {
  const arrival = input.workload.arrival;
  if (arrival === undefined || !('rate_per_s' in arrival)) throw new InfersimError('--find-max-rate: this point has no workload.arrival.rate_per_s');
  const start = arrival.rate_per_s;
  if (typeof start !== 'number') throw new InfersimError('--find-max-rate: searches one constant rate; this point\'s workload.arrival.rate_per_s varies in time');
  let runs = 0;
  const probe = (rate: number): Summary => {
    runs++;
    return simulateOnce({ ...input, workload: { ...input.workload, arrival: { ...arrival, rate_per_s: rate } } });
  };
  const passes = (s: Summary): boolean => (s.overall.slo.attainment ?? 0) >= f.target;
  let low: { rate: number; summary: Summary } | undefined;
  let high: number | undefined;
  let rate = start;
  let lowest: Summary | undefined;
  for (let step = 0; step <= MAX_BRACKET_STEPS; step++) {
    const s = probe(rate);
    if (passes(s)) {
      low = { rate, summary: s };
      if (high !== undefined) break;
      rate *= 2;
    } else {
      high = rate;
      lowest = s;
      if (low !== undefined) break;
      rate /= 2;
    }
  }
  if (low === undefined) return { result: { max_rate_per_s: null, rate_runs: runs }, summary: lowest ?? null };
  if (high === undefined) {
    throw new InfersimError(
      `--find-max-rate: SLO attainment still ≥ ${f.target} at ${low.rate} req/s (${MAX_BRACKET_STEPS} doublings of the scenario's rate); raise workload.arrival.rate_per_s`,
    );
  }
  let hi: number = high;
  while ((hi - low.rate) / low.rate > f.precision) {
    const mid: number = (low.rate + hi) / 2;
    const s = probe(mid);
    if (passes(s)) low = { rate: mid, summary: s };
    else hi = mid;
  }
  let summary = low.summary;
  if (outDir !== undefined) summary = simulateOnce({ ...input, workload: { ...input.workload, arrival: { ...arrival, rate_per_s: low.rate } } }, outDir);
  return { result: { max_rate_per_s: low.rate, rate_runs: runs }, summary };
}
