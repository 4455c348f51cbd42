import type { BlockManager } from '../kv/blockManager.js';
import { emptyBatch, resetBatch, type BatchShape } from '../latency/batch.js';
import type { OrcaReservation, PreemptionMode, SchedulingPolicy } from '../scenario/types.js';
import type { Sequence } from './sequence.js';
import { clearKeepingStorage } from '../engine/arrays.js';

/** One engine step as a scheduler decided it. Arrays are reused between steps: copy to keep. */
export interface StepPlan {
  /** Sequences that run this step, each with `scheduled_tokens` set. */
  scheduled: Sequence[];
  batch: BatchShape;
  /** Sequences preempted while forming this step (recompute or swap). */
  preempted: number;
  /** KV blocks moved CPU → GPU and GPU → CPU before this step runs (each costs a PCIe transfer). */
  swap_in_blocks: number;
  swap_out_blocks: number;
  /** When `scheduled` is empty: the time the policy wants to be asked again (a batching timer); NaN for "on the next event". */
  wake_at_s: number;
  /**
   * Decode rows in `batch` that belong to no sequence: finished members of a padded static batch,
   * which the GPU still computes. They cost time but produce no token.
   */
  padding_seqs: number;
}

export function emptyPlan(batch: BatchShape = emptyBatch()): StepPlan {
  return { scheduled: [], batch, preempted: 0, swap_in_blocks: 0, swap_out_blocks: 0, wake_at_s: NaN, padding_seqs: 0 };
}

/** Clears a reused plan for the next step: every field, so no policy can leak a value into the next step. */
export function resetPlan(plan: StepPlan): void {
  clearKeepingStorage(plan.scheduled);
  resetBatch(plan.batch);
  plan.preempted = 0;
  plan.swap_in_blocks = 0;
  plan.swap_out_blocks = 0;
  plan.wake_at_s = NaN;
  plan.padding_seqs = 0;
}

export interface SchedulerLimits {
  max_num_seqs: number;
  max_num_batched_tokens: number;
  enable_chunked_prefill: boolean;
  preemption: PreemptionMode;
  scheduling_policy: SchedulingPolicy;
  /** Longest prompt + output a sequence may reach (Orca's `max` reservation without a client max_tokens). */
  max_model_len: number;
  orca_reservation: OrcaReservation;
  /** Request-level batching (static, dynamic). */
  max_batch_size: number;
  batch_timeout_s: number;
}

/**
 * A replica's batching policy. It owns the waiting, running (and swapped) queues and asks the
 * block manager for KV space; the replica engine applies the step's results (tokens, completions).
 */
export interface ReplicaScheduler {
  enqueue(seq: Sequence): void;
  /** Form the next step at time `now_s`; an empty `scheduled` means nothing can run now. */
  schedule(now_s: number): StepPlan;
  /**
   * Called after every step is applied: drop finished sequences (generated = output; their blocks
   * are already freed) from the running set, and start any samples forked from a finished prompt.
   */
  afterStep(): void;
  /** Withdraw a sequence that is waiting and was never scheduled (a time-out); false when it is not such. */
  cancelWaiting(seq: Sequence): boolean;
  readonly waiting_count: number;
  readonly running_count: number;
  readonly swapped_count: number;
}

/**
 * How a policy runs a request's samples (n, best_of): `separate` sequences that share the prompt
 * only through the prefix cache (vLLM V1's fan-out), or one prompt pass `forked` into samples that
 * share blocks copy-on-write (vLLM V0).
 */
export type SampleMode = 'separate' | 'fork';

export interface SchedulerFactory {
  create(kv: BlockManager, limits: SchedulerLimits): ReplicaScheduler;
  samples: SampleMode;
}
