import type { SpillFile } from './spill.js';

/**
 * With a spill file, the most steps a replica's stamps keep in memory (3 MB with its counts); half
 * of them go at a time, so a request's gaps are counted per step unless it spans half its
 * replica's window.
 */
export const STEP_WINDOW = 1 << 18;

/** The steps a run's stamps keep across its replicas (`stepWindowFor`). */
export const RUN_STEP_WINDOW = 1 << 19;
/** The least a replica's window shrinks to, however many replicas share the run's (8 k steps per request before its gaps become plain values). */
export const MIN_STEP_WINDOW = 1 << 14;

/**
 * A replica's window in a run of `replicas`: STEP_WINDOW for up to two replicas, halved until
 * the run's windows fit RUN_STEP_WINDOW steps, not below MIN_STEP_WINDOW. A run's memory stops
 * growing once its windows are full: with 2^18 steps a replica on the 8-replica scale scenario
 * that was at ~2 M requests; with 2^16 it is at ~500 k. One window of 2^16 for every run cost the
 * Azure trace (one replica, 249 k steps, which never fills 2^18) 6 % in slides and spilled counts
 * (docs/performance.md, seventeenth session).
 */
export function stepWindowFor(replicas: number): number {
  let window = STEP_WINDOW;
  while (window > MIN_STEP_WINDOW && window * replicas > RUN_STEP_WINDOW) window >>= 1;
  return window;
}

/** What must hear of stamps before they go: a gap pool flushes its counts for those steps. */
export interface StampSubscriber {
  flushBelow(step: number): void;
}

/**
 * When each engine step of one replica stamped its tokens (step end + frontend output latency),
 * by step index. A token emitted at step s carries exactly this number as its time.
 *
 * Given a spill file, only the last STEP_WINDOW steps are kept: before the oldest half goes, every
 * GapPool pooling against these stamps writes its counts for those steps to the file, so memory
 * does not grow with the run's steps. A sequence whose token times are these stamps (a stretch of
 * consecutive steps, Sequence.stretch_step) pins its first step: no step from there on goes
 * until it unpins (the window grows instead, should a pin hold half of it).
 */
export class StepStamps {
  private stamps = new Float64Array(1024);
  /** Steps below `base` are gone; stamps[i] is step base + i's. */
  base = 0;
  /** Steps stamped. */
  length = 0;
  /** The stamp of step base − 1 (the gap at step `base` needs it). */
  private beforeBase = NaN;
  private readonly subscribers: StampSubscriber[] = [];
  /** Pins per page of `pinPage` steps (pages without pins are deleted). */
  private readonly pins = new Map<number, number>();
  /** Steps per page of pins: 1/64 of the window (4,096 steps by default), so that a pin holds little of it. */
  private readonly pinPage: number;

  /**
   * How the last push made room: 0 none, −1 grew, else the steps it dropped. A copy of these stamps
   * in another thread (sinkThread.ts) makes room as this one did (`pushAs`), pins or not.
   */
  room = 0;

  /**
   * `window`: steps kept with a spill file (tests pass a small one). `windowed`: whether the
   * window slides (by default, with a spill file); a copy in the run's thread that spills nothing
   * itself slides as its sink thread's would.
   */
  constructor(
    readonly spill?: SpillFile,
    private readonly window = STEP_WINDOW,
    private readonly windowed = spill !== undefined,
  ) {
    if (!(Number.isInteger(window) && window >= 2)) throw new Error(`step window ${window} is not an integer ≥ 2`);
    this.pinPage = Math.max(1, window >> 6);
  }

  /** Records step `step`'s stamp; steps come in order, each once. */
  push(step: number, stamp_s: number): void {
    if (step !== this.length) throw new Error(`step ${step} stamped out of order (next expected: ${this.length})`);
    this.room = 0;
    if (this.length - this.base === this.stamps.length) this.makeRoom();
    this.stamps[this.length++ - this.base] = stamp_s;
  }

