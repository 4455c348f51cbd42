import { F64List } from './f64list.js';
import type { Samples } from './select.js';
import type { SpilledValues, SpillFile } from './spill.js';
import type { StepStamps } from './stepStamps.js';
import { PASS_CHUNK } from './weightedSelect.js';

/**
 * The inter-token gaps of a set of requests on one replica, kept exactly in memory that grows with
 * engine steps, not with tokens. A gap between tokens of consecutive steps s − 1 and s is the same
 * number for every sequence decoding through both (stamp[s] − stamp[s − 1]), so it is counted per
 * step; other gaps (a token after a preemption or a swap, a step skipped) are kept as values.
 * Pooling every gap as a value cost 8 bytes per output token: 1.3 GB for a million requests.
 * With a spill file (see StepStamps), counts of steps that left the window are on disk; a gap at
 * such a step, from a request that ran that long, is kept as a value instead. It is the same number,
 * so percentiles, counts and the maximum are as without a spill file; the mean, summed in another
 * order, may differ in its last bits (only in a run with such a request).
 */
export class GapPool {
  /**
   * The count of gaps between tokens stamped at steps base + i − 1 and base + i is the sum of
   * deltas[0..i]: a request's stretch of consecutive steps adds one at its first gap's step and
   * takes it back past its last, so pooling costs a pass over its steps, not an update per token.
   */
  private deltas = new Int32Array(1024);
  private base = 0;
  private readonly flushed: SpilledValues[] = [];
  private other: F64List;
  /** Gaps pooled. */
  length = 0;

  constructor(readonly stamps: StepStamps) {
    this.other = new F64List(256, undefined, stamps.spill);
    // A pool made after steps left the window (a priority class's first request on a replica) starts at the window.
    this.base = stamps.base;
    if (stamps.spill !== undefined) stamps.subscribe(this);
  }

  /**
   * Pools the gaps between the first `tokens` token times of one request. `steps[k]`, when known,
   * is the step that stamped token k: then `times[k]` must be that step's stamp.
   */
  add(times: ArrayLike<number>, steps: ArrayLike<number> | undefined, tokens: number): void {
    let k = 1;
    while (k < tokens) {
      const s = steps === undefined ? -1 : steps[k];
      if (s > 0 && (steps as ArrayLike<number>)[k - 1] === s - 1 && s >= this.base) {
        // Tokens k − 1 .. j − 1 come from consecutive steps s − 1, s, …: their gaps are counted at steps s .. s + j − k − 1.
        const j = this.stretchEnd(times, steps as ArrayLike<number>, k, tokens, s);
        const first = s - this.base;
        this.countStretch(first, first + j - k);
        k = j;
      } else {
        this.other.push(times[k] - times[k - 1]);
        k++;
      }
    }
    if (tokens > 1) this.length += tokens - 1;
  }

  /**
   * Pools a request's gaps: by `addStretch` when its token k was stamped by step `stretch` + k
   * (stretch ≥ 0) and the counts reach back that far, else by `add`.
   */
  addTokens(times: ArrayLike<number>, steps: ArrayLike<number> | undefined, tokens: number, stretch: number): void {
    if (!(stretch >= 0 && this.addStretch(stretch, tokens))) this.add(times, steps, tokens);
  }

  /**
   * Pools the gaps of a request whose token k was stamped by step `step` + k, every k < `tokens`
   * (its times are those steps' stamps, as `add` would check): a count at each step, in O(1).
   * Returns false, pooling nothing, where its first gap's step is below the counts kept (`add` then).
   */
  private addStretch(step: number, tokens: number): boolean {
    const first = step + 1 - this.base;
    if (first < 0) return false;
    if (tokens < 2) return true;
    this.countStretch(first, first + tokens - 1);
    this.length += tokens - 1;
    return true;
  }

  /** One more gap at each of the steps base + first .. base + end − 1. */
  private countStretch(first: number, end: number): void {
    if (end >= this.deltas.length) {
      const grown = new Int32Array(Math.max(end + 1, this.deltas.length * 2));
      grown.set(this.deltas);
      this.deltas = grown;
    }
    this.deltas[first]++;
    this.deltas[end]--;
  }

