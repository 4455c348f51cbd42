import type { BlockManager } from '../kv/blockManager.js';
import type { BatchShape } from '../latency/batch.js';
import type { Sequence } from './sequence.js';

/** One engine step as a scheduler decided it. Arrays are reused between steps: copy to keep. */
export interface StepPlan {
  /** Sequences that run this step, each with `scheduled_tokens` set. */
  scheduled: Sequence[];
  batch: BatchShape;
  /** Sequences preempted while forming this step. */
  preempted: number;
}

export interface SchedulerLimits {
  max_num_seqs: number;
  max_num_batched_tokens: number;
  enable_chunked_prefill: boolean;
}

/**
 * A replica's batching policy. It owns the waiting and running queues and asks the block
 * manager for KV space; the replica engine applies the step's results (tokens, completions).
 */
export interface ReplicaScheduler {
  enqueue(seq: Sequence): void;
  /** Form the next step at time `now_s`; an empty `scheduled` means nothing can run. */
  schedule(now_s: number): StepPlan;
  /** Drop finished sequences from the running set (their blocks are already freed). */
  removeFinished(): void;
  readonly waiting_count: number;
  readonly running_count: number;
  readonly swapped_count: number;
}

export type SchedulerFactory = (kv: BlockManager, limits: SchedulerLimits) => ReplicaScheduler;
