/**
 * When each output token of a sequence was emitted, by index, and by which replica step.
 * A sequence keeps them in one array of its own (`stampsFor`): the times of its n output tokens at
 * [0, n), the steps (−1 where unknown) at [n, 2n). Stamping a token then writes through the one
 * view the sequence holds, the hottest store of a decode step. A queued sequence holds the shared
 * empty `NO_STAMPS` (under a burst every request waits at once, and per-sequence buffers were half
 * the simulator's memory and most of its page faults); its first token brings its own.
 */
/** Bytes of a slab of token stamps: a few dozen typical requests' worth. */
const SLAB_BYTES = 64 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
/** Bytes of `slab` handed out. */
let slabUsed = 0;

/** Shared and empty: a sequence before its first token. */
export const NO_STAMPS = new Float64Array(0);

/**
 * Room for `output_tokens` stamps, zeroed: a view of a shared slab. An ArrayBuffer's allocation
 * costs far more than its size (a backing store, external-memory accounting). A slab's bytes are
 * never handed out twice, so a slab lives while any of its views does; a long request pins at
 * most one slab.
 */
export function stampsFor(output_tokens: number): Float64Array {
  const bytes = output_tokens * 16;
  if (bytes > SLAB_BYTES >> 3) return new Float64Array(2 * output_tokens);
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += bytes;
  return new Float64Array(slab, at, 2 * output_tokens);
}

/** A sequence's stamps read as two arrays: times and steps, each of its n output tokens. */
export class TokenTimes {
  private constructor(
    readonly times_s: Float64Array,
    /** The replica step that emitted each token (−1 where unknown), beside `times_s`. */
    readonly steps: Float64Array,
  ) {}

  /** The times and steps in `stamps` (of `stampsFor(n)`, or `NO_STAMPS`). */
  static of(stamps: Float64Array): TokenTimes {
    const n = stamps.length >> 1;
    return new TokenTimes(stamps.subarray(0, n), stamps.subarray(n, 2 * n));
  }
}