  /**
   * The end (exclusive) of the stretch of tokens from k − 1 stamped by consecutive steps from
   * s − 1; each token's time must be its step's stamp, so that a count stands for their very gaps.
   * One pass both finds the stretch and checks it.
   */
  private stretchEnd(times: ArrayLike<number>, steps: ArrayLike<number>, k: number, tokens: number, s: number): number {
    const stamps = this.stamps;
    // The stamps held, read in place; steps outside (base − 1, or not stamped) go through `at`.
    const kept = stamps.kept();
    const base = stamps.base;
    const held = stamps.length;
    if (times[k - 1] !== stamps.at(s - 1)) this.mismatch(times, k - 1, s - 1);
    let j = k;
    for (let t = s; j < tokens && steps[j] === t; j++, t++) {
      if (times[j] !== (t >= base && t < held ? kept[t - base] : stamps.at(t))) this.mismatch(times, j - 1, t - 1);
    }
    return j;
  }

  private mismatch(times: ArrayLike<number>, token: number, step: number): never {
    throw new Error(`token times ${times[token]}, ${times[token + 1]} are not the stamps of steps ${step}, ${step + 1}`);
  }

  /** Writes the counts of steps below `step` to the spill file, as (gap, count) pairs, and drops them. */
  flushBelow(step: number): void {
    const n = Math.min(step - this.base, this.deltas.length);
    const { values, weights, used } = this.weighted(n);
    if (used > 0) this.flushed.push((this.stamps.spill as SpillFile).writeWeighted(values, weights, used));
    // The dropped steps' deltas carry on into the first step kept.
    let carried = 0;
    for (let i = 0; i < n; i++) carried += this.deltas[i];
    this.deltas.copyWithin(0, n);
    this.deltas.fill(0, this.deltas.length - n);
    this.deltas[0] += carried;
    this.base = step;
  }

  /** An independent pool holding the same gaps. */
  clone(): GapPool {
    const copy = new GapPool(this.stamps);
    copy.deltas = this.deltas.slice();
    copy.base = this.base;
    copy.flushed.push(...this.flushed);
    copy.other = this.other.clone();
    copy.length = this.length;
    return copy;
  }

  /** The pooled gaps for `summarize`: one weighted value per step that has any (spilled ones first), then the others. */
  samples(): Samples[] {
    const { values, weights } = this.weighted(this.deltas.length);
    return [...this.flushed, { values, weights }, ...this.other.chunks()];
  }

  /** The steps among the first `to` that have gaps, as (gap, count) pairs. */
  private weighted(to: number): { values: Float64Array; weights: Int32Array; used: number } {
    // Step 0 has no gap before it.
    const first = this.base === 0 ? 1 : 0;
    // In chunks: see weightedSelect.ts's PASS_CHUNK (a summary runs this once per pool, mostly before it is compiled).
    const walk = { count: 0, used: 0 };
    for (let c = 0; c < to; c += PASS_CHUNK) countSteps(this.deltas, c, Math.min(to, c + PASS_CHUNK), first, walk);
    const used = walk.used;
    const out = { values: new Float64Array(used), weights: new Int32Array(used), used };
    walk.count = 0;
    walk.used = 0;
    for (let c = 0; c < to; c += PASS_CHUNK) this.fillSteps(c, Math.min(to, c + PASS_CHUNK), first, walk, out);
    return out;
  }

  /** The (gap, count) pairs of steps base + from .. base + to − 1, after `walk.used` pairs. */
  private fillSteps(from: number, to: number, first: number, walk: { count: number; used: number }, out: { values: Float64Array; weights: Int32Array }): void {
    const deltas = this.deltas;
    const { values, weights } = out;
    const stamps = this.stamps;
    // The stamps held, read in place.
    const kept = stamps.kept();
    const held = stamps.length - stamps.base;
    const offset = this.base - stamps.base;
    let { count, used: j } = walk;
    for (let i = from; i < to; i++) {
      count += deltas[i];
      if (count === 0 || i < first) continue;
      const k = i + offset;
      values[j] = k >= 1 && k < held ? kept[k] - kept[k - 1] : stamps.at(this.base + i) - stamps.at(this.base + i - 1);
      weights[j++] = count;
    }
    walk.count = count;
    walk.used = j;
  }
}


/** Counts the steps of deltas[from..to) with gaps (a running count above 0, from index `first`), carrying the count in `walk`. */
function countSteps(deltas: Int32Array, from: number, to: number, first: number, walk: { count: number; used: number }): void {
  let { count, used } = walk;
  for (let i = from; i < to; i++) {
    count += deltas[i];
    if (count > 0 && i >= first) used++;
  }
  walk.count = count;
  walk.used = used;
}
