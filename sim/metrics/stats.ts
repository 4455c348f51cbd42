/**
 * Order statistics on typed arrays without sorting.
 *
 * Percentile definition (used everywhere in infersim): linear interpolation between closest
 * ranks, numpy's default ("linear", Hyndman–Fan type 7) and simple-statistics' `quantileSorted`:
 * with the values sorted ascending as x[0..n-1], h = (n − 1)·p and
 * q(p) = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
 *
 * Sorting 4 M floats costs ~0.45 s on this machine class; selecting the few ranks needed costs
 * under a tenth of that, so the summary never sorts.
 */

/**
 * Type-7 quantiles of a[0..n) for ascending `ps`, written to `out`. Reorders `a` (the multiset is
 * unchanged). Precondition: n ≥ 1, no NaN, ps ascending within [0, 1].
 */
export function quantilesInPlace(a: Float64Array, n: number, ps: readonly number[], out: Float64Array | number[]): void {
  // Ranks below `lo` are already in their final positions relative to everything above them.
  let lo = 0;
  let selected = -1;
  for (let i = 0; i < ps.length; i++) {
    const h = (n - 1) * ps[i];
    const k = Math.floor(h);
    if (k !== selected) {
      select(a, k, lo, n - 1);
      selected = k;
      lo = k + 1;
    }
    const below = a[k];
    if (h === k || k + 1 >= n) {
      out[i] = below;
      continue;
    }
    let above = Infinity;
    for (let j = k + 1; j < n; j++) if (a[j] < above) above = a[j];
    out[i] = below + (h - k) * (above - below);
  }
}

/** Type-7 quantile of an ascending-sorted array, for callers that already hold sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const k = Math.floor(h);
  if (h === k) return sorted[k];
  return sorted[k] + (h - k) * (sorted[k + 1] - sorted[k]);
}

/**
 * Selection: afterwards a[k] holds the k-th smallest of a[left..right], with smaller or equal
 * values left of it and larger or equal ones right.
 *
 * Quickselect with two changes that each cut its time roughly in half on 4 M gaps here:
 * - partitions are branch-free (the comparison result is added to an index); a branchy one
 *   mispredicts on every other element near the median;
 * - on large ranges the pivot is chosen as Floyd and Rivest do: select within a sample window
 *   around k first, so one pass usually leaves only a sliver. The window is filled from random
 *   positions because pools are not randomly ordered (time trends; per-replica segments already
 *   partitioned), which made textbook Floyd–Rivest 2–3× slower.
 * A second pass gathers values equal to the pivot, so runs of identical gaps (a deterministic
 * latency model makes many) cannot make it quadratic.
 */
export function select(a: Float64Array, k: number, left: number, right: number): void {
  let lo = left;
  let hi = right;
  // Unlucky pivots every time is astronomically rare; sorting still bounds the cost.
  let rounds = 2 * Math.ceil(Math.log2(right - left + 2)) + 8;
  for (;;) {
    if (hi - lo < 16) return insertionSort(a, lo, hi);
    if (--rounds === 0) {
      a.subarray(lo, hi + 1).sort();
      return;
    }
    const pivot = hi - lo >= 600 ? samplePivot(a, k, lo, hi) : medianOf3Random(a, lo, hi);
    const less = moveToFront(a, lo, hi, pivot, false);
    if (k < less) {
      hi = less - 1;
      continue;
    }
    const equal = moveToFront(a, less, hi, pivot, true);
    if (k < equal) return;
    lo = equal;
  }
}

/**
 * Moves the values < pivot (or ≤ pivot) of a[lo..hi] to its front; returns the index after them.
 * Kept out of `select` so this loop stays optimized from the many small per-request calls when
 * the one large call takes a branch `select` has not seen before (which deoptimizes `select`).
 */
function moveToFront(a: Float64Array, lo: number, hi: number, pivot: number, orEqual: boolean): number {
  let end = lo;
  if (orEqual) {
    for (let i = lo; i <= hi; i++) {
      const x = a[i];
      a[i] = a[end];
      a[end] = x;
      end += +(x <= pivot);
    }
  } else {
    for (let i = lo; i <= hi; i++) {
      const x = a[i];
      a[i] = a[end];
      a[end] = x;
      end += +(x < pivot);
    }
  }
  return end;
}

/** Floyd–Rivest's estimate of the k-th value: the matching rank within a random sample of ~n^(2/3). */
function samplePivot(a: Float64Array, k: number, lo: number, hi: number): number {
  const n = hi - lo + 1;
  const m = k - lo + 1;
  const z = Math.log(n);
  const s = 0.5 * Math.exp((2 * z) / 3);
  const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
  const windowLo = Math.max(lo, Math.floor(k - (m * s) / n + sd));
  const windowHi = Math.min(hi, Math.floor(k + ((n - m) * s) / n + sd));
  for (let i = windowLo; i <= windowHi; i++) {
    const j = lo + randomBelow(n);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  select(a, k, windowLo, windowHi);
  return a[k];
}

function medianOf3Random(a: Float64Array, lo: number, hi: number): number {
  const n = hi - lo + 1;
  const x0 = a[lo + randomBelow(n)];
  const x1 = a[lo + randomBelow(n)];
  const x2 = a[lo + randomBelow(n)];
  return x0 < x1 ? (x1 < x2 ? x1 : x0 < x2 ? x2 : x0) : x0 < x2 ? x0 : x1 < x2 ? x2 : x1;
}

// xorshift32 with a fixed seed: pivots vary from call to call, results cannot (the k-th value is unique).
let rngState = 0x2545f491;
function randomBelow(n: number): number {
  rngState ^= rngState << 13;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5;
  return Math.floor(((rngState >>> 0) / 4294967296) * n);
}

function insertionSort(a: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i <= hi; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
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

/** Stats of `values` (reordered in place). NaN must already be filtered out by the caller. */
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
