import type { SpilledValues } from './spill.js';

/**
 * The passes of select.ts's radix select over the samples' bit patterns, and the samples' forms
 * they read: a float64's bits, with the sign bit flipped for positives and every bit flipped for
 * negatives, sort as unsigned integers in the order of the numbers; each pass counts the next 16
 * bits of the values whose known digits match a group's (select.ts says how the ranks are found).
 */

/** Bins of one 16-bit digit. */
export const DIGIT_BINS = 1 << 16;

/** Values that each stand for `weights[i]` equal samples (inter-token gaps counted per engine step). */
export interface WeightedValues {
  readonly values: Float64Array;
  readonly weights: Int32Array;
}

/** Samples: plain values (one sample each), weighted ones, or plain values written to a spill file. */
export type Samples = Float64Array | WeightedValues | SpilledValues;

/** The samples' values where they can be read: a spilled segment is read into its file's buffer, valid until the next read. */
export function inMemory(s: Samples): Float64Array | WeightedValues {
  if (!('spill' in s)) return s;
  return s.weighted ? s.spill.readWeighted(s) : s.spill.read(s);
}

interface Source {
  values: Float64Array;
  /** Undefined: every value weighs 1. */
  weights: Int32Array | undefined;
  words: Uint32Array;
}

/** `s` as words to scan; a spilled segment is read now, so use it before the next source. */
function asWeighted(sample: Samples): Source {
  const s = inMemory(sample);
  const values = s instanceof Float64Array ? s : s.values;
  return { values, weights: s instanceof Float64Array ? undefined : s.weights, words: new Uint32Array(values.buffer, values.byteOffset, values.length * 2) };
}

/** Ranks still open whose values share `digits`: one histogram of the next digit (or one copy) for them all; `M` is the select's rank record. */
export interface Group<M = unknown> {
  digits: number[];
  members: M[];
  /** Sample counts of the next digit; undefined when the bin is small enough to copy out. */
  histogram: Float64Array | undefined;
  /** The copied-out values and their weights. */
  values: Float64Array;
  weights: Float64Array;
  /** Entries copied into values and weights so far. */
  collected: number;
}

/** High 32 bits of the sortable key of the float64 whose high word is `hi`. */
function keyHigh(hi: number): number {
  return (hi >>> 31 === 1 ? ~hi : hi | 0x80000000) >>> 0;
}

/** Low 32 bits of the sortable key of the float64 with high word `hi` and low word `lo`. */
function keyLow(hi: number, lo: number): number {
  return (hi >>> 31 === 1 ? ~lo : lo) >>> 0;
}

/** Level 0: the top 16 bits of every value. */
export function countTopDigits(sources: readonly Samples[], histogram: Float64Array): void {
  for (const source of sources) {
    const { words: w, weights } = asWeighted(source);
    if (weights === undefined) for (let i = 1, len = w.length; i < len; i += 2) histogram[keyHigh(w[i]) >>> 16]++;
    else for (let i = 0, len = weights.length; i < len; i++) histogram[keyHigh(w[2 * i + 1]) >>> 16] += weights[i];
  }
}

/**
 * Levels 1–3: for each value whose known digits match a group's, count its next digit there (or
 * copy it out). Level 1 matches 16 bits through a table; levels 2 and 3 compare with each group.
 */
export function scanGroups(sources: readonly Samples[], groups: readonly Group<unknown>[], level: number): void {
  const slotOfTop = level === 1 ? new Int16Array(DIGIT_BINS).fill(-1) : undefined;
  if (slotOfTop !== undefined) groups.forEach((g, i) => (slotOfTop[g.digits[0]] = i));
  const wantHi = groups.map((g) => (level === 1 ? 0 : ((g.digits[0] << 16) | g.digits[1]) >>> 0));
  const wantLoTop = groups.map((g) => (level === 3 ? g.digits[2] : -1));
  for (const source of sources) {
    const { values, weights, words: w } = asWeighted(source);
    if (weights === undefined && level <= 2) {
      if (slotOfTop !== undefined) scanTopPlain(values, w, slotOfTop, groups);
      else scanSecondPlain(values, w, wantHi, groups);
      continue;
    }
    for (let i = 0, len = values.length; i < len; i++) {
      // A value that stands for no sample is in no bin (the copied-out room counts samples).
      if (weights !== undefined && weights[i] === 0) continue;
      const hi = w[2 * i + 1];
      const keyHi = keyHigh(hi);
      let slot = -1;
      if (slotOfTop !== undefined) slot = slotOfTop[keyHi >>> 16];
      else {
        for (let g = 0; g < groups.length; g++) {
          if (keyHi !== wantHi[g]) continue;
          if (level === 3 && keyLow(hi, w[2 * i]) >>> 16 !== wantLoTop[g]) continue;
          slot = g;
          break;
        }
      }
      if (slot < 0) continue;
      const g = groups[slot];
      const weight = weights === undefined ? 1 : weights[i];
      const hist = g.histogram;
      if (hist === undefined) {
        g.values[g.collected] = values[i];
        g.weights[g.collected++] = weight;
      } else if (level === 1) hist[keyHi & 0xffff] += weight;
      else if (level === 2) hist[keyLow(hi, w[2 * i]) >>> 16] += weight;
      else hist[keyLow(hi, w[2 * i]) & 0xffff] += weight;
    }
  }
}

/**
 * Level 1 over plain values (the many: every spilled latency sample), as `scanGroups` does it, in
 * a loop of its own: most values match no group and leave after one table lookup (a select over
 * 10 M values took 204 ms through the general loop, with its weight and level tests, 132 ms so).
 */
function scanTopPlain(values: Float64Array, w: Uint32Array, slotOfTop: Int16Array, groups: readonly Group<unknown>[]): void {
  for (let i = 0, len = values.length; i < len; i++) {
    const keyHi = keyHigh(w[2 * i + 1]);
    const slot = slotOfTop[keyHi >>> 16];
    if (slot < 0) continue;
    const g = groups[slot];
    const hist = g.histogram;
    if (hist !== undefined) hist[keyHi & 0xffff]++;
    else {
      g.values[g.collected] = values[i];
      g.weights[g.collected++] = 1;
    }
  }
}

/** Level 2 over plain values, in a loop of its own as `scanTopPlain`: a value's top 32 key bits against each group's. */
function scanSecondPlain(values: Float64Array, w: Uint32Array, wantHi: readonly number[], groups: readonly Group<unknown>[]): void {
  const n = groups.length;
  for (let i = 0, len = values.length; i < len; i++) {
    const hi = w[2 * i + 1];
    const keyHi = keyHigh(hi);
    let slot = 0;
    while (slot < n && wantHi[slot] !== keyHi) slot++;
    if (slot === n) continue;
    const g = groups[slot];
    const hist = g.histogram;
    if (hist !== undefined) hist[keyLow(hi, w[2 * i]) >>> 16]++;
    else {
      g.values[g.collected] = values[i];
      g.weights[g.collected++] = 1;
    }
  }
}

const scratchWords = new Uint32Array(2);
const scratchValue = new Float64Array(scratchWords.buffer);

/** The float64 whose sortable key has these four 16-bit digits. */
export function valueOfKey(digits: readonly number[]): number {
  const keyHi = ((digits[0] << 16) | digits[1]) >>> 0;
  const keyLo = ((digits[2] << 16) | digits[3]) >>> 0;
  const negative = keyHi >>> 31 === 0;
  scratchWords[1] = negative ? ~keyHi : keyHi & 0x7fffffff;
  scratchWords[0] = negative ? ~keyLo : keyLo;
  return scratchValue[0];
}
