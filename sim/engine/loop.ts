import { EventQueue } from './eventQueue.js';
import { DOUBLE_ZERO } from './doubles.js';

/**
 * Handles one event of its kind at `now_s`. Returns false when the event turned out stale (say, a
 * time-out for a request that started in time): it is then not counted as simulated work.
 */
export type EventHandler = (target: number, now_s: number) => boolean;

/** One row of an event table: a kind's name and its place in the tie order at one instant. */
export interface EventKindSpec {
  readonly name: string;
  /** Lower runs first among events at the same instant; equal priorities run in push order. */
  readonly priority: number;
}

/** Called every `every_events` counted events: for progress displays. */
export interface LoopTicker {
  readonly every_events: number;
  tick(now_s: number, events: number): void;
}

/**
 * A discrete-event loop: a clock, a queue ordered by (time, kind priority, push order) and a
 * handler per event kind. It knows nothing of what the events mean; the table of kinds it is
 * built with fixes their tie order, and a kind takes part once a handler is registered for it.
 */
export class EventLoop {
  private readonly queue = new EventQueue();
  private readonly handlers: (EventHandler | undefined)[];
  /** The object each handler is a method of (`this` in its call), or undefined. */
  private readonly owners: (object | undefined)[];
  private readonly priorities: number[];
  private readonly names: string[];
  /** Time of the event being handled (or last handled). */
  now_s = DOUBLE_ZERO;
  /** Events handled and counted (stale ones are not). */
  events = 0;
  /** Time of the last counted event: when the simulated work ended. */
  last_event_s = DOUBLE_ZERO;
  /** The ticks of the `run` under way. */
  private ticker: LoopTicker | undefined;
  private every_events = 0;

  constructor(kinds: readonly EventKindSpec[]) {
    this.handlers = kinds.map(() => undefined);
    this.owners = kinds.map(() => undefined);
    this.priorities = kinds.map((k) => k.priority);
    this.names = kinds.map((k) => k.name);
  }

  /**
   * Gives `kind` (an index into the table) its handler; a kind has at most one. `owner`: the object
   * `handler` is a method of, called as its `this`. A method is one function to V8 whichever run's
   * object owns it, where a handler made per run (an arrow function bound to its object) is a new
   * call target each run: the band's first re-run then discarded the optimised loop.
   */
  on<O extends object>(kind: number, handler: (this: O, target: number, now_s: number) => boolean, owner?: O): void {
    if (this.priorities[kind] === undefined) throw new Error(`event kind ${kind} is not in the event table`);
    if (this.handlers[kind] !== undefined) throw new Error(`event kind ${this.names[kind]} already has a handler`);
    this.handlers[kind] = handler as EventHandler;
    this.owners[kind] = owner;
  }

  /**
   * Queues an event of `kind` for `target` (a replica index, a request id: the handler's business).
   * `sequence`: its place among events of its time and kind's priority, from `reserve`.
   */
  schedule(time_s: number, kind: number, target: number, sequence?: number): void {
    if (this.handlers[kind] === undefined) throw new Error(`event kind ${this.names[kind] ?? kind} has no handler`);
    this.queue.push(time_s, this.priorities[kind], kind, target, sequence);
  }

  /** The place among same-time events that `schedule` would give an event now, kept for one scheduled later, or handled through `next`. */
  reserve(): number {
    return this.queue.reserve();
  }

  /**
   * For a handler that would handle, itself, an event of its own due at `time_s` (a replica's next
   * step end) rather than queue it: true when that event comes next, before everything queued. The
   * event being handled is then counted, as `run` counts it once its handler returns, and the clock
   * moves to `time_s`; the handler handles that event, may call `next` again, and `run` counts the
   * last one when it returns. False: nothing changed, and the caller queues the event.
   */
  next(time_s: number): boolean {
    if (!(time_s < this.queue.peekTime())) return false;
    this.counted(this.now_s);
    this.advanceTo(time_s);
    return true;
  }

  /** Time of the next queued event; Infinity when none is. */
  peekTime(): number {
    return this.queue.peekTime();
  }

  /** Runs until no event is left. */
  run(ticker?: LoopTicker): void {
    const queue = this.queue;
    const handlers = this.handlers as EventHandler[];
    const owners = this.owners;
    this.ticker = ticker;
    this.every_events = ticker === undefined ? 0 : ticker.every_events;
    while (queue.size > 0) {
      const t = queue.pop();
      this.advanceTo(t);
      // Stale events are bookkeeping (events are never withdrawn from the queue), not simulation: not counted.
      const kind = queue.poppedKind;
      // The handler may have handled further events of its own (`next`): the clock is at the last.
      if (handlers[kind].call(owners[kind], queue.poppedTarget, t)) this.counted(this.now_s);
    }
    this.ticker = undefined;
    this.every_events = 0;
  }

  private advanceTo(t: number): void {
    // Inputs are bounded where they are produced (arrivals, steps, each ≤ 1e9 s); sums of them stay finite.
    if (!(t >= this.now_s && t < Infinity)) {
      throw new Error(`invariant broken: event time ${t} s after ${this.now_s} s (times must be finite and non-decreasing)`);
    }
    this.now_s = t;
  }

  private counted(t: number): void {
    this.last_event_s = t;
    this.events++;
    const every = this.every_events;
    if (every > 0 && this.events % every === 0) (this.ticker as LoopTicker).tick(t, this.events);
  }
}
