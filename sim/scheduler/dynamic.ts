import { Deque } from '../engine/deque.js';
import type { SchedulerFactory, StepPlan } from './scheduler.js';
import { RequestLevelScheduler } from './requestLevel.js';
import type { Sequence } from './sequence.js';

/**
 * Dynamic batching (Triton / TF-Serving style): static batching whose idle replica dispatches a
 * batch only once `max_batch_size` requests wait or the oldest has waited `batch_timeout_s`;
 * until then it returns an empty plan with `wake_at_s` = when that time-out expires. With
 * `batch_timeout_s` = 0 it is static batching.
 *
 * A request's queue-entry time is the `now_s` of the first `schedule` call that sees it (the
 * scheduler has no other clock). The engine calls `schedule` at every arrival while the replica
 * is idle, and after every step while it is busy, so the stamp is late by at most one step.
 */
export class DynamicScheduler extends RequestLevelScheduler {
  /** Queue-entry times of the first `stamps.size` waiting requests, in queue order (non-decreasing). */
  private readonly stamps = new Deque<number>();

  protected readyToDispatch(now_s: number, plan: StepPlan): boolean {
    const deadline_s = (this.stamps.peekFront() as number) + this.limits.batch_timeout_s;
    if (this.waiting.size >= this.limits.max_batch_size || now_s >= deadline_s) return true;
    plan.wake_at_s = deadline_s;
    return false;
  }

  protected override onDispatch(): void {
    this.stamps.popFront();
  }

  override schedule(now_s: number): StepPlan {
    while (this.stamps.size < this.waiting.size) this.stamps.pushBack(now_s);
    return super.schedule(now_s);
  }

  override cancelWaiting(seq: Sequence): boolean {
    if (!Number.isNaN(seq.first_scheduled_s)) return false;
    for (let i = 0; i < this.waiting.size; i++) {
      if (this.waiting.at(i) !== seq) continue;
      // Stamps are sorted, so dropping any copy of this stamp's value drops this one.
      if (i < this.stamps.size) this.stamps.remove(this.stamps.at(i));
      return this.waiting.remove(seq);
    }
    return false;
  }
}

export const DYNAMIC: SchedulerFactory = { create: (kv, limits) => new DynamicScheduler(kv, limits), samples: 'separate' };
