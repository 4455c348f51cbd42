import { quickselect } from 'simple-statistics';
import { quantilesInPlace } from './select.js';
import { HIGH_WORD } from './weightedSelect.js';

/** One request's inter-token gap statistics (requests.arrow's itl_* columns). */
export interface GapStats {
  mean_s: number;
  p50_s: number;
  p99_s: number;
  max_s: number;
}

/**
 * Most gaps ranked at p99 or above that the gap pass keeps aside (requests of up to ~3,100
 * gaps); a longer request takes the general selection.
 */
const TOP_MAX = 32;
const top = new Float64Array(TOP_MAX);
let scratch = new Float64Array(1024);
/** `scratch`'s 32-bit words: a gap's high word (sign, exponent, 20 mantissa bits) is at 2i + HIGH_WORD. */
let words = new Uint32Array(scratch.buffer);
const general = [0, 0];
const GENERAL_PS = [0.5, 0.99];

/**
 * Mean, type-7 p50 and p99 (stats.ts) and maximum of the gaps between consecutive times[from..from + tokens),
 * tokens ≥ 2, written to `into`. Selecting both percentiles with quickselect was ~5 % of a run that
 * writes requests.arrow; here the pass that forms the gaps also keeps the few largest, which hold
 * the p99 ranks, so only the median is selected. The same numbers as `quantilesInPlace`.
 */
export function gapStats(times: ArrayLike<number>, tokens: number, into: GapStats, from = 0): GapStats {
  const n = tokens - 1;
  if (scratch.length < n) {
    scratch = new Float64Array(Math.max(n, scratch.length * 2));
    words = new Uint32Array(scratch.buffer);
  }
  const last = n - 1;
  const h99 = last * 0.99;
  const lo99 = Math.floor(h99);
  // The gaps at ranks lo99..last are the k largest.
  const k = n - lo99;
  const keepTop = k <= TOP_MAX;
  if (keepTop) top.fill(-Infinity, 0, k);
  let sum = 0;
  let max = -Infinity;
  let min = Infinity;
  // Module state read through locals: the loops below are the hottest of a run's request records.
  const gaps = scratch;
  const kept = top;
  // The k-th largest gap so far (top[k − 1]); without `keepTop` no gap passes it.
  let kth = keepTop ? -Infinity : Infinity;
  for (let i = 0; i < n; i++) {
    const g = times[from + i + 1] - times[from + i];
    gaps[i] = g;
    sum += g;
    if (g > max) max = g;
    if (g < min) min = g;
    if (g > kth) {
      // Kept descending: top[0] is the largest so far, top[k − 1] the k-th largest.
      let j = k - 1;
      while (j > 0 && kept[j - 1] < g) {
        kept[j] = kept[j - 1];
        j--;
      }
      kept[j] = g;
      kth = kept[k - 1];
    }
  }
  into.mean_s = sum / n;
  into.max_s = max;
  if (!keepTop) {
    quantilesInPlace(scratch, n, GENERAL_PS, general);
    into.p50_s = general[0];
    into.p99_s = general[1];
    return into;
  }
  let p99 = top[k - 1];
  // h99 > lo99 means lo99 + 1 ≤ last, so k ≥ 2.
  if (h99 > lo99) p99 += (h99 - lo99) * (top[k - 2] - p99);
  into.p99_s = p99;
  // Positive finite gaps (a NaN makes the sum NaN) order as their high words: the least and
  // greatest words are those of `min` and `max`, and the median need not scan for them.
  const ordered = min > 0 && max < Infinity && sum === sum;
  into.p50_s = n < BUCKETED_FROM ? median(scratch, last) : ordered ? bucketedMedian(last, highWord(min), highWord(max)) : scannedMedian(last);
  return into;
}

/** Gaps from which the median is selected through a histogram (below, quickselect is as fast). */
const BUCKETED_FROM = 48;
/** log2 of the histogram's buckets. */
const BUCKET_BITS = 8;
const counts = new Int32Array(1 << BUCKET_BITS);
let bucket = new Float64Array(256);
/** Each gap's histogram bucket (BUCKET_BITS = 8 bits), from the pass that counts them. */
let bucketOf = new Uint8Array(1024);

