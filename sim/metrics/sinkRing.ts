/**
 * The one-way channel from a run's thread to its sink thread (sinkThread.ts): records of float64
 * words in a ring of shared memory, written by one thread and read by the other in order. A
 * record never wraps: where one would not fit before the end, a WRAP word sends the reader back
 * to the start. The writer publishes its position every PUBLISH_WORDS words (and when it waits or
 * finishes), so the other thread is woken a few hundred times a second, not once a record.
 *
 * Strings (a request's model, pool, status) travel once each: the writer numbers them, sends a
 * STRING record the first time, and then their number.
 */

/** Words of the ring: 16 MiB. A record takes at most half (a request's times beyond that go in pieces: sinkCodec.ts's LongValues). */
export const RING_WORDS = 1 << 21;
/** Words between publications (fewer in a small ring). */
const PUBLISH_WORDS = 1 << 13;

/** Record tags (the first word of each). */
export const TAG = { WRAP: 1, STRING: 2, STAMP: 3, REQUEST: 4, ITERATION: 5, CLUSTER: 6, ADD_REPLICA: 7, RETIRE_REPLICA: 8, FINISH: 9, ABORT: 10, LONG: 11 } as const;

/** Int32 header slots. */
const WRITE = 0;
const READ = 1;
const STATE = 2;
const HEADER_BYTES = 16;

/** The sink thread's state, as the header holds it. */
export const STATE_OF = { starting: 0, ready: 1, failed: 2, done: 3 } as const;

/** How long a blocked thread waits between looks at the other's state. */
const POLL_MS = 50;
/** A writer that finds no room for this long, the reader not moving, gives up: the sink thread died without a word (out of memory). */
export const STALL_MS = 120_000;
/** The same for a sink thread that has not started reading: it failed to start (its module did not load), far sooner. */
export const START_MS = 20_000;

/** A ring of `words` words (tests use small ones). */
export function newRingBuffer(words = RING_WORDS): SharedArrayBuffer {
  if (!(Number.isInteger(words) && words >= 16)) throw new Error(`ring of ${words} words: need an integer ≥ 16`);
  return new SharedArrayBuffer(HEADER_BYTES + 8 * words);
}

/** The ring's memory as both threads see it. */
class RingView {
  readonly header: Int32Array;
  readonly data: Float64Array;
  readonly words: number;
  /** The largest record: half the ring, so that a wrap can always be waited out. */
  readonly record_max_words: number;
  protected readonly publish_words: number;
  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = (buffer.byteLength - HEADER_BYTES) / 8;
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.data = new Float64Array(buffer, HEADER_BYTES, this.words);
    this.record_max_words = this.words >> 1;
    this.publish_words = Math.min(PUBLISH_WORDS, this.words >> 3);
  }

  get state(): number {
    return Atomics.load(this.header, STATE);
  }

  setState(state: number): void {
    Atomics.store(this.header, STATE, state);
    Atomics.notify(this.header, STATE);
  }

  /** Blocks until the state leaves `from` or `ms` pass. */
  waitState(from: number, ms: number): void {
    Atomics.wait(this.header, STATE, from, ms);
  }
}

/** The run's end: `failed` is called with the sink thread's state when it is no longer running (it throws). */
export class RingWriter extends RingView {
  private w = 0;
  private published = 0;
  private readonly strings = new Map<string, number>();

  constructor(
    buffer: SharedArrayBuffer,
    private readonly failed: (state: number) => never,
  ) {
    super(buffer);
  }

  /** Where `words` words may be written now (then `commit` their end); waits for the reader while the ring is full. */
  reserve(words: number): number {
    if (words > this.record_max_words) throw new Error(`sink thread: a record of ${words} words exceeds the ring's limit of ${this.record_max_words}`);
    let since_ms = -1;
    let lastRead = -1;
    for (;;) {
      const r = Atomics.load(this.header, READ);
      if (this.w >= r) {
        // Free: [w, end) and [0, r − 1); a record stops short of the end, leaving room for a WRAP.
        if (this.words - this.w > words) return this.w;
        if (r > words) {
          this.data[this.w] = TAG.WRAP;
          this.w = 0;
          return 0;
        }
      } else if (r - this.w > words) return this.w;
      if (r !== lastRead) [lastRead, since_ms] = [r, performance.now()];
      else if (performance.now() - since_ms > (this.state === STATE_OF.starting ? START_MS : STALL_MS)) this.stalled();
      this.publish();
      Atomics.wait(this.header, READ, r, POLL_MS);
    }
  }

