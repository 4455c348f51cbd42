import type { BlockManager } from '../../sim/kv/blockManager.js';
import { applyStep } from '../../sim/scheduler/commons.js';
import type { ReplicaScheduler, StepPlan } from '../../sim/scheduler/scheduler.js';
import type { Sequence } from '../../sim/scheduler/sequence.js';

/**
 * Applies a formed step exactly as the replica does, through the same `applyStep`: advance each
 * sequence, emit a token stamped `token_time_s` once every known token is computed, free a
 * finished sequence's blocks, then let the scheduler drop finished sequences and fork samples.
 * Returns the sequences that finished.
 */
export function applyPlan(kv: BlockManager, sched: ReplicaScheduler, plan: StepPlan, token_time_s = 0, step = -1): Sequence[] {
  const finished: Sequence[] = [];
  applyStep(kv, sched, plan.scheduled, token_time_s, step, finished);
  return finished;
}

/** A sequence's state in one flat object (progress, KV, accounting), for `toMatchObject`. */
export function flat(seq: Sequence) {
  const { kv, acct } = seq;
  return {
    computed_tokens: seq.computed_tokens,
    generated_tokens: seq.generated_tokens,
    prefill_end: seq.prefill_end,
    kv_blocks: kv.block_count,
    swapped_blocks: kv.swapped_blocks,
    ...acct,
  };
}
