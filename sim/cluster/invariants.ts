import { fieldError } from '../errors.js';
import type { BatchShape } from '../latency/batch.js';
import type { LatencyModel } from '../latency/model.js';
import { MAX_TIME_S, shown } from '../scenario/bounds.js';
import { DOUBLE_ZERO } from '../engine/doubles.js';

/** Totals for conservation checks: every token accounted for. */
export interface RunTotals {
  /** Requests drawn from the workload stream (each must arrive and leave). */
  drawn: number;
  /** Requests that arrived, mirrored copies included. */
  requests: number;
  /** Mirrored copies made (traffic.shadow), and those that have left. */
  mirrored: number;
  mirrored_left: number;
  finished: number;
  rejected: number;
  timed_out: number;
  /** Requests whose replica failed under them once more than cluster.max_retries allows resends. */
  failed: number;
  /** Sequences lost with a failed replica (their requests were resent or failed). */
  lost_sequences: number;
  /** Sequences that finished (a request with best_of samples runs best_of of them). */
  sequences_finished: number;
  steps: number;
  events: number;
  prefill_tokens: number;
  decode_tokens: number;
  /** Σ prompt tokens and Σ output tokens over the finished sequences (one prompt per sample). */
  prompt_tokens_finished: number;
  output_tokens_finished: number;
  /** Prompt tokens whose first pass came without compute: prefix-cache hits and prompts shared by forked samples. */
  prompt_shared_tokens: number;
  /** Every token covered without compute (cache hits at any admission, fork sharing). */
  reused_tokens: number;
  /** Prefill tokens processed beyond each prompt's first pass (prefill tokens = prompts + these). */
  recomputed_tokens: number;
  /** Computed tokens whose KV recompute preemptions or replica failures threw away (all tokens = Σ(prompt + output − 1) + these − reused). */
  discarded_tokens: number;
  /** Speculative decoding: verification steps, tokens proposed, accepted, and rejected (computed, then rolled back). */
  verify_steps: number;
  drafted_tokens: number;
  accepted_drafts: number;
  rejected_draft_tokens: number;
  preemptions: number;
  swap_in_blocks: number;
  swap_out_blocks: number;
  /** Prefix-cache entries evicted to make room, over all replicas. */
  evicted_blocks: number;
  /** Blocks still held on each replica after the run (must all be 0). */
  kv_blocks_used_at_end: number[];
  /** Empty token slots in held blocks on each replica after the run: with no block held, 0 (the pool's fill accounting drifted otherwise). */
  kv_slots_unused_at_end: number[];
  /** Sequences still reading their token times from each replica's step stamps after the run (must all be 0, else they can never slide). */
  stamp_pins_at_end: number[];
  end_s: number;
}

export function newTotals(): RunTotals {
  return {
    drawn: 0, requests: 0, mirrored: 0, mirrored_left: 0, finished: 0, rejected: 0, timed_out: 0, failed: 0, lost_sequences: 0, sequences_finished: 0, steps: 0, events: 0,
    prefill_tokens: 0, decode_tokens: 0, prompt_tokens_finished: 0, output_tokens_finished: 0, prompt_shared_tokens: 0,
    reused_tokens: 0, recomputed_tokens: 0, discarded_tokens: 0, verify_steps: 0, drafted_tokens: 0, accepted_drafts: 0, rejected_draft_tokens: 0, preemptions: 0, swap_in_blocks: 0, swap_out_blocks: 0,
    evicted_blocks: 0, kv_blocks_used_at_end: [], kv_slots_unused_at_end: [], stamp_pins_at_end: [], end_s: DOUBLE_ZERO,
  };
}

/** How many requests the stream must yield: its bound, when no duration can cut it short. */
export function exactCount(max_requests: number | undefined, duration_s: number | undefined): number | undefined {
  return duration_s === undefined ? max_requests : undefined;
}

