import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventLoop, type EventKindSpec, type LoopTicker } from '../../sim/engine/loop.js';

const STEP = 0;
const AUX = 1;
const ARRIVAL = 2;
const FIRST = 3;
// A step end and an aux event share a priority: between the two, only the push order decides. A
// `first` event at the same instant runs before both.
const KINDS: EventKindSpec[] = [
  { name: 'step', priority: 1 },
  { name: 'aux', priority: 1 },
  { name: 'arrival', priority: 2 },
  { name: 'first', priority: 0 },
];

interface Script {
  /** Per replica, the durations of its steps, one after another from time 0. */
  steps: number[][];
  /**
   * Per replica and step: whether that step's end also schedules an aux event (or a `first` one),
   * after it, at its own end time (offset 0), a unit before it (−1: the end is then not next) or
   * after it (1); null: none.
   */
  aux: ({ offset: number; first: boolean } | null)[][];
  arrivals: number[];
}

/**
 * Runs the script's replicas: each step end logs and forms the replica's next step. `chained`: the
 * step handler handles its replica's next end itself when the loop says it comes next (as
 * ReplicaSteps does), else every end is queued. Returns the log of handled events and of ticks.
 */
function play(script: Script, chained: boolean): { log: string[]; ticks: string[]; events: number; last_event_s: number } {
  const loop = new EventLoop(KINDS);
  const log: string[] = [];
  const ticks: string[] = [];
  const done = script.steps.map(() => 0);
  let pending: { end_s: number; sequence: number } | undefined;
  const oneEnd = (r: number, now_s: number): boolean => {
    log.push(`step:${r}@${now_s}`);
    const k = done[r]++;
    if (k >= script.steps[r].length) return true;
    const end_s = now_s + script.steps[r][k];
    if (chained) pending = { end_s, sequence: loop.reserve() };
    else loop.schedule(end_s, STEP, r);
    const aux = script.aux[r][k];
    if (aux !== null) loop.schedule(Math.max(now_s, end_s + aux.offset), aux.first ? FIRST : AUX, r);
    return true;
  };
  loop.on(STEP, (r, now_s) => {
    let handled = oneEnd(r, now_s);
    while (pending !== undefined) {
      const { end_s, sequence } = pending;
      pending = undefined;
      if (!loop.next(end_s)) {
        loop.schedule(end_s, STEP, r, sequence);
        break;
      }
      handled = oneEnd(r, end_s);
    }
    return handled;
  });
  loop.on(AUX, (r, now_s) => {
    log.push(`aux:${r}@${now_s}`);
    return true;
  });
  loop.on(FIRST, (r, now_s) => {
    log.push(`first:${r}@${now_s}`);
    return true;
  });
  loop.on(ARRIVAL, (i, now_s) => {
    log.push(`arrival:${i}@${now_s}`);
    // An arrival that finds nothing to do is stale: not counted.
    return i % 3 !== 0;
  });
  script.steps.forEach((_, r) => loop.schedule(0, STEP, r));
  script.arrivals.forEach((t, i) => loop.schedule(t, ARRIVAL, i));
  const ticker: LoopTicker = { every_events: 3, tick: (t, n) => void ticks.push(`${n}@${t}`) };
  loop.run(ticker);
  return { log, ticks, events: loop.events, last_event_s: loop.last_event_s };
}

describe('EventLoop.next', () => {
  it('handles events in the order, and counts and ticks them as, the queue would', () => {
    const durations = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 12 });
    const script = fc
      .array(durations, { minLength: 1, maxLength: 3 })
      .chain((steps) =>
        fc.record({
          steps: fc.constant(steps),
          aux: fc.tuple(...steps.map((s) => fc.array(fc.option(fc.record({ offset: fc.integer({ min: -1, max: 1 }), first: fc.boolean() })), { minLength: s.length, maxLength: s.length }))),
          arrivals: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 10 }),
        }),
      );
    fc.assert(
      fc.property(script, (s) => {
        const queued = play(s, false);
        const chained = play(s, true);
        expect(chained).toEqual(queued);
      }),
      { numRuns: 400 },
    );
  });

  it('refuses an event that ties with one queued, which then keeps its reserved place', () => {
    const loop = new EventLoop(KINDS);
    const log: string[] = [];
    let first = true;
    loop.on(STEP, (r, now_s) => {
      log.push(`step:${r}@${now_s}`);
      if (!first) return true;
      first = false;
      const sequence = loop.reserve();
      // Queued after the reservation, at the same time and priority: it must come after.
      loop.schedule(2, AUX, 7);
      expect(loop.next(2)).toBe(false);
      expect(loop.events).toBe(0);
      expect(loop.now_s).toBe(1);
      loop.schedule(2, STEP, r, sequence);
      return true;
    });
    loop.on(AUX, (t, now_s) => {
      log.push(`aux:${t}@${now_s}`);
      return true;
    });
    loop.schedule(1, STEP, 0);
    loop.run();
    expect(log).toEqual(['step:0@1', 'step:0@2', 'aux:7@2']);
    expect(loop.events).toBe(3);
  });
});
