const NO_TOKENS = new Float64Array(0);
const NO_STEPS = new Int32Array(0);

/**
 * When each output token of a sequence was emitted, by index, and by which replica step. Empty
 * until the first token: a queued sequence holds no buffer (under a burst every request waits at
 * once, and their buffers were half the simulator's memory and most of its page faults).
 */
export class TokenTimes {
  times_s: Float64Array = NO_TOKENS;
  /** The replica step that emitted each token (−1 where unknown), beside `times_s`. */
  steps: Int32Array = NO_STEPS;

  /** Records token `index` (of `capacity` in all) at `time_s` by step `step`; index 0 allocates the buffers. */
  stamp(index: number, capacity: number, time_s: number, step: number): void {
    if (index === 0) {
      // One buffer for both: an ArrayBuffer's allocation costs more than its size.
      const buffer = new ArrayBuffer(capacity * 12);
      this.times_s = new Float64Array(buffer, 0, capacity);
      this.steps = new Int32Array(buffer, capacity * 8, capacity);
    }
    this.steps[index] = step;
    this.times_s[index] = time_s;
  }
}
