/**
 * Order statistics of weighted values (a value of weight w stands for w equal samples) by
 * quickselect over the entries, not the samples. A run's inter-token gaps are pooled per engine
 * step: the Azure trace's 4 M gaps are ~250 k (gap, count) entries, which this selects in a few
 * passes over the entries, where the radix select (select.ts) makes its passes over words and
 * histograms of 64 Ki bins. Entries are copied into scratch arrays, so the caller bounds them.
 */

/** Ranges of at most this many entries are sorted by insertion and walked. */
const SMALL = 16;

/** A Float64Array's element i has its high 32-bit word (sign, exponent, 20 mantissa bits) at word 2i + HIGH_WORD. */
export const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
/** Entries from which each rank is first narrowed to one bucket of a histogram (below, copying them all is as fast). */
const BUCKETED_FROM = 4096;
/** log2 of that histogram's buckets. */
const BUCKET_BITS = 12;
const bucketWeight = new Float64Array(1 << BUCKET_BITS);
const bucketEntries = new Int32Array(1 << BUCKET_BITS);
/** A bucket's segment of the scratch arrays while it is gathered; −1 for buckets that hold no wanted rank. */
const segmentOf = new Int32Array(1 << BUCKET_BITS).fill(-1);

let values = new Float64Array(0);
let weights = new Float64Array(0);
/** Entry visits left before the selection gives up (bad pivots on adversarial data). */
let budget = 0;

/**
 * The values at the 0-based sample ranks `ranks` (ascending, each below the samples' total) of the
 * `entries` entries of `sources`, written to `out` in the same order. A source without weights
 * weighs 1 per value; no NaN. False, with `out` incomplete, when the partitions visited more than
 * `workFactor` × the entries they were given (all of them, or from 4,096 entries those of the
 * buckets holding wanted ranks): quickselect's quadratic worst case; the caller then selects
 * otherwise.
 */
export function weightedOrderStatistics(
  sources: readonly { values: Float64Array; weights: Int32Array | undefined }[],
  entries: number,
  ranks: readonly number[],
  out: number[],
  workFactor = 64,
): boolean {
  if (entries >= BUCKETED_FROM) {
    const done = bucketedOrderStatistics(sources, ranks, out, workFactor);
    if (done !== undefined) return done;
  }
  if (values.length < entries) {
    values = new Float64Array(entries);
    weights = new Float64Array(entries);
  }
  let m = 0;
  for (const s of sources) {
    const v = s.values;
    const w = s.weights;
    for (let i = 0; i < v.length; i++) {
      const weight = w === undefined ? 1 : w[i];
      // A value that stands for no sample is no entry.
      if (weight === 0) continue;
      values[m] = v[i];
      weights[m++] = weight;
    }
  }
  budget = workFactor * m;
  return selectRanks(0, m - 1, 0, ranks, 0, ranks.length, out);
}

type Sources = readonly { values: Float64Array; weights: Int32Array | undefined }[];

const highWords = (v: Float64Array): Uint32Array => new Uint32Array(v.buffer, v.byteOffset, 2 * v.length);

/**
 * `weightedOrderStatistics` without copying every entry. Finite doubles without a sign bit order
 * as their high 32-bit words, so a weighted histogram of those words (shifted to fit its buckets)
 * tells which bucket holds each wanted rank and how many samples lie below it, in branch-free
 * passes; only those buckets' entries are copied and partitioned. The same numbers: a rank's value
 * is unique. Undefined when a value is negative, −0, infinite or NaN, whose words do not order them.
 */
