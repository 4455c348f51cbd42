import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../sim/engine/eventQueue.js';

describe('EventQueue', () => {
  it('pops in (time, priority, insertion) order for any push sequence', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ time: fc.integer({ min: 0, max: 20 }), priority: fc.integer({ min: 0, max: 2 }) }), {
          maxLength: 300,
        }),
        (events) => {
          const q = new EventQueue(2);
          events.forEach((e, i) => q.push(e.time, e.priority, e.priority, i));
          const expected = events
            .map((e, i) => ({ ...e, i }))
            .sort((a, b) => a.time - b.time || a.priority - b.priority || a.i - b.i)
            .map((e) => e.i);
          const popped: number[] = [];
          while (q.size > 0) {
            q.pop();
            popped.push(q.poppedTarget);
          }
          expect(popped).toEqual(expected);
        },
      ),
    );
  });

  it('reports Infinity when empty and refuses to pop', () => {
    const q = new EventQueue();
    expect(q.peekTime()).toBe(Infinity);
    expect(() => q.pop()).toThrow(/empty/);
  });

  it('breaks ties at one instant by priority, not by creation order', () => {
    const q = new EventQueue();
    q.push(1.0, 2, 2, 100); // a scheduling pass created first
    q.push(1.0, 1, 1, 200); // an arrival at the same instant
    q.push(1.0, 0, 0, 300); // a step completion at the same instant
    const order = [];
    while (q.size) {
      q.pop();
      order.push(q.poppedTarget);
    }
    expect(order).toEqual([300, 200, 100]);
  });
});