/**
 * Checked at the end of every run, not only in tests: a violation is a simulator bug, reported
 * as such rather than written out as results. `undelivered`: drawn requests whose arrival never
 * happened; `expected`: the count the workload promised, when it is exact.
 */
export function checkInvariants(t: RunTotals, undelivered: number, expected: number | undefined): void {
  if (!Number.isFinite(t.end_s)) throw new Error(`invariant broken: the run ended at ${t.end_s} s`);
  const leaked = t.kv_blocks_used_at_end.findIndex((blocks) => blocks !== 0);
  if (leaked >= 0) throw new Error(`invariant broken: replica ${leaked} still holds ${t.kv_blocks_used_at_end[leaked]} KV blocks`);
  const drifted = t.kv_slots_unused_at_end.findIndex((slots) => slots !== 0);
  if (drifted >= 0) throw new Error(`invariant broken: replica ${drifted} holds no KV blocks but counts ${t.kv_slots_unused_at_end[drifted]} unused slots`);
  const pinned = t.stamp_pins_at_end.findIndex((pins) => pins !== 0);
  if (pinned >= 0) throw new Error(`invariant broken: ${t.stamp_pins_at_end[pinned]} sequences still read replica ${pinned}'s step stamps`);
  if (undelivered > 0 || t.requests !== t.drawn + t.mirrored || (expected !== undefined && t.drawn !== expected)) {
    throw new Error(
      `invariant broken: the workload ${expected === undefined ? '' : `promised ${expected} requests and `}yielded ${t.drawn}, ` +
        `of which ${t.requests} arrived (${undelivered} never did)`,
    );
  }
  if (t.finished + t.rejected + t.timed_out + t.failed !== t.requests) {
    throw new Error(
      `invariant broken: ${t.requests} requests arrived but ${t.finished} finished, ${t.rejected} were rejected, ${t.timed_out} timed out and ${t.failed} failed`,
    );
  }
  const computed = t.prefill_tokens + t.decode_tokens;
  const needed = t.prompt_tokens_finished + t.output_tokens_finished - t.sequences_finished + t.discarded_tokens + t.rejected_draft_tokens - t.reused_tokens;
  if (computed !== needed) throw new Error(`invariant broken: ${computed} tokens computed, ${needed} accounted for`);
  const prefillNeeded = t.prompt_tokens_finished - t.prompt_shared_tokens + t.recomputed_tokens;
  if (t.prefill_tokens !== prefillNeeded) {
    throw new Error(
      `invariant broken: ${t.prefill_tokens} prefill tokens ≠ prompts ${t.prompt_tokens_finished} − shared ${t.prompt_shared_tokens} + recomputed ${t.recomputed_tokens}`,
    );
  }
}


/**
 * A step time that is no time (NaN, ≤ 0) or longer than the time limit: the profile's figures are at
 * fault; without a profile (built-in defaults, or a latency model given by the caller) it is a bug.
 */
export function stepTimeError(
  latency: LatencyModel,
  batch: BatchShape,
  step_s: number,
  at: { step: number; replica: number; now_s: number; profile: string | null },
): Error {
  const parts = latency.breakdown(batch);
  const largest = parts.reduce((a, b) => (b.time_s > a.time_s || Number.isNaN(b.time_s) ? b : a), parts[0]);
  const what =
    `step ${at.step} of replica ${at.replica} (${batch.prefill_seqs} prefill and ${batch.decode_seqs} decode sequences) ` +
    `at t = ${at.now_s} s takes ${step_s} s` +
    (step_s > 0 && step_s < Infinity ? `, longer than the simulation's ${shown(MAX_TIME_S)} s time limit` : '') +
    (largest ? `; its largest part is ${largest.name} (${largest.time_s} s, ${largest.source})` : '');
  if (at.profile === null) return new Error(`latency model fault: ${what}`);
  return fieldError('hardware.profile', `${what}: check the profile's ${largest?.source === 'measured' ? 'tables' : 'efficiency and scalars'}`, at.profile);
}