function bucketedOrderStatistics(sources: Sources, ranks: readonly number[], out: number[], workFactor: number): boolean | undefined {
  if (ranks.length === 0) return true;
  range.lowest = 0xffffffff;
  range.highest = 0;
  // Entries of weight 0 too: they are gathered with the others, and stand for no sample there.
  for (const s of sources) {
    const words = highWords(s.values);
    for (let c = 0; c < s.values.length; c += PASS_CHUNK) wordRange(words, c, Math.min(s.values.length, c + PASS_CHUNK));
  }
  const { lowest, highest } = range;
  if (highest >= 0x7ff00000 || highest < lowest) return undefined;
  const bits = 32 - Math.clz32(highest - lowest);
  const shift = bits > BUCKET_BITS ? bits - BUCKET_BITS : 0;
  const buckets = ((highest - lowest) >>> shift) + 1;
  bucketWeight.fill(0, 0, buckets);
  bucketEntries.fill(0, 0, buckets);
  for (const s of sources) {
    const words = highWords(s.values);
    for (let c = 0; c < s.values.length; c += PASS_CHUNK) histogram(words, s.weights, c, Math.min(s.values.length, c + PASS_CHUNK), lowest, shift);
  }
  const segments = rankSegments(ranks, buckets);
  // The bucket-to-segment table is module state: left set by a throw, it would misplace the next call's entries.
  try {
    for (let k = 0; k < segments.length; k++) segmentOf[segments[k].bucket] = k;
    const m = gather(sources, segments, lowest, shift);
    budget = workFactor * m;
    let ok = true;
    for (let k = 0; k < segments.length && ok; k++) {
      const g = segments[k];
      ok = selectRanks(g.start, g.start + bucketEntries[g.bucket] - 1, g.below, ranks, g.from, g.to, out);
    }
    return ok;
  } finally {
    for (const g of segments) segmentOf[g.bucket] = -1;
  }
}

/** The buckets that hold wanted ranks: each with the samples below it, its ranks [from, to) and its place in the scratch arrays. */
function rankSegments(ranks: readonly number[], buckets: number): { bucket: number; below: number; from: number; to: number; start: number }[] {
  const segments = [];
  let b = 0;
  let below = 0;
  let start = 0;
  for (let k = 0; k < ranks.length; ) {
    while (b < buckets && below + bucketWeight[b] <= ranks[k]) below += bucketWeight[b++];
    if (b === buckets) throw new Error(`weightedOrderStatistics: rank ${ranks[k]} lies beyond the ${below} samples`);
    const from = k;
    while (k < ranks.length && ranks[k] < below + bucketWeight[b]) k++;
    segments.push({ bucket: b, below, from, to: k, start });
    start += bucketEntries[b];
    below += bucketWeight[b++];
  }
  return segments;
}

/** Copies the entries of the wanted buckets into the scratch arrays, each bucket's at its segment's start; returns how many. */
function gather(sources: Sources, segments: readonly { bucket: number; start: number }[], lowest: number, shift: number): number {
  const last = segments[segments.length - 1];
  const m = last.start + bucketEntries[last.bucket];
  if (values.length < m) {
    values = new Float64Array(m);
    weights = new Float64Array(m);
  }
  const at = Int32Array.from(segments, (g) => g.start);
  for (const s of sources) {
    const words = highWords(s.values);
    for (let c = 0; c < s.values.length; c += PASS_CHUNK) gatherChunk(s.values, words, s.weights, c, Math.min(s.values.length, c + PASS_CHUNK), lowest, shift, at);
  }
  return m;
}

/*
 * The passes below go over a summary's entries a few times a run, mostly before V8 has compiled
 * them. One long loop is compiled while it runs (on-stack replacement) and that code is dropped at
 * its exit, so the next run's summary starts cold again: short calls of one loop each are compiled
 * whole after a few calls and stay so (the Azure trace's band runs spent ~30 ms a summary before).
 */
export const PASS_CHUNK = 8192;

const range = { lowest: 0, highest: 0 };

function wordRange(words: Uint32Array, from: number, to: number): void {
  let lowest = range.lowest;
  let highest = range.highest;
  for (let i = from; i < to; i++) {
    const h = words[2 * i + HIGH_WORD];
    if (h < lowest) lowest = h;
    if (h > highest) highest = h;
  }
  range.lowest = lowest;
  range.highest = highest;
}

