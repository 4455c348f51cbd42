/**
 * When each output token of a sequence was emitted, by index, and by which replica step.
 * A queued sequence holds the shared `NO_TOKENS` (under a burst every request waits at once, and
 * per-sequence buffers were half the simulator's memory and most of its page faults); its first
 * token brings its own (`forOutput`).
 */
/** Bytes of a slab of token stamps (see `forOutput`): a few dozen typical requests' worth. */
const SLAB_BYTES = 64 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
/** Bytes of `slab` handed out; a multiple of 8, so every Float64Array view is aligned. */
let slabUsed = 0;

export class TokenTimes {
  private constructor(
    readonly times_s: Float64Array,
    /** The replica step that emitted each token (−1 where unknown), beside `times_s`. */
    readonly steps: Int32Array,
  ) {}

  /** Room for `output_tokens` stamps. */
  static forOutput(output_tokens: number): TokenTimes {
    // Both arrays are views of a shared slab: an ArrayBuffer's allocation costs far more than
    // its size (a backing store, external-memory accounting). A slab's bytes are never handed out
    // twice, so a slab lives while any of its views does; a long request pins at most one slab.
    const bytes = output_tokens * 12 + ((output_tokens * 12) & 4);
    if (bytes > SLAB_BYTES >> 3) {
      const own = new ArrayBuffer(bytes);
      return new TokenTimes(new Float64Array(own, 0, output_tokens), new Int32Array(own, output_tokens * 8, output_tokens));
    }
    if (slabUsed + bytes > SLAB_BYTES) {
      slab = new ArrayBuffer(SLAB_BYTES);
      slabUsed = 0;
    }
    const at = slabUsed;
    slabUsed += bytes;
    return new TokenTimes(new Float64Array(slab, at, output_tokens), new Int32Array(slab, at + output_tokens * 8, output_tokens));
  }

  static readonly NONE = new TokenTimes(new Float64Array(0), new Int32Array(0));

  /** Records token `index` at `time_s`, emitted by step `step`. */
  stamp(index: number, time_s: number, step: number): void {
    this.steps[index] = step;
    this.times_s[index] = time_s;
  }
}
