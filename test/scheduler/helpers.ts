import type { BlockManager } from '../../sim/kv/blockManager.js';
import type { ReplicaScheduler, StepPlan } from '../../sim/scheduler/scheduler.js';

/**
 * Applies a formed step as the replica does (sim/cluster/replica.ts `completeStep`): advance each
 * sequence, emit a token stamped `token_time_s` once every known token is computed, free a
 * finished sequence's blocks, then let the scheduler drop finished sequences and fork samples.
 */
export function applyPlan(kv: BlockManager, sched: ReplicaScheduler, plan: StepPlan, token_time_s = 0): void {
  for (const s of plan.scheduled) {
    s.computed_tokens += s.scheduled_tokens;
    s.scheduled_tokens = 0;
    if (s.computed_tokens === s.known_tokens) {
      s.stampToken(token_time_s);
      if (s.generated_tokens === s.output_tokens) kv.free(s);
    }
  }
  sched.afterStep();
}
