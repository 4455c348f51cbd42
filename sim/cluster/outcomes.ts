import type { RejectReason } from '../metrics/columns.js';
import type { RequestOutcome } from '../metrics/records.js';
import type { Sequence } from '../scheduler/sequence.js';
import type { Request } from '../workload/request.js';
import type { RunTotals } from './invariants.js';

/** Token times of a request that left without a token: a typed array like every other's, so reading them stays monomorphic. */
const NO_TOKEN_TIMES = new Float64Array(0);

/** Sequences a request runs as: one per sample (n), or best_of of them. */
export function sequencesOf(request: Request): number {
  return Math.max(request.n ?? 1, request.best_of ?? 1);
}

/** A request's token work as a gateway counts it: its prompt plus the output of every sequence it runs as. */
export function requestTokens(request: Request): number {
  return request.input_tokens + request.output_tokens * sequencesOf(request);
}

/**
 * A request that leaves without a token: rejected at arrival, timed out while waiting, or failed
 * (its replica failed under it once more than the gateway resends; what it streamed is lost).
 */
export function earlyOutcome(
  request: Request,
  replica: number,
  status: 'rejected' | 'timed_out' | 'failed',
  finish_s: number,
  reason?: RejectReason,
  pool?: string,
  retries?: number,
): RequestOutcome {
  return {
    model: request.model, shadow: request.shadow, reject_reason: reason, pool, ...(retries === undefined ? {} : { retries }),
    request_id: request.id, replica, arrival_s: request.arrival_s, input_tokens: request.input_tokens,
    output_tokens: 0, cached_tokens: 0, first_scheduled_s: NaN, token_times_s: NO_TOKEN_TIMES, preemptions: 0,
    status, finish_s, priority: request.priority ?? 0, samples: request.n ?? 1, sequences: sequencesOf(request),
  };
}

/** Adds a finished sequence's tokens to the run's totals (and those of samples it would have forked). */
export function countFinishedSequence(totals: RunTotals, seq: Sequence): void {
  totals.sequences_finished++;
  totals.prompt_tokens_finished += seq.prompt_tokens;
  totals.output_tokens_finished += seq.output_tokens;
  totals.recomputed_tokens += seq.acct.recomputed_tokens;
  totals.discarded_tokens += seq.acct.discarded_tokens;
  totals.prompt_shared_tokens += seq.acct.prompt_shared_tokens;
  totals.reused_tokens += seq.acct.reused_tokens;
  addDrafts(totals, seq, 1);
  if (seq.pending_forks > 0) {
    // One token ends every sample: the forks would be born finished, sharing the prompt pass.
    const k = seq.pending_forks;
    seq.pending_forks = 0;
    totals.sequences_finished += k;
    totals.prompt_tokens_finished += k * seq.prompt_tokens;
    totals.output_tokens_finished += k;
    totals.prompt_shared_tokens += k * seq.prompt_tokens;
    totals.reused_tokens += k * seq.prompt_tokens;
  }
}

/**
 * Adds the work of a sequence lost with its replica to the run's totals: every token it had in KV
 * or in a step in flight was computed for nothing (discarded), and each prompt position it
 * prefilled will be prefilled again by its resend (recomputed), which counts its own prompt once.
 */
export function countLostSequence(totals: RunTotals, seq: Sequence): void {
  const a = seq.acct;
  totals.discarded_tokens += a.discarded_tokens + seq.computed_tokens + seq.scheduled_tokens;
  totals.reused_tokens += a.reused_tokens;
  totals.recomputed_tokens += a.recomputed_tokens + a.prompt_prefilled_tokens - a.prompt_shared_tokens;
  totals.lost_sequences++;
  addDrafts(totals, seq, 1);
}

/** A sequence's speculative counters, added (sign 1) or taken back (−1). */
function addDrafts(totals: RunTotals, seq: Sequence, sign: 1 | -1): void {
  const a = seq.acct;
  totals.verify_steps += sign * a.verify_steps;
  totals.drafted_tokens += sign * a.drafted_tokens;
  totals.accepted_drafts += sign * a.accepted_drafts;
  totals.rejected_draft_tokens += sign * (a.drafted_tokens - a.accepted_drafts);
}

/**
 * A sample that had finished when its request's replica failed: the resend computes it again, so
 * its figures leave the finished totals and its work counts as lost (it finished with no sample
 * left to fork: a request whose samples are all done has left its replica).
 */
