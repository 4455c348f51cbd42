import type { StepStamps } from '../metrics/stepStamps.js';
import type { BlockManager } from '../kv/blockManager.js';
import { addDecode, addPrefillChunk, addVerify } from '../latency/batch.js';
import type { SchedulingPolicy } from '../scenario/types.js';
import type { StepPlan } from './scheduler.js';
import type { Sequence } from './sequence.js';
import { insertByPriority } from './waitQueue.js';

/**
 * What every policy does the same way, written once: withdrawing a waiting sequence, dropping
 * finished ones, putting a sequence into a step, preempting by recompute, releasing everything
 * after a replica failure, and applying a step that ended (`applyStep`, which the replica and the
 * scheduler tests both call).
 */

/** Withdraws `seq` from `waiting` if it was never scheduled (a time-out); false when it is not such. */
export function cancelWaiting(waiting: { remove(seq: Sequence): boolean }, seq: Sequence): boolean {
  return Number.isNaN(seq.first_scheduled_s) && waiting.remove(seq);
}

/**
 * Keeps the sequences of `running` that have not generated every output token, in order, in
 * place; `dropped` sees each one dropped. Returns whether a kept sequence has samples to fork
 * (its prompt pass produced its first token), so that a policy that forks need not look again.
 */
export function dropFinished(running: Sequence[], dropped?: (seq: Sequence) => void): boolean {
  let kept = 0;
  let forks = false;
  for (let i = 0; i < running.length; i++) {
    const seq = running[i];
    if (!hasLeft(seq)) {
      running[kept++] = seq;
      if (seq.pending_forks > 0 && seq.generated_tokens > 0) forks = true;
    } else if (dropped !== undefined) dropped(seq);
  }
  // Not `length = kept`: a runtime call at every step even when nothing finished, and it lets go of the storage.
  while (running.length > kept) running.pop();
  return forks;
}

/** It emitted its last token, or reached its hand-off: it leaves its scheduler's running list. */
export function hasLeft(seq: Sequence): boolean {
  return seq.generated_tokens === seq.output_tokens || seq.generated_tokens === seq.handoff_at;
}

/**
 * A failed replica's running sequences leave it: each frees its blocks (its step in flight, if
 * any, is lost with them) and is appended to `lost` in list order; `running` ends empty.
 */
export function releaseRunning(kv: BlockManager, running: Sequence[], lost: Sequence[]): void {
  for (let i = 0; i < running.length; i++) {
    kv.free(running[i]);
    lost.push(running[i]);
  }
  running.length = 0;
}

/**
 * A failed replica's waiting sequences leave it, in the order `next` serves them, until it returns
 * none. No policy lets a waiting sequence hold blocks (admission takes them all or none, a
 * recompute preemption frees them, a swapped one is queued apart), so `free` finds nothing to
 * release; it is called anyway so that one that did hold some could not leak them.
 */
export function releaseWaiting(kv: BlockManager, next: () => Sequence | undefined, lost: Sequence[]): void {
  for (let seq = next(); seq !== undefined; seq = next()) {
    kv.free(seq);
    lost.push(seq);
  }
}

/** Puts an admitted `seq` into `running`: at its place by priority under the priority policy, else last. */
export function addRunning(running: Sequence[], seq: Sequence, policy: SchedulingPolicy): void {
  if (policy === 'priority') insertByPriority(running, seq);
  else running.push(seq);
}

/** Bookkeeping of an admission at `now_s` that found `hit` tokens in the prefix cache. */
export function noteAdmitted(seq: Sequence, now_s: number, hit: number): void {
  if (Number.isNaN(seq.first_scheduled_s)) {
    seq.first_scheduled_s = now_s;
    seq.acct.cached_tokens = hit;
  }
  if (hit > 0) seq.coverWithoutCompute(hit);
}

/** Schedules `n` new tokens of `seq` (its blocks already allocated): a prefill chunk or a decode. */
export function addToPlan(plan: StepPlan, seq: Sequence, n: number): void {
  seq.scheduled_tokens = n;
  plan.scheduled.push(seq);
  if (seq.in_prefill) {
    seq.notePrefillChunk(n);
    addPrefillChunk(plan.batch, n, seq.computed_tokens, seq.computed_tokens + n === seq.known_tokens);
  } else if (seq.draft_tokens > 0) {
    addVerify(plan.batch, n, seq.computed_tokens);
  } else {
    addDecode(plan.batch, seq.computed_tokens + 1);
  }
}