  /** Blocks until the reader has ended (done or failed); a reader that has not started within START_MS has failed to. */
  awaitEnd(): void {
    const since_ms = performance.now();
    for (let s = this.state; s < STATE_OF.failed; s = this.state) {
      if (s === STATE_OF.starting && performance.now() - since_ms > START_MS) this.stalled();
      this.waitState(s, POLL_MS);
    }
  }

  private stalled(): never {
    if (this.state === STATE_OF.starting) throw new Error(`sink thread: not started after ${START_MS / 1000} s (its worker failed to load)`);
    throw new Error(`sink thread: no progress for ${STALL_MS / 1000} s (it may have run out of memory)`);
  }

  /** The record written from the last `reserve` ends at `end`. */
  commit(end: number): void {
    this.w = end;
    if ((end - this.published + this.words) % this.words >= this.publish_words) this.publish();
  }

  /** Makes everything committed visible to the reader, and wakes it. */
  publish(): void {
    const state = this.state;
    if (state === STATE_OF.failed || state === STATE_OF.done) this.failed(state);
    this.published = this.w;
    Atomics.store(this.header, WRITE, this.w);
    Atomics.notify(this.header, WRITE);
  }

  /** `s`'s number, sending it first if the reader has not seen it. */
  string(s: string): number {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    const id = this.strings.size;
    this.strings.set(s, id);
    const at = this.reserve(3 + s.length);
    const d = this.data;
    d[at] = TAG.STRING;
    d[at + 1] = id;
    d[at + 2] = s.length;
    for (let i = 0; i < s.length; i++) d[at + 3 + i] = s.charCodeAt(i);
    this.commit(at + 3 + s.length);
    return id;
  }
}

/** The sink thread's end. */
export class RingReader extends RingView {
  private r = 0;
  private available = 0;
  private consumed = 0;
  private readonly strings: string[] = [];

  /** Where the next record starts, once there is one (WRAP words and STRING records are taken here). */
  next(): number {
    for (;;) {
      while (this.r === this.available) this.waitForWriter();
      const tag = this.data[this.r];
      if (tag === TAG.WRAP) this.r = 0;
      else if (tag === TAG.STRING) this.readString();
      else return this.r;
    }
  }

  /** The record at `next()` ended at `end`. */
  done(end: number): void {
    this.r = end;
    if ((end - this.consumed + this.words) % this.words >= this.publish_words) this.release();
  }

  string(id: number): string {
    const s = this.strings[id];
    if (s === undefined) throw new Error(`sink thread: string ${id} was never sent`);
    return s;
  }

  /** Gives the words read back to the writer. */
  release(): void {
    this.consumed = this.r;
    Atomics.store(this.header, READ, this.r);
    Atomics.notify(this.header, READ);
  }

  private waitForWriter(): void {
    this.release();
    Atomics.wait(this.header, WRITE, this.available, POLL_MS);
    this.available = Atomics.load(this.header, WRITE);
  }

  private readString(): void {
    const at = this.r;
    const d = this.data;
    if (d[at + 1] !== this.strings.length) throw new Error(`sink thread: string ${d[at + 1]} out of order`);
    const n = d[at + 2];
    let s = '';
    // Chunks keep fromCharCode's arguments within the engine's limit for a long text.
    for (let i = 0; i < n; i += 4096) {
      const codes: number[] = [];
      for (let k = i; k < Math.min(n, i + 4096); k++) codes.push(d[at + 3 + k]);
      s += String.fromCharCode(...codes);
    }
    this.strings.push(s);
    this.r = at + 3 + n;
  }
}
