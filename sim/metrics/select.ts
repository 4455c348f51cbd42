import { endianness } from 'node:os';
import { quickselect } from 'simple-statistics';
import { countTopDigits, DIGIT_BINS, inMemory, scanGroups, valueOfKey, type Group as ScanGroup, type Samples, type WeightedValues } from './radixScan.js';
import { weightedOrderStatistics } from './weightedSelect.js';

export { inMemory, type Samples } from './radixScan.js';

/**
 * Type-7 quantiles of values[0..n) for the ascending probabilities `ps`, written to `out`.
 * n ≥ 1, no NaN. Reorders values[0..n); leaves the rest alone. For a scratch array (one request's
 * gaps, ~100 values, 20,000 requests a run): simple-statistics' `quantile` would copy the input
 * and allocate on every call; its quickselect works in place.
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

/**
 * Exact type-7 quantiles (stats.ts) of values spread over several arrays — a pool's chunks,
 * or every replica's pool — found without joining or reordering them. A million requests pool
 * about 160 M inter-token gaps (1.3 GB); joining the replicas' pools for the overall percentiles
 * doubled the run's peak memory.
 *
 * Method: radix select on the values' bit patterns. A float64's bits, with the sign bit flipped
 * for positives and every bit flipped for negatives, sort as unsigned integers in the same order as
 * the numbers. The first pass counts the top 16 bits of every value; for each wanted rank, the
 * bin holding it is known, and the next pass counts the next 16 bits of that bin's values only.
 * Once a rank's bin holds few enough values (COLLECT_MAX) they are copied out and selected with
 * quickselect; a bin of more goes on down to all 64 bits, which name the value exactly. Typically
 * three passes over the values, each a read and an increment. What is copied out is bounded, so
 * the memory a summary takes does not grow with the samples (they may lie in a spill file).
 */

/** Below this many values in all, join them and select in place: cheaper than the passes. */
const JOIN_BELOW = 1 << 16;
/** A rank's bin of at most this many values is copied out and selected (a bin of 1 M copied out took ~50 MB at 2 M requests). */
const COLLECT_MAX = 1 << 16;
const LITTLE_ENDIAN = endianness() === 'LE';
/**
 * In-memory samples of at most this many entries (a weighted value is one) are selected by
 * quickselect over copies of the entries (16 bytes each, 8 MiB at most): over the ~250 k per-step entries of the
 * Azure trace's 4 M gaps that took a third of the radix select's time. More, or spilled, take the
 * radix select, whose memory does not grow with them.
 */
const SELECT_ENTRIES_MAX = 1 << 19;

/** Histograms given back (`reuseHistogram`): a summary selects over ~45 lists, each taking 2–10 histograms of 512 KiB. */
const spareHistograms: Float64Array[] = [];
const SPARE_HISTOGRAMS_MAX = 4;

function emptyHistogram(): Float64Array {
  const h = spareHistograms.pop();
  return h === undefined ? new Float64Array(DIGIT_BINS) : h.fill(0);
}

function reuseHistogram(h: Float64Array): void {
  if (spareHistograms.length < SPARE_HISTOGRAMS_MAX) spareHistograms.push(h);
}

/** One wanted rank: the bits of its value found so far, and its rank among the values sharing them. */
interface Target {
  rank: number;
  /** Known leading key digits, 16 bits each (0–4 of them). */
  digits: number[];
  /** Values sharing those digits. */
  count: number;
  value: number;
  done: boolean;
}

type Group = ScanGroup<Target>;


/** The number of samples in `s`. */
function sampleCount(s: Samples): number {
  if (s instanceof Float64Array) return s.length;
  if ('spill' in s) return s.samples;
  let n = 0;
  for (let i = 0; i < s.weights.length; i++) n += s.weights[i];
  return n;
}

/**
 * Type-7 quantiles, for the ascending probabilities `ps`, of every sample in `sources` (n ≥ 1 in
 * all, no NaN), written to `out`. The sources are left as they are. `entriesMax`: the most entries
 * selected by quickselect over copies (tests pass 0 to take the radix select). `samples`: their
 * number, where the caller has counted them already (counting weighted ones is a pass of its own).
 */
export function quantilesOfChunks(sources: readonly Samples[], ps: readonly number[], out: Float64Array | number[], entriesMax = SELECT_ENTRIES_MAX, samples?: number): void {
  let n = samples ?? 0;
  let entries = 0;
  let spilled = false;
  for (const c of sources) {
    if (samples === undefined) n += sampleCount(c);
    if ('spill' in c) spilled = true;
    else entries += c instanceof Float64Array ? c.length : c.values.length;
  }
  if (n === 0) throw new Error('quantilesOfChunks: no values');
  if (n < JOIN_BELOW || !LITTLE_ENDIAN) {
    quantilesInPlace(joinSamples(sources, n), n, ps, out);
    return;
  }
  const last = n - 1;
  const ranks: number[] = [];
  for (let i = 0; i < ps.length; i++) {
    if (i > 0 && !(ps[i] >= ps[i - 1])) throw new Error(`quantilesOfChunks: probabilities must ascend, got ${ps.join(', ')}`);
    const h = last * ps[i];
    const lo = Math.floor(h);
    ranks.push(lo);
    if (h > lo) ranks.push(lo + 1);
  }
  const wanted = [...new Set(ranks)];
  const values = spilled || entries > entriesMax ? orderStatistics(sources, wanted, n) : selectEntries(sources as readonly (Float64Array | WeightedValues)[], entries, wanted, n);
  for (let i = 0; i < ps.length; i++) {
    const h = last * ps[i];
    const lo = Math.floor(h);
    let q = values.get(lo) as number;
    if (h > lo) q += (h - lo) * ((values.get(lo + 1) as number) - q);
    out[i] = q;
  }
}

