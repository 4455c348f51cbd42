import { describe, expect, it } from 'vitest';
import { EventLoop, type EventKindSpec } from '../../sim/engine/loop.js';

const KINDS: EventKindSpec[] = [
  { name: 'late', priority: 2 },
  { name: 'early', priority: 0 },
  { name: 'middle', priority: 1 },
];

/** A loop whose handlers log `kind:target@time`; targets listed in `stale` report themselves stale. */
function logging(stale: number[] = []) {
  const loop = new EventLoop(KINDS);
  const log: string[] = [];
  KINDS.forEach((k, kind) =>
    loop.on(kind, (target, now_s) => {
      log.push(`${k.name}:${target}@${now_s}`);
      return !stale.includes(target);
    }),
  );
  return { loop, log };
}

describe('EventLoop', () => {
  it('runs events by time, then by the table priority, then in push order', () => {
    const { loop, log } = logging();
    loop.schedule(2, 0, 1);
    loop.schedule(1, 0, 2);
    loop.schedule(1, 2, 3);
    loop.schedule(1, 1, 4);
    loop.schedule(1, 2, 5);
    loop.schedule(0.5, 0, 6);
    loop.run();
    expect(log).toEqual(['late:6@0.5', 'early:4@1', 'middle:3@1', 'middle:5@1', 'late:2@1', 'late:1@2']);
    expect(loop.events).toBe(6);
    expect(loop.last_event_s).toBe(2);
  });

  it('lets handlers schedule more events, at the current instant included', () => {
    const loop = new EventLoop(KINDS);
    const log: string[] = [];
    loop.on(0, (target, now_s) => {
      log.push(`late:${target}@${now_s}`);
      if (target < 3) loop.schedule(now_s, 1, target + 1);
      return true;
    });
    loop.on(1, (target, now_s) => {
      log.push(`early:${target}@${now_s}`);
      loop.schedule(now_s + 1, 0, target);
      return true;
    });
    loop.schedule(0, 0, 0);
    loop.run();
    expect(log).toEqual(['late:0@0', 'early:1@0', 'late:1@1', 'early:2@1', 'late:2@2', 'early:3@2', 'late:3@3']);
  });

  it('does not count stale events, nor let them move the end of the simulated work', () => {
    const { loop, log } = logging([9]);
    loop.schedule(1, 1, 1);
    loop.schedule(5, 1, 9);
    loop.run();
    expect(log).toEqual(['early:1@1', 'early:9@5']);
    expect(loop.events).toBe(1);
    expect(loop.last_event_s).toBe(1);
  });

  it('ticks every N counted events', () => {
    const { loop } = logging();
    for (let i = 0; i < 10; i++) loop.schedule(i, 0, i);
    const ticks: number[] = [];
    loop.run({ every_events: 4, tick: (now_s, events) => ticks.push(now_s * 100 + events) });
    expect(ticks).toEqual([304, 708]);
  });

  it('refuses a kind outside the table, a second handler, and events of a kind nobody handles', () => {
    const loop = new EventLoop(KINDS);
    expect(() => loop.on(3, () => true)).toThrow(/not in the event table/);
    loop.on(0, () => true);
    expect(() => loop.on(0, () => true)).toThrow(/late already has a handler/);
    expect(() => loop.schedule(0, 1, 0)).toThrow(/early has no handler/);
  });

  it('refuses time running backwards or becoming infinite', () => {
    const loop = new EventLoop(KINDS);
    loop.on(0, (_t, now_s) => {
      loop.schedule(now_s - 1, 0, 0);
      return true;
    });
    loop.schedule(5, 0, 0);
    expect(() => loop.run()).toThrow(/event time 4 s after 5 s/);
    const endless = new EventLoop(KINDS);
    endless.on(0, () => true);
    endless.schedule(Infinity, 0, 0);
    expect(() => endless.run()).toThrow(/event time Infinity s/);
  });

  it("calls a method handler with its owner as `this`, and counts a stale method's event as not counted", () => {
    class Counter {
      seen: string[] = [];
      constructor(readonly name: string) {}
      handle(target: number, now_s: number): boolean {
        this.seen.push(`${this.name}:${target}@${now_s}`);
        return target !== 9;
      }
    }
    const loop = new EventLoop(KINDS);
    const a = new Counter('a');
    const b = new Counter('b');
    // One method, two owners: each kind's events reach its own owner.
    loop.on(0, Counter.prototype.handle, a);
    loop.on(1, Counter.prototype.handle, b);
    loop.schedule(1, 0, 1);
    loop.schedule(1, 1, 2);
    loop.schedule(2, 0, 9);
    loop.run();
    expect(a.seen).toEqual(['a:1@1', 'a:9@2']);
    expect(b.seen).toEqual(['b:2@1']);
    expect(loop.events).toBe(2);
    expect(loop.last_event_s).toBe(1);
  });
});
