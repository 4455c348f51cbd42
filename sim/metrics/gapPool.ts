import { F64List } from './f64list.js';
import type { Samples } from './select.js';

/**
 * When each engine step of one replica stamped its tokens (step end + frontend output latency),
 * by step index. A token emitted at step s carries exactly this number as its time.
 */
export class StepStamps {
  private stamps = new Float64Array(1024);
  length = 0;

  /** Records step `step`'s stamp; steps come in order, each once. */
  push(step: number, stamp_s: number): void {
    if (step !== this.length) throw new Error(`step ${step} stamped out of order (next expected: ${this.length})`);
    if (this.length === this.stamps.length) {
      const grown = new Float64Array(this.stamps.length * 2);
      grown.set(this.stamps);
      this.stamps = grown;
    }
    this.stamps[this.length++] = stamp_s;
  }

  at(step: number): number {
    if (!(step >= 0 && step < this.length)) throw new Error(`step ${step} has no stamp (${this.length} steps stamped)`);
    return this.stamps[step];
  }
}

/**
 * The inter-token gaps of a set of requests on one replica, kept exactly in memory that grows with
 * engine steps, not with tokens. A gap between tokens of consecutive steps s − 1 and s is the same
 * number for every sequence decoding through both (stamp[s] − stamp[s − 1]), so it is counted per
 * step; other gaps (a token after a preemption or a swap, a step skipped) are kept as values.
 * Pooling every gap as a value cost 8 bytes per output token: 1.3 GB for a million requests.
 */
export class GapPool {
  /** counts[s]: gaps between tokens stamped at steps s − 1 and s. */
  private counts = new Int32Array(1024);
  private readonly other = new F64List(256);
  /** Gaps pooled. */
  length = 0;

  constructor(readonly stamps: StepStamps) {}

  /**
   * Pools the gaps between the first `tokens` token times of one request. `steps[k]`, when known,
   * is the step that stamped token k: then `times[k]` must be that step's stamp.
   */
  add(times: ArrayLike<number>, steps: ArrayLike<number> | undefined, tokens: number): void {
    for (let k = 1; k < tokens; k++) {
      const s = steps === undefined ? -1 : steps[k];
      if (s > 0 && (steps as ArrayLike<number>)[k - 1] === s - 1) {
        // The count stands for stamp[s] − stamp[s − 1]: only right if these are the very numbers.
        if (times[k] !== this.stamps.at(s) || times[k - 1] !== this.stamps.at(s - 1)) {
          throw new Error(`token times ${times[k - 1]}, ${times[k]} are not the stamps of steps ${s - 1}, ${s}`);
        }
        if (s >= this.counts.length) {
          const grown = new Int32Array(Math.max(s + 1, this.counts.length * 2));
          grown.set(this.counts);
          this.counts = grown;
        }
        this.counts[s]++;
      } else this.other.push(times[k] - times[k - 1]);
    }
    if (tokens > 1) this.length += tokens - 1;
  }

  /** An independent pool holding the same gaps. */
  clone(): GapPool {
    const copy = new GapPool(this.stamps);
    copy.counts = this.counts.slice();
    for (const chunk of this.other.chunks()) copy.other.append(chunk, chunk.length);
    copy.length = this.length;
    return copy;
  }

  /** The pooled gaps for `summarize`: one weighted value per step that has any, then the others. */
  samples(): Samples[] {
    const counts = this.counts;
    let used = 0;
    for (let s = 1; s < counts.length; s++) if (counts[s] > 0) used++;
    const values = new Float64Array(used);
    const weights = new Int32Array(used);
    for (let s = 1, i = 0; s < counts.length; s++) {
      if (counts[s] === 0) continue;
      values[i] = this.stamps.at(s) - this.stamps.at(s - 1);
      weights[i++] = counts[s];
    }
    return [{ values, weights }, ...this.other.chunks()];
  }
}
