import { inMemory, quantilesOfChunks, type Samples } from './select.js';
import { PASS_CHUNK } from './weightedSelect.js';

/**
 * Percentile definition (used everywhere in infersim): linear interpolation between closest
 * ranks, numpy's default ("linear", Hyndman–Fan type 7), as simple-statistics computes it:
 * with the values sorted ascending as x[0..n-1], h = (n − 1)·p and
 * q(p) = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
 *
 * The ranks needed are selected, not sorted (select.ts): on 4 M pooled gaps a sort takes ~0.45 s
 * on this machine class.
 */

/** Type-7 quantile of an ascending-sorted array, for callers that already hold sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const k = Math.floor(h);
  if (h === k) return sorted[k];
  return sorted[k] + (h - k) * (sorted[k + 1] - sorted[k]);
}

/** The distribution summary reported for every latency metric; all null for an empty set. */
export interface Stats {
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

const SUMMARY_PS = [0.5, 0.9, 0.95, 0.99];

/**
 * Stats of the samples in `sources` (a list's chunks, or several lists', taken in order; weighted
 * values count that many times), which it leaves as they are. NaN must already be filtered out by
 * the caller.
 */
export function summarize(sources: readonly Samples[]): Stats {
  const { n, sum, max } = moments(sources);
  if (n === 0) return { count: 0, mean: null, p50: null, p90: null, p95: null, p99: null, max: null };
  const q = [0, 0, 0, 0];
  quantilesOfChunks(sources, SUMMARY_PS, q, undefined, n);
  return { count: n, mean: sum / n, p50: q[0], p90: q[1], p95: q[2], p99: q[3], max };
}

/**
 * `sources`' stats where `same` holds the statistics of the very same multiset of values, taken in
 * another order: the order statistics and maximum are `same`'s, and only the mean, summed in
 * `sources`' order as `summarize` sums it, is computed. Null when the counts differ.
 */
export function summarizeSame(sources: readonly Samples[], same: Stats): Stats | null {
  const { n, sum } = moments(sources);
  if (n !== same.count) return null;
  return n === 0 ? same : { ...same, mean: sum / n };
}

/** Count, sum (in order) and maximum of the samples in `sources`. */
function moments(sources: readonly Samples[]): { n: number; sum: number; max: number } {
  const acc = { n: 0, sum: 0, max: -Infinity };
  for (const source of sources) {
    const s = inMemory(source);
    // In chunks: see weightedSelect.ts's PASS_CHUNK (a summary runs this a few times a run, mostly before it is compiled).
    if (s instanceof Float64Array) for (let c = 0; c < s.length; c += PASS_CHUNK) addValues(s, c, Math.min(s.length, c + PASS_CHUNK), acc);
    else for (let c = 0; c < s.values.length; c += PASS_CHUNK) addWeighted(s.values, s.weights, c, Math.min(s.values.length, c + PASS_CHUNK), acc);
  }
  return acc;
}


function addValues(values: Float64Array, from: number, to: number, acc: { n: number; sum: number; max: number }): void {
  let { sum, max } = acc;
  for (let i = from; i < to; i++) {
    const v = values[i];
    sum += v;
    if (v > max) max = v;
  }
  acc.n += to - from;
  acc.sum = sum;
  acc.max = max;
}

function addWeighted(values: Float64Array, weights: Int32Array, from: number, to: number, acc: { n: number; sum: number; max: number }): void {
  let { n, sum, max } = acc;
  for (let i = from; i < to; i++) {
    const w = weights[i];
    if (w === 0) continue;
    const v = values[i];
    n += w;
    sum += v * w;
    if (v > max) max = v;
  }
  acc.n = n;
  acc.sum = sum;
  acc.max = max;
}