  /** `push`, making room as `room` says (another copy's `room` after the same push) instead of by its own pins. */
  pushAs(step: number, stamp_s: number, room: number): void {
    if (step !== this.length) throw new Error(`step ${step} stamped out of order (next expected: ${this.length})`);
    const full = this.length - this.base === this.stamps.length;
    if (full !== (room !== 0) || room < -1) throw new Error(`step ${step}: room ${room} made in a copy of stamps that is ${full ? '' : 'not '}full`);
    if (room > 0) this.slide(room);
    else if (room === -1) this.grow();
    this.stamps[this.length++ - this.base] = stamp_s;
  }

  private makeRoom(): void {
    const capacity = this.stamps.length;
    if (this.windowed && capacity >= this.window) {
      // Half the window goes, less what a pin holds; a pin that holds more than half of that grows it.
      const drop = Math.min(capacity >> 1, this.pinnedFrom() - this.base);
      if (drop >= capacity >> 2) {
        this.room = drop;
        return this.slide(drop);
      }
    }
    this.room = -1;
    this.grow();
  }

  private grow(): void {
    const grown = new Float64Array(this.stamps.length * 2);
    grown.set(this.stamps);
    this.stamps = grown;
  }

  /** Whether step `step`'s stamp is still held (base − 1 included, for the gap at `base`). */
  private holds(step: number): boolean {
    return step >= this.base - 1 && step < this.length && (step >= this.base || this.base > 0);
  }

  /** The stamps held, stamps of steps base.. first; valid until the next push. */
  kept(): Float64Array {
    return this.stamps;
  }

  /**
   * Where step `step`'s stamp lies in `kept()` when the stamps of steps step .. step + n − 1 are all
   * held; −1 otherwise.
   */
  stretchAt(step: number, n: number): number {
    return step >= this.base && step + n <= this.length ? step - this.base : -1;
  }

  at(step: number): number {
    if (!this.holds(step)) throw new Error(`step ${step} has no stamp (steps ${this.base}..${this.length - 1} held)`);
    return step === this.base - 1 ? this.beforeBase : this.stamps[step - this.base];
  }

  /** The stamps of steps step .. step + n − 1, as a view valid until the next push (they must be held). */
  view(step: number, n: number): Float64Array {
    const at = this.stretchAt(step, n);
    if (at < 0) throw new Error(`steps ${step}..${step + n - 1} have no stamps (steps ${this.base}..${this.length - 1} held)`);
    return this.stamps.subarray(at, at + n);
  }

  /**
   * Keeps step `step`'s stamp and every later one until `unpin(step)`, if it has `stamp_s` (a token
   * of that step): returns false, pinning nothing, otherwise.
   */
  pin(step: number, stamp_s: number): boolean {
    const at = this.stretchAt(step, 1);
    if (at < 0 || this.stamps[at] !== stamp_s) return false;
    const page = Math.floor(step / this.pinPage);
    this.pins.set(page, (this.pins.get(page) ?? 0) + 1);
    return true;
  }

  unpin(step: number): void {
    const page = Math.floor(step / this.pinPage);
    const n = this.pins.get(page);
    if (n === undefined) throw new Error(`step ${step}: unpinned but not pinned`);
    if (n === 1) this.pins.delete(page);
    else this.pins.set(page, n - 1);
  }

  /** Pins held (0 once every sequence reading these stamps has let go). */
  get pinned(): number {
    let n = 0;
    for (const c of this.pins.values()) n += c;
    return n;
  }

  /** The first step a pin holds (the start of its page; Infinity without pins). */
  private pinnedFrom(): number {
    let page = Infinity;
    for (const p of this.pins.keys()) if (p < page) page = p;
    return page * this.pinPage;
  }

  /** A pool that counts gaps against these stamps: it flushes its counts before stamps go. */
  subscribe(pool: StampSubscriber): void {
    this.subscribers.push(pool);
  }

  private slide(drop: number): void {
    const newBase = this.base + drop;
    for (const pool of this.subscribers) pool.flushBelow(newBase);
    this.beforeBase = this.stamps[drop - 1];
    this.stamps.copyWithin(0, drop, this.length - this.base);
    this.base = newBase;
  }
}
