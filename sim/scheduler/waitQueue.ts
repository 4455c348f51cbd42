import { Deque } from '../engine/deque.js';
import type { SchedulingPolicy } from '../scenario/types.js';
import type { Sequence } from './sequence.js';
import { objectList } from '../engine/arrays.js';

/** The waiting queue of a scheduler: FCFS, or by (priority, arrival) as vLLM's `priority` policy orders it. */
export interface WaitQueue {
  readonly size: number;
  /** A new arrival. */
  push(seq: Sequence): void;
  /** A preempted sequence: served before new arrivals (FCFS), or by its original key (priority). */
  pushFront(seq: Sequence): void;
  peek(): Sequence | undefined;
  pop(): Sequence | undefined;
  remove(seq: Sequence): boolean;
}

/** Lower priority value first, then earlier arrival, then request id and sample. */
export function servedBefore(a: Sequence, b: Sequence): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  if (a.arrival_s !== b.arrival_s) return a.arrival_s < b.arrival_s;
  if (a.id !== b.id) return a.id < b.id;
  return a.sample < b.sample;
}

class FcfsQueue implements WaitQueue {
  private readonly items = new Deque<Sequence>();
  get size(): number {
    return this.items.size;
  }
  push(seq: Sequence): void {
    this.items.pushBack(seq);
  }
  pushFront(seq: Sequence): void {
    this.items.pushFront(seq);
  }
  peek(): Sequence | undefined {
    return this.items.peekFront();
  }
  pop(): Sequence | undefined {
    return this.items.popFront();
  }
  remove(seq: Sequence): boolean {
    return this.items.remove(seq);
  }
}

/** Binary heap on `servedBefore`. */
class PriorityQueue implements WaitQueue {
  private readonly heap: Sequence[] = objectList();
  get size(): number {
    return this.heap.length;
  }
  push(seq: Sequence): void {
    const h = this.heap;
    h.push(seq);
    this.up(h.length - 1);
  }
  pushFront(seq: Sequence): void {
    this.push(seq);
  }
  peek(): Sequence | undefined {
    return this.heap[0];
  }
  pop(): Sequence | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as Sequence;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }
  remove(seq: Sequence): boolean {
    const h = this.heap;
    const i = h.indexOf(seq);
    if (i < 0) return false;
    const last = h.pop() as Sequence;
    if (i < h.length) {
      h[i] = last;
      this.down(i);
      this.up(i);
    }
    return true;
  }
  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!servedBefore(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }
  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < h.length && servedBefore(h[l], h[best])) best = l;
      if (r < h.length && servedBefore(h[r], h[best])) best = r;
      if (best === i) return;
      [h[i], h[best]] = [h[best], h[i]];
      i = best;
    }
  }
}

export function waitQueue(policy: SchedulingPolicy): WaitQueue {
  return policy === 'priority' ? new PriorityQueue() : new FcfsQueue();
}

/** Inserts `seq` into `list`, kept sorted by `servedBefore` (after equals). */
export function insertByPriority(list: Sequence[], seq: Sequence): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (servedBefore(seq, list[mid])) hi = mid;
    else lo = mid + 1;
  }
  list.splice(lo, 0, seq);
}
