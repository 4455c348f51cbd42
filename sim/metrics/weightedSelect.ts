/**
 * Order statistics of weighted values (a value of weight w stands for w equal samples) by
 * quickselect over the entries, not the samples. A run's inter-token gaps are pooled per engine
 * step: the Azure trace's 4 M gaps are ~250 k (gap, count) entries, which this selects in a few
 * passes over the entries, where the radix select (select.ts) makes its passes over words and
 * histograms of 64 Ki bins. Entries are copied into scratch arrays, so the caller bounds them.
 */

/** Ranges of at most this many entries are sorted by insertion and walked. */
const SMALL = 16;

let values = new Float64Array(0);
let weights = new Float64Array(0);
/** Entry visits left before the selection gives up (bad pivots on adversarial data). */
let budget = 0;

/**
 * The values at the 0-based sample ranks `ranks` (ascending, each below the samples' total) of the
 * `entries` entries of `sources`, written to `out` in the same order. A source without weights
 * weighs 1 per value; no NaN. False, with `out` incomplete, when the partitions visited more than
 * `workFactor` × entries (quickselect's quadratic worst case): the caller then selects otherwise.
 */
export function weightedOrderStatistics(
  sources: readonly { values: Float64Array; weights: Int32Array | undefined }[],
  entries: number,
  ranks: readonly number[],
  out: number[],
  workFactor = 64,
): boolean {
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
