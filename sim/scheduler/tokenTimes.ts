/**
 * When each output token of a sequence was emitted, by index, and by which replica step.
 * A sequence keeps them in one array of its own (`takeStamps`): the times of its n output tokens at
 * [0, n), the steps (−1 where unknown) at [n, 2n). Stamping a token then writes through the one
 * view the sequence holds, the hottest store of a decode step. A queued sequence holds the shared
 * empty `NO_STAMPS` (under a burst every request waits at once, and per-sequence buffers were half
 * the simulator's memory and most of its page faults); its first token brings its own.
 */
/** Bytes of a slab of token stamps: a few dozen typical requests' worth. */
const SLAB_BYTES = 64 * 1024;
/** Slabs kept for reuse at most (4 MiB): past a burst the rest go to the collector. */
const SPARE_SLABS = 64;

/**
 * A slab of token stamps and the views of it still held. Once the slab is full (`retired`) and
 * every view is given back (`giveBackStamps`), it is reused: a fresh slab's first touch of each
 * page cost more than zeroing a used one (the scale scenario ran 3 % faster and peaked 40 MiB
 * lower with reuse). A view never given back (a sequence lost with its replica, a run whose
 * outcomes a hook keeps) only keeps its slab from reuse; the slab is collected with its views.
 */
export class StampSlab {
  live = 0;
  retired = false;
  /** Handed out before: its views are zeroed as they are handed out again. */
  used = false;
  constructor(readonly buffer: ArrayBuffer) {}
}

let slab = new StampSlab(new ArrayBuffer(SLAB_BYTES));
/** Bytes of `slab` handed out. */
let slabUsed = 0;
const spares: StampSlab[] = [];

/** Shared and empty: a sequence before its first token. */
export const NO_STAMPS = new Float64Array(0);

/** Who holds a view of a slab: a sequence. */
export interface StampHolder {
  token_stamps: Float64Array;
  /** The slab `token_stamps` views (none: the shared empty view, or an array of its own). */
  stamps_slab: StampSlab | undefined;
}

/**
 * Gives `holder` room for `output_tokens` stamps, zeroed: a view of a shared slab (an ArrayBuffer's
 * allocation costs far more than its size: a backing store, external-memory accounting), or for
 * a long request an array of its own.
 */
export function takeStamps(holder: StampHolder, output_tokens: number): void {
  const bytes = output_tokens * 16;
  if (bytes > SLAB_BYTES >> 3) {
    holder.token_stamps = new Float64Array(2 * output_tokens);
    holder.stamps_slab = undefined;
    return;
  }
  if (slabUsed + bytes > SLAB_BYTES) nextSlab();
  const at = slabUsed;
  slabUsed += bytes;
  const view = new Float64Array(slab.buffer, at, 2 * output_tokens);
  if (slab.used) view.fill(0);
  slab.live++;
  holder.token_stamps = view;
  holder.stamps_slab = slab;
}

/** `holder` will not read its stamps again, nor will anyone through it: its view may be reused. */
export function giveBackStamps(holder: StampHolder): void {
  const s = holder.stamps_slab;
  if (s === undefined) return;
  holder.stamps_slab = undefined;
  holder.token_stamps = NO_STAMPS;
  if (--s.live === 0 && s.retired) spare(s);
}

function nextSlab(): void {
  slab.retired = true;
  if (slab.live === 0) spare(slab);
  const reused = spares.pop();
  slab = reused ?? new StampSlab(new ArrayBuffer(SLAB_BYTES));
  slab.retired = false;
  slabUsed = 0;
}

function spare(s: StampSlab): void {
  if (spares.length >= SPARE_SLABS) return;
  s.used = true;
  spares.push(s);
}

/** A sequence's stamps read as two arrays: times and steps, each of its n output tokens. */
export class TokenTimes {
  private constructor(
    readonly times_s: Float64Array,
    /** The replica step that emitted each token (−1 where unknown), beside `times_s`. */
    readonly steps: Float64Array,
  ) {}

  /** The times and steps in `stamps` (of `takeStamps`, or `NO_STAMPS`). */
  static of(stamps: Float64Array): TokenTimes {
    const n = stamps.length >> 1;
    return new TokenTimes(stamps.subarray(0, n), stamps.subarray(n, 2 * n));
  }
}
