import type { SchedulerFactory, StepPlan } from './scheduler.js';
import { RequestLevelScheduler } from './requestLevel.js';
import type { Sequence } from './sequence.js';
import { reservedTraits, stepBudget, V0_DEFAULTS } from './traits.js';

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

/** Default wait of the dynamic batcher to fill a batch, ms (an assumption; Triton's own default is 0). */
const DEFAULT_BATCH_TIMEOUT_MS = 10;

export const DYNAMIC: SchedulerFactory = {
  name: 'dynamic',
  create: (kv, limits) => new DynamicScheduler(kv, limits),
  samples: 'separate',
  traits: reservedTraits(['max_batch_size', 'batch_timeout_ms']),
  defaults: (ctx) => ({ ...stepBudget(V0_DEFAULTS, ctx), batch_timeout_ms: DEFAULT_BATCH_TIMEOUT_MS }),
  emulates: 'dynamic request-level batching (Triton-style): batches dispatched when full or when the oldest request times out',
};