export function countLostFinishedSequence(totals: RunTotals, seq: Sequence): void {
  totals.sequences_finished--;
  totals.prompt_tokens_finished -= seq.prompt_tokens;
  totals.output_tokens_finished -= seq.output_tokens;
  totals.recomputed_tokens -= seq.acct.recomputed_tokens;
  totals.discarded_tokens -= seq.acct.discarded_tokens;
  totals.prompt_shared_tokens -= seq.acct.prompt_shared_tokens;
  totals.reused_tokens -= seq.acct.reused_tokens;
  addDrafts(totals, seq, -1);
  countLostSequence(totals, seq);
}

/**
 * The outcome of a request whose last sequence just finished: one sequence's own figures, or,
 * for several samples, their merged token stream and summed counters. `kept`: the outcome outlives
 * this step (a hook keeps it), so its token times must be the sequence's own, not a view of its
 * replica's step stamps.
 */
export function finishedOutcome(seq: Sequence, forkSamples: boolean, kept = false): RequestOutcome {
  const members = seq.group?.sequences;
  // A lone sequence's stretch is read from its replica's stamps, unless the outcome is kept past this step.
  let times = members === undefined && !kept ? seq.stretchTimes() : undefined;
  let steps: Float64Array | Int32Array | undefined;
  if (times === undefined) {
    const tokens = members === undefined ? seq.tokens : latestTokens(members);
    times = tokens.times_s;
    steps = tokens.steps;
  }
  const finish_s = times[seq.output_tokens - 1];
  let cached = seq.acct.cached_tokens;
  let preemptions = seq.acct.preemptions;
  let firstScheduled = seq.first_scheduled_s;
  if (members !== undefined) {
    cached = 0;
    preemptions = 0;
    for (const m of members) {
      cached += m.acct.cached_tokens;
      preemptions += m.acct.preemptions;
      if (m.first_scheduled_s < firstScheduled) firstScheduled = m.first_scheduled_s;
    }
  }
  const request = seq.request;
  // Not kept: every reader is done with it before the next request leaves, so one object serves
  // them all (it was ~15 % of a large run's allocation, with its optional fields spread in).
  const o: RequestOutcome = kept ? newOutcome() : scratch;
  o.request_id = seq.id;
  o.replica = seq.replica;
  o.arrival_s = seq.arrival_s;
  o.input_tokens = seq.prompt_tokens;
  o.output_tokens = seq.output_tokens;
  o.cached_tokens = cached;
  o.first_scheduled_s = firstScheduled;
  o.token_times_s = times;
  o.token_steps = steps;
  o.token_stretch_step = members === undefined ? seq.stretch_step : -1;
  o.preemptions = preemptions;
  o.finish_s = finish_s;
  o.priority = seq.priority;
  o.samples = request.n ?? 1;
  o.sequences = sequencesOf(request);
  o.prompt_lookups = forkSamples ? 1 : sequencesOf(request);
  o.model = request.model;
  o.shadow = request.shadow;
  o.retries = seq.retries === 0 ? undefined : seq.retries;
  o.handoff = seq.acct.prefill_replica < 0 ? undefined : handoffOf(seq);
  return o;
}

/** A finished outcome with every field present (those that may be absent undefined), for one shape throughout. */
function newOutcome(): RequestOutcome {
  return {
    request_id: 0, replica: 0, arrival_s: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, first_scheduled_s: 0,
    token_times_s: NO_TIMES, token_steps: undefined, token_stretch_step: -1, preemptions: 0, status: 'finished', finish_s: 0,
    priority: 0, samples: 1, sequences: 1, prompt_lookups: 1, model: undefined, pool: undefined, shadow: undefined,
    reject_reason: undefined, retries: undefined, handoff: undefined,
  };
}

const NO_TIMES = new Float64Array(0);
const scratch = newOutcome();

function handoffOf(seq: Sequence): NonNullable<RequestOutcome['handoff']> {
  const a = seq.acct;
  return { prefill_replica: a.prefill_replica, kv_transfer_tokens: a.kv_transfer_tokens, kv_wait_s: a.kv_wait_s, kv_transfer_s: a.kv_transfer_s };
}

/**
 * Token k of a multi-sample request reaches the client when every sample has emitted its token k:
 * its time, and the step that emitted it last (all samples run on one replica).
 */
function latestTokens(members: readonly Sequence[]): { times_s: Float64Array; steps: Int32Array } {
  const first = members[0].tokens;
  const times = Float64Array.from(first.times_s);
  const steps = Int32Array.from(first.steps);
  for (let m = 1; m < members.length; m++) {
    const { times_s: t, steps: s } = members[m].tokens;
    for (let k = 0; k < times.length; k++) {
      if (t[k] > times[k]) {
        times[k] = t[k];
        steps[k] = s[k];
      }
    }
  }
  return { times_s: times, steps };
}