/**
 * Type-7 median of scratch[0..last], the same number as `median`. Quickselect on a
 * request's ~160 gaps mispredicts most of its comparisons (it was ~8 % of the scale bench's run).
 * Finite doubles without a sign bit order as their high 32-bit words, so a histogram of those
 * words (shifted to fit the buckets) finds the bucket that holds the median's rank without a
 * data-dependent branch; only that bucket's few values are selected. Anything else (a negative gap
 * or −0, from times out of order; an infinity; NaN) takes `median`.
 */
function scannedMedian(last: number): number {
  let lowest = 0xffffffff;
  let highest = 0;
  for (let i = 0; i <= last; i++) {
    const w = words[2 * i + HIGH_WORD];
    if (w < lowest) lowest = w;
    if (w > highest) highest = w;
  }
  return highest >= 0x7ff00000 ? median(scratch, last) : bucketedMedian(last, lowest, highest);
}

const one = new Float64Array(1);
const oneWords = new Uint32Array(one.buffer);

function highWord(x: number): number {
  one[0] = x;
  return oneWords[HIGH_WORD];
}

/** As `scannedMedian`, given the least and greatest of the gaps' high words (finite, no sign bit). */
function bucketedMedian(last: number, lowest: number, highest: number): number {
  const values = scratch;
  const n = last + 1;
  const bits = 32 - Math.clz32(highest - lowest);
  const shift = bits > BUCKET_BITS ? bits - BUCKET_BITS : 0;
  if (bucketOf.length < n) bucketOf = new Uint8Array(Math.max(n, 2 * bucketOf.length));
  // Module state through locals, and each gap's bucket kept from the counting pass for the gather
  // (with the locals of gapStats' own pass: 12.3 → 9.7 ns a gap on the Azure trace's requests).
  const of = bucketOf;
  const w = words;
  const hw = HIGH_WORD;
  const c = counts;
  c.fill(0);
  for (let i = 0; i < n; i++) {
    const bi = (w[2 * i + hw] - lowest) >>> shift;
    of[i] = bi;
    c[bi]++;
  }
  const h = last * 0.5;
  const lo = Math.floor(h);
  let b = 0;
  let below = 0;
  while (below + c[b] <= lo) below += c[b++];
  if (bucket.length < c[b]) bucket = new Float64Array(Math.max(c[b], bucket.length * 2));
  const picked = bucket;
  // The next bucket that holds a gap: should rank lo be its own bucket's greatest, the least of
  // that bucket's gaps is rank lo + 1 (buckets order their gaps). Taken in the same pass: a pass of
  // its own, over the gaps of every later bucket, mispredicted about half of its branches.
  let b2 = b + 1;
  while (b2 < c.length && c[b2] === 0) b2++;
  let next2 = Infinity;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const o = of[i];
    if (o === b) picked[m++] = values[i];
    else if (o === b2 && values[i] < next2) next2 = values[i];
  }
  const r = lo - below;
  if (m > 1) quickselect(picked as unknown as number[], r, 0, m - 1);
  let q = picked[r];
  if (h > lo) {
    // The next rank: the least of the bucket's values past r, else the least of the next bucket's.
    let next = r + 1 === m ? next2 : Infinity;
    for (let i = r + 1; i < m; i++) if (picked[i] < next) next = picked[i];
    q += (h - lo) * (next - q);
  }
  return q;
}

/** Type-7 median of values[0..last], which it reorders. */
function median(values: Float64Array, last: number): number {
  const h = last * 0.5;
  const lo = Math.floor(h);
  // quickselect reads right = 0 as "the whole array": a one-gap range is in place already.
  if (last > 0) quickselect(values as unknown as number[], lo, 0, last);
  let q = values[lo];
  if (h > lo) {
    // After the selection the values above rank lo lie past it, unordered: the next rank is their least.
    let next = values[lo + 1];
    for (let i = lo + 2; i <= last; i++) if (values[i] < next) next = values[i];
    q += (h - lo) * (next - q);
  }
  return q;
}
