import type { SchedulerFactory, StepPlan } from './scheduler.js';
import { RequestLevelScheduler } from './requestLevel.js';
import type { Sequence } from './sequence.js';

/**
 * Dynamic batching (Triton / TF-Serving style): static batching whose idle replica dispatches a
 * batch only once `max_batch_size` requests wait or the oldest has waited `batch_timeout_s`
 * since it reached the engine (`Sequence.enqueued_s`); until then it returns an empty plan with
 * `wake_at_s` = when that time-out expires. With `batch_timeout_s` = 0 it is static batching.
 */
export class DynamicScheduler extends RequestLevelScheduler {
  protected readyToDispatch(now_s: number, plan: StepPlan): boolean {
    const oldest = this.waiting.peekFront() as Sequence;
    const deadline_s = oldest.enqueued_s + this.limits.batch_timeout_s;
    if (this.waiting.size >= this.limits.max_batch_size || now_s >= deadline_s) return true;
    plan.wake_at_s = deadline_s;
    return false;
  }
}

export const DYNAMIC: SchedulerFactory = { create: (kv, limits) => new DynamicScheduler(kv, limits), samples: 'separate' };
