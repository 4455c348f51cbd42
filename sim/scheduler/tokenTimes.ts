/**
 * When each output token of a sequence was emitted, by index, and by which replica step.
 * A queued sequence holds the shared `NO_TOKENS` (under a burst every request waits at once, and
 * per-sequence buffers were half the simulator's memory and most of its page faults); its first
 * token brings its own (`forOutput`).
 */
export class TokenTimes {
  private constructor(
    readonly times_s: Float64Array,
    /** The replica step that emitted each token (−1 where unknown), beside `times_s`. */
    readonly steps: Int32Array,
  ) {}

  /** Room for `output_tokens` stamps. */
  static forOutput(output_tokens: number): TokenTimes {
    // One buffer for both: an ArrayBuffer's allocation costs more than its size.
    const buffer = new ArrayBuffer(output_tokens * 12);
    return new TokenTimes(new Float64Array(buffer, 0, output_tokens), new Int32Array(buffer, output_tokens * 8, output_tokens));
  }

  static readonly NONE = new TokenTimes(new Float64Array(0), new Int32Array(0));

  /** Records token `index` at `time_s`, emitted by step `step`. */
  stamp(index: number, time_s: number, step: number): void {
    this.steps[index] = step;
    this.times_s[index] = time_s;
  }
}