function histogram(words: Uint32Array, w: Int32Array | undefined, from: number, to: number, lowest: number, shift: number): void {
  for (let i = from; i < to; i++) {
    const b = (words[2 * i + HIGH_WORD] - lowest) >>> shift;
    bucketWeight[b] += w === undefined ? 1 : w[i];
    bucketEntries[b]++;
  }
}

function gatherChunk(v: Float64Array, words: Uint32Array, w: Int32Array | undefined, from: number, to: number, lowest: number, shift: number, at: Int32Array): void {
  for (let i = from; i < to; i++) {
    const seg = segmentOf[(words[2 * i + HIGH_WORD] - lowest) >>> shift];
    if (seg < 0) continue;
    const j = at[seg]++;
    values[j] = v[i];
    weights[j] = w === undefined ? 1 : w[i];
  }
}

/**
 * Finds ranks[from..to) (ascending) among entries [lo, hi], whose samples hold the ranks
 * `below`.. of the whole: partitions around a pivot into less, equal and greater, then goes on
 * into the parts that hold wanted ranks.
 */
function selectRanks(lo: number, hi: number, below: number, ranks: readonly number[], from: number, to: number, out: number[]): boolean {
  while (from < to) {
    if (hi - lo < SMALL) {
      walkSorted(lo, hi, below, ranks, from, to, out);
      return true;
    }
    budget -= hi - lo + 1;
    if (budget < 0) return false;
    const pivot = medianOfThree(values[lo], values[(lo + hi) >>> 1], values[hi]);
    // Three-way partition: [lo, lt) < pivot, [lt, i) = pivot, (gt, hi] > pivot.
    let lt = lo;
    let gt = hi;
    let i = lo;
    let lessWeight = 0;
    let equalWeight = 0;
    while (i <= gt) {
      const v = values[i];
      if (v < pivot) {
        lessWeight += weights[i];
        swap(lt++, i++);
      } else if (v > pivot) swap(i, gt--);
      else {
        equalWeight += weights[i];
        i++;
      }
    }
    // Ranks in the lesser part, at the pivot, and above.
    let split = from;
    while (split < to && ranks[split] < below + lessWeight) split++;
    let equalEnd = split;
    while (equalEnd < to && ranks[equalEnd] < below + lessWeight + equalWeight) out[equalEnd++] = pivot;
    if (split === to) {
      // Every rank left lies below the pivot: go on there, without recursion.
      hi = lt - 1;
      continue;
    }
    // Ranks on both sides: recurse into the lesser part (at most once per wanted rank down any
    // path, so the depth stays below the number of ranks), loop on the greater.
    if (split > from && !selectRanks(lo, lt - 1, below, ranks, from, split, out)) return false;
    below += lessWeight + equalWeight;
    from = equalEnd;
    lo = gt + 1;
  }
  return true;
}

function walkSorted(lo: number, hi: number, below: number, ranks: readonly number[], from: number, to: number, out: number[]): void {
  for (let i = lo + 1; i <= hi; i++) {
    const v = values[i];
    const w = weights[i];
    let j = i - 1;
    while (j >= lo && values[j] > v) {
      values[j + 1] = values[j];
      weights[j + 1] = weights[j];
      j--;
    }
    values[j + 1] = v;
    weights[j + 1] = w;
  }
  let k = from;
  for (let i = lo; i <= hi && k < to; i++) {
    below += weights[i];
    while (k < to && ranks[k] < below) out[k++] = values[i];
  }
  if (k < to) throw new Error(`weightedOrderStatistics: rank ${ranks[k]} lies beyond the ${below} samples`);
}

function medianOfThree(a: number, b: number, c: number): number {
  if (a < b) return b < c ? b : a < c ? c : a;
  return a < c ? a : b < c ? c : b;
}

function swap(i: number, j: number): void {
  const v = values[i];
  values[i] = values[j];
  values[j] = v;
  const w = weights[i];
  weights[i] = weights[j];
  weights[j] = w;
}
