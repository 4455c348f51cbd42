import { quickselect } from 'simple-statistics';

/**
 * Percentile definition (used everywhere in infersim): linear interpolation between closest
 * ranks, numpy's default ("linear", Hyndman–Fan type 7), as simple-statistics computes it:
 * with the values sorted ascending as x[0..n-1], h = (n − 1)·p and
 * q(p) = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
 *
 * The ranks needed are selected in place with simple-statistics' Floyd–Rivest quickselect, not
 * sorted: on 4 M pooled gaps a sort takes ~0.45 s on this machine class. In place, because the
 * callers' arrays are scratch or end-of-run pools: its `quantile` copies the input (17 MB for a
 * 2 M-gap pool) and allocates on every call (20,000 requests' ITL percentiles each run).
 */

/**
 * Type-7 quantiles of values[0..n) for the ascending probabilities `ps`, written to `out`.
 * n ≥ 1, no NaN. Reorders values[0..n); leaves the rest alone.
 */
export function quantilesInPlace(values: Float64Array, n: number, ps: readonly number[], out: Float64Array | number[]): void {
  const last = n - 1;
  // Ranks below `left` are already in their sorted places; the rest lie above them, unordered.
  let left = 0;
  for (let i = 0; i < ps.length; i++) {
    if (i > 0 && !(ps[i] >= ps[i - 1])) throw new Error(`quantilesInPlace: probabilities must ascend, got ${ps.join(', ')}`);
    const h = last * ps[i];
    const lo = Math.floor(h);
    if (lo >= left) {
      // A one-element range is in place already (and quickselect reads right = 0 as "the whole array").
      if (last > left) quickselect(values as unknown as number[], lo, left, last);
      left = lo + 1;
    }
    let q = values[lo];
    if (h > lo) {
      if (lo + 1 >= left) {
        if (last > left) quickselect(values as unknown as number[], lo + 1, left, last);
        left = lo + 2;
      }
      q += (h - lo) * (values[lo + 1] - q);
    }
    out[i] = q;
  }
}

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

/** Stats of `values`, which it reorders. NaN must already be filtered out by the caller. */
export function summarize(values: Float64Array): Stats {
  const n = values.length;
  if (n === 0) return { count: 0, mean: null, p50: null, p90: null, p95: null, p99: null, max: null };
  let sum = 0;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    sum += v;
    if (v > max) max = v;
  }
  const q = [0, 0, 0, 0];
  quantilesInPlace(values, n, SUMMARY_PS, q);
  return { count: n, mean: sum / n, p50: q[0], p90: q[1], p95: q[2], p99: q[3], max };
}