/** The values at `ranks` by quickselect over the entries (weightedSelect.ts), or, should that give up, the radix select. */
function selectEntries(sources: readonly (Float64Array | WeightedValues)[], entries: number, ranks: readonly number[], n: number): Map<number, number> {
  const found = new Array<number>(ranks.length).fill(NaN);
  const asEntries = sources.map((s) => (s instanceof Float64Array ? { values: s, weights: undefined } : s));
  if (!weightedOrderStatistics(asEntries, entries, ranks, found)) return orderStatistics(sources, ranks, n);
  return new Map(ranks.map((rank, i) => [rank, found[i]]));
}

/** Every sample as one array, weighted values repeated. */
function joinSamples(sources: readonly Samples[], n: number): Float64Array {
  const joined = new Float64Array(n);
  let at = 0;
  for (const source of sources) {
    const c = inMemory(source);
    if (c instanceof Float64Array) {
      joined.set(c, at);
      at += c.length;
    } else {
      for (let i = 0; i < c.values.length; i++) joined.fill(c.values[i], at, (at += c.weights[i]));
    }
  }
  return joined;
}


/** The values at the given 0-based ranks (ascending order) of the n samples in `sources`. */
function orderStatistics(sources: readonly Samples[], ranks: readonly number[], n: number): Map<number, number> {
  const targets: Target[] = ranks.map((rank) => ({ rank, digits: [], count: n, value: NaN, done: false }));
  for (let level = 0; level < 4 && targets.some((t) => !t.done); level++) {
    // Targets still open, grouped by their known digits: one histogram (or one copy) per group.
    const byDigits = new Map<string, Group>();
    for (const t of targets) {
      if (t.done) continue;
      const key = t.digits.join(',');
      let g = byDigits.get(key);
      if (g === undefined) {
        // A bin of few samples holds few values: copy them out.
        const collect = level > 0 && t.count <= COLLECT_MAX;
        // At most t.count entries (fewer when weighted): sized once, so copying out allocates one buffer.
        const room = collect ? t.count : 0;
        g = { digits: t.digits, members: [], histogram: collect ? undefined : emptyHistogram(), values: new Float64Array(room), weights: new Float64Array(room), collected: 0 };
        byDigits.set(key, g);
      }
      g.members.push(t);
    }
    const groups = [...byDigits.values()];
    if (level === 0) countTopDigits(sources, groups[0].histogram as Float64Array);
    else scanGroups(sources, groups, level);
    for (const g of groups) {
      if (g.histogram === undefined) {
        resolveCollected(g);
        continue;
      }
      // One walk up the histogram for all of the group's members, whose ranks ascend (a walk per
      // member over 65,536 bins was a fifth of a large run's summary).
      const hist = g.histogram;
      let below = 0;
      let d = 0;
      for (const t of g.members) {
        while (below + hist[d] <= t.rank) below += hist[d++];
        t.rank -= below;
        t.count = hist[d];
        t.digits = [...t.digits, d];
        if (t.digits.length === 4) {
          t.value = valueOfKey(t.digits);
          t.done = true;
        }
      }
      reuseHistogram(hist);
    }
  }
  return new Map(targets.map((t, i) => [ranks[i], t.value]));
}

/**
 * Each member's value among a bin's copied-out samples. Values of weight 1 (the many) are sorted
 * natively; weighted ones (the few) by index; a merge of the two walks to each rank.
 */
function resolveCollected(g: Group): void {
  const values = g.values.subarray(0, g.collected);
  const weights = g.weights.subarray(0, g.collected);
  let total = 0;
  let plainCount = 0;
  for (const w of weights) {
    total += w;
    if (w === 1) plainCount++;
  }
  if (total !== g.members[0].count) throw new Error(`quantilesOfChunks: a bin counted ${g.members[0].count} samples but held ${total}`);
  const plain = new Float64Array(plainCount);
  const weighted: number[] = [];
  for (let i = 0, p = 0; i < values.length; i++) {
    if (weights[i] === 1) plain[p++] = values[i];
    else if (weights[i] > 1) weighted.push(i);
  }
  if (weighted.length === 0) {
    for (const t of g.members) {
      quickselect(plain as unknown as number[], t.rank, 0, plain.length - 1);
      t.value = plain[t.rank];
      t.done = true;
    }
    return;
  }
  plain.sort();
  weighted.sort((a, b) => values[a] - values[b]);
  // Members ascend by rank (their ranks were listed ascending and share this bin's prefix).
  const members = [...g.members].sort((a, b) => a.rank - b.rank);
  let below = 0;
  let p = 0;
  let w = 0;
  for (const t of members) {
    for (;;) {
      const takePlain = w === weighted.length || (p < plain.length && plain[p] <= values[weighted[w]]);
      const value = takePlain ? plain[p] : values[weighted[w]];
      const weight = takePlain ? 1 : weights[weighted[w]];
      if (below + weight > t.rank) {
        t.value = value;
        t.done = true;
        break;
      }
      below += weight;
      if (takePlain) p++;
      else w++;
    }
  }
}
