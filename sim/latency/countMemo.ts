/**
 * Operator times that depend on one count alone, kept per count. A step's GEMMs, elementwise
 * kernels and all-reduces depend only on its (padded) token count, and the LM head only on the
 * sequences that emit; a run meets the same few hundred counts hundreds of thousands of times.
 * The values are copied back exactly as they were computed, with their measured flags, so a
 * step's time is the same number with or without the memo.
 */
export class CountMemo {
  /** Per count: its ops' times, then whether each came from a measured table (1) or not (0). */
  private times = new Float64Array(0);
  private measured = new Uint8Array(0);
  /** 1 where the count's entry is filled. */
  private known = new Uint8Array(0);

  /**
   * `ops`: the slots of the per-step time and measured arrays this memo keeps. Counts above
   * `limit` are not kept (a static batch of 100 k tokens would not repeat).
   */
  constructor(
    private readonly ops: readonly number[],
    private readonly limit = 1 << 16,
  ) {}

  /** Copies count `n`'s kept times and flags into the step's arrays; false when it has none yet. */
  restore(n: number, times: Float64Array, measured: Uint8Array): boolean {
    if (!this.has(n)) return false;
    // Once a step: the kept arrays read once, not at every slot.
    const ops = this.ops;
    const keptTimes = this.times;
    const keptMeasured = this.measured;
    const at = n * ops.length;
    for (let i = 0; i < ops.length; i++) {
      times[ops[i]] = keptTimes[at + i];
      measured[ops[i]] = keptMeasured[at + i];
    }
    return true;
  }

  /** Whether count `n` has kept times (a count never saved, or not a count at all, has none). */
  has(n: number): boolean {
    return n < this.known.length && this.known[n] === 1;
  }

  /** Count `n`'s kept time of the `k`-th op of the list this memo was made with (after `has(n)`). */
  keptTime(n: number, k: number): number {
    return this.times[n * this.ops.length + k];
  }

  /** Keeps count `n`'s times and flags, just computed into the step's arrays. */
  save(n: number, times: Float64Array, measured: Uint8Array): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= this.limit)) return;
    if (n >= this.known.length) this.grow(n);
    const ops = this.ops;
    const at = n * ops.length;
    for (let i = 0; i < ops.length; i++) {
      this.times[at + i] = times[ops[i]];
      this.measured[at + i] = measured[ops[i]];
    }
    this.known[n] = 1;
  }

  private grow(n: number): void {
    let size = Math.max(64, this.known.length);
    while (size <= n) size *= 2;
    const k = this.ops.length;
    const times = new Float64Array(size * k);
    times.set(this.times);
    const measured = new Uint8Array(size * k);
    measured.set(this.measured);
    const known = new Uint8Array(size);
    known.set(this.known);
    this.times = times;
    this.measured = measured;
    this.known = known;
  }
}