/**
 * Recompute preemption of one sequence: drop its KV (remembering where its private blocks were,
 * should they still be cached when it returns), keep the tokens already streamed, and queue it
 * to re-prefill prompt + output ahead of new arrivals. The caller counts the preemption.
 */
export function requeueForRecompute(kv: BlockManager, seq: Sequence, waiting: { pushFront(seq: Sequence): void }): void {
  kv.free(seq, true);
  seq.acct.discarded_tokens += seq.computed_tokens;
  seq.computed_tokens = 0;
  seq.prefill_end = seq.known_tokens;
  waiting.pushFront(seq);
}

/**
 * Applies a step that just ended to the sequences it ran, in order: each advances by its
 * scheduled tokens; one whose known tokens are all computed emits a token stamped `token_time_s`
 * by replica step `step` (several, with accepted draft tokens); one that emitted its last token
 * frees its blocks and is appended to `finished`, as is one that reached its hand-off (holding its
 * blocks: the caller sends them and frees them). Then the scheduler drops the finished ones
 * (and forks samples from finished prompt passes). `history`: the replica's step stamps, which a
 * sequence's token times may be read from instead of written (Sequence.stampToken).
 */
export function applyStep(
  kv: BlockManager,
  scheduler: { afterStep(token_time_s: number, step: number): void },
  ran: readonly Sequence[],
  token_time_s: number,
  step: number,
  finished: Sequence[],
  history?: StepStamps,
): void {
  for (let i = 0; i < ran.length; i++) {
    const seq = ran[i];
    seq.computed_tokens += seq.scheduled_tokens;
    seq.scheduled_tokens = 0;
    if (seq.draft_tokens !== 0) settleDrafts(kv, seq, token_time_s, step, finished, history);
    else if (seq.computed_tokens === seq.known_tokens) {
      seq.stampToken(token_time_s, step, history);
      if (seq.generated_tokens === seq.output_tokens) {
        kv.free(seq);
        finished.push(seq);
      } else if (seq.generated_tokens === seq.handoff_at) {
        // A prefill replica's work is done: it leaves (unfinished) for a decode replica, its KV kept until sent.
        finished.push(seq);
      }
    }
  }
  scheduler.afterStep(token_time_s, step);
}

/**
 * A speculative step: the verified token and the accepted drafts are emitted (never past the
 * output length), and the slots of rejected drafts go back to the pool. After it, as after a plain
 * decode, the last emitted token is the one whose KV is not computed yet.
 */
function settleDrafts(kv: BlockManager, seq: Sequence, token_time_s: number, step: number, finished: Sequence[], history: StepStamps | undefined): void {
  const drafts = seq.draft_tokens;
  const accepted = seq.accepted_drafts;
  if (!(accepted >= 0 && accepted <= drafts)) throw new Error(`request ${seq.id}: ${accepted} of ${drafts} draft tokens accepted`);
  seq.draft_tokens = 0;
  seq.accepted_drafts = 0;
  seq.computed_tokens -= drafts - accepted;
  seq.acct.noteVerified(drafts, accepted);
  if (seq.computed_tokens < seq.known_tokens) throw new Error(`request ${seq.id}: draft tokens scheduled before its prompt pass ends`);
  const emitted = Math.min(seq.computed_tokens - seq.known_tokens + 1, seq.output_tokens - seq.generated_tokens);
  for (let k = 0; k < emitted; k++) seq.stampToken(token_time_s, step, history);
  if (seq.generated_tokens === seq.output_tokens) {
    seq.computed_tokens = seq.known_tokens - 1;
    kv.free(seq);
    finished.push(seq);
  } else {
    kv.rollback(seq, seq.computed_tokens);
  }
}

/**
 * Hands `seq` from the replica whose pool is `from` to replica `to`. With `kv_travels`
 * (disaggregated prefill/decode) its computed tokens stay computed and the destination must
 * allocate slots for them before its next step; without (a restart after a failure) they are
 * recomputed, as after a recompute preemption. Either way its blocks leave `from` now; the
 * transfer's time is the caller's to model. So are the replicas' own counts of the requests they
 * hold (the cluster's `outstanding`, which routers read): this knows only the KV pool, so the
 * caller moves the request from the old replica's count to the new one's.
 */
export function handOff(seq: Sequence, from: BlockManager, to: number, kv_travels: boolean): void {
  from.free(seq);
  if (!kv_travels) {
    seq.acct.discarded_tokens += seq.computed_tokens;
    seq.computed_tokens = 0;
    seq.prefill_end = seq.known_tokens;
  }
  seq.moveTo(to);
}
