import { CacheKeys } from '../kv/blockKeys.js';
import { KvState } from '../kv/kvState.js';
import type { Request } from '../workload/request.js';
import { SeqAccounting } from './accounting.js';
import type { StepStamps } from '../metrics/stepStamps.js';
import { giveBackStamps, NO_STAMPS, takeStamps, TokenTimes, type StampSlab } from './tokenTimes.js';

/**
 * The samples of one request that run as several sequences; the request leaves when the last
 * one finishes. Token k of the request is stamped when every sequence has emitted its token k.
 */
export interface SampleGroup {
  readonly sequences: Sequence[];
  remaining: number;
  /** Some sequence of the request has been scheduled (it left the queue). */
  started: boolean;
}

/**
 * A request (or one sample of it) inside the cluster. Its parts change apart and are held apart:
 * - progress through prefill and decode: the fields here, read and written on every step, so kept
 *   flat (one load each on the hot path);
 * - `kv`: its blocks in the current replica's pool (what the block manager reads and writes).
 *   A sequence is its own `KvState` (`kv` is itself): a decode step's KV bookkeeping then lies in
 *   the object the step already reads, not in one more object per sequence (6 % of a 50 k-request
 *   run at ~150 sequences per step went to that one load);
 * - `keys`: the content keys of those blocks, for the prefix cache (`kv.keys`);
 * - `token_stamps`: when each output token was emitted, and by which step (`tokens` reads them);
 *   none while its tokens come from consecutive steps, whose times its replica keeps (`stamp_history`);
 * - `acct`: counters for the run totals and requests.arrow.
 * A sequence belongs to its request, not to a replica: `moveTo` hands it to another one.
 */
export class Sequence extends KvState {
  readonly id: number;
  readonly arrival_s: number;
  readonly prompt_tokens: number;
  readonly output_tokens: number;
  readonly priority: number;
  /** Sample index within the request (0 for single-sample requests). */
  readonly sample: number;
  /** The replica that holds it now (see `moveTo`). */
  replica: number;
  group: SampleGroup | undefined = undefined;
  /** Times its request was resent after a replica failed under it: this sequence belongs to attempt retries + 1. */
  retries = 0;
  /**
   * On a prefill replica: the generated-token count at which it leaves for a decode replica (1:
   * after its prompt pass); −1 never. Its KV stays where it is until the transfer completes.
   */
  handoff_at = -1;
  /** On a decode replica: admitted with blocks for KV that is still in transfer; not schedulable until it lands. */
  kv_pending = false;
  /** Samples to fork from this sequence when its prompt pass ends (copy-on-write policies). */
  pending_forks = 0;
  /** Tokens whose KV is in the cache (reset by a recompute preemption, kept by swap). */
  computed_tokens = 0;
  /** Output tokens produced so far (never lost: they were already streamed to the client). */
  generated_tokens = 0;
  /** Tokens this (re)admission must prefill: the prompt, plus generated tokens after a preemption. */
  prefill_end = 0;
  /** New tokens scheduled in the current step (draft tokens included). */
  scheduled_tokens = 0;
  /**
   * Speculative decoding: of `scheduled_tokens`, the draft tokens that follow the verified one
   * (their KV slots are allocated), and how many of them the verification accepted (set before the
   * step is applied). A step then emits accepted + 1 tokens; 0 drafts is plain decoding.
   */
  draft_tokens = 0;
  accepted_drafts = 0;
  /** In a step still in flight on a pipelined replica: a scheduling pass leaves it out until that step completes. */
  in_step = false;
  /**
   * In a decode run (decodeRuns.ts) from replica step `run_from` to `run_last` (−1: not in one):
   * its counts and token stamps are those of the run's start until the run ends, its lazily kept
   * KV fill that of step `run_kv_from`; `run_next` is the step its run needs it next.
   */
  run_from = -1;
  run_last = -1;
  run_kv_from = -1;
  run_next = -1;
  /** In a run without KV events (decodeRuns.ts): the first step whose token opens a block; −1 otherwise. */
  run_take_from = -1;
  /**
   * While ≥ 0: token k was stamped by its replica's step stretch_step + k, for every token so far,
   * so its times are those steps' stamps (what the metrics read instead of its own, cold, stamps).
   * −1: no token yet, or one came from another step (a preemption, a hand-off, several at once).
   */
  stretch_step = -1;
  /** The step stamps its stretch's times are read from (pinned there), while it writes none of its own. */
  stamp_history: StepStamps | undefined = undefined;
  /** Its place in its scheduler's running list (ascending along the list, under FCFS). */
  run_order = 0;
  /** When the engine handed it to the scheduler (arrival + frontend time). */
  enqueued_s = NaN;
  first_scheduled_s = NaN;
  /** Its output tokens' times at [0, output_tokens), their steps after; shared and empty until the first token, or while they are read from `stamp_history` (tokenTimes.ts). */
  token_stamps: Float64Array = NO_STAMPS;
  /** The slab `token_stamps` views, given back when its request's outcome is recorded (tokenTimes.ts). */
  stamps_slab: StampSlab | undefined = undefined;
  acct = new SeqAccounting();

  constructor(
    readonly request: Request,
    replica: number,
    sample = 0,
  ) {
    super(cacheKeysFor(request, sample));
    this.id = request.id;
    this.arrival_s = request.arrival_s;
    this.prompt_tokens = request.input_tokens;
    this.output_tokens = request.output_tokens;
    this.priority = request.priority ?? 0;
    this.sample = sample;
    this.replica = replica;
    this.prefill_end = request.input_tokens;
  }

  /** Its KV state: itself (see the class comment). */
  get kv(): KvState {
    return this;
  }

  /**
   * Records the emission of the next output token at `time_s`, by the replica's step `step` (−1:
   * unknown). `history`: the replica's step stamps, if it keeps them. A first token whose time is
   * its step's stamp there pins it: while each next token comes from the next step, its times are
   * those stamps, and it writes none of its own (`ownStamps` writes them when it needs them).
   */
  stampToken(time_s: number, step = -1, history?: StepStamps): void {
    const k = this.generated_tokens++;
    if (k === 0) {
      this.stretch_step = step;
      if (history !== undefined && step >= 0 && history.pin(step, time_s)) {
        this.stamp_history = history;
        return;
      }
      takeStamps(this, this.output_tokens);
    } else if (step !== this.stretch_step + k) {
      if (this.stamp_history !== undefined) this.ownStamps(k);
      this.stretch_step = -1;
    } else if (this.stamp_history !== undefined) {
      if (this.stamp_history.at(step) !== time_s) throw this.notStamp(step, time_s);
      return;
    }
    const stamps = this.token_stamps;
    stamps[k] = time_s;
    stamps[this.output_tokens + k] = step;
  }

  /**
   * Records the emission of its next `n` tokens by the replica's steps `from` to `from + n − 1`, one
   * each, at the times `times[step & mask]` (a decode run's end; its first token was stamped before).
   */
  stampRun(times: Float64Array, mask: number, from: number, n: number): void {
    const k = this.generated_tokens;
    if (k === 0 || k + n > this.output_tokens) throw new Error(`request ${this.id}: a run of ${n} tokens after ${k} of ${this.output_tokens}`);
    if (from !== this.stretch_step + k) {
      if (this.stamp_history !== undefined) this.ownStamps(k);
      this.stretch_step = -1;
    } else if (this.stamp_history !== undefined) {
      // The run's stamps are the replica's: its last token's time checks that they name the same steps.
      const last = from + n - 1;
      if (this.stamp_history.at(last) !== times[last & mask]) throw this.notStamp(last, times[last & mask]);
      this.generated_tokens = k + n;
      return;
    }
    const steps = this.output_tokens + k;
    const stamps = this.token_stamps;
    for (let i = 0; i < n; i++) {
      stamps[k + i] = times[(from + i) & mask];
      stamps[steps + i] = from + i;
    }
    this.generated_tokens = k + n;
  }

  /**
   * Writes the times and steps of its first `k` tokens, a stretch read from its replica's step
   * stamps, into stamps of its own, and unpins them (its stretch, if unbroken, goes on).
   */
  private ownStamps(k: number): void {
    const history = this.stamp_history as StepStamps;
    const first = this.stretch_step;
    takeStamps(this, this.output_tokens);
    const stamps = this.token_stamps;
    const kept = history.kept();
    const at = history.stretchAt(first, k);
    if (at < 0) throw new Error(`request ${this.id}: the stamps of its steps ${first}..${first + k - 1} are gone`);
    for (let i = 0; i < k; i++) {
      stamps[i] = kept[at + i];
      stamps[this.output_tokens + i] = first + i;
    }
    history.unpin(first);
    this.stamp_history = undefined;
  }

  private notStamp(step: number, time_s: number): Error {
    return new Error(`request ${this.id}: token time ${time_s} is not the stamp of its replica's step ${step}`);
  }

  /**
   * The times of its tokens as a view of its replica's step stamps, valid until the next step is
   * stamped (undefined: it has times of its own). Read once, then `dropStamps`.
   */
  stretchTimes(): Float64Array | undefined {
    const history = this.stamp_history;
    return history === undefined ? undefined : history.view(this.stretch_step, this.generated_tokens);
  }

  /** Writes the stamps it reads from its replica's into its own (before they travel, or are kept past the next step). */
  keepStamps(): void {
    if (this.stamp_history !== undefined) this.ownStamps(this.generated_tokens);
  }

  /** Nothing reads its stamps again: its view is given back, its pin released. */
  dropStamps(): void {
    if (this.stamp_history !== undefined) {
      this.stamp_history.unpin(this.stretch_step);
      this.stamp_history = undefined;
    }
    giveBackStamps(this);
  }

  /** Its token times and steps as two arrays (made on each call: read it once, where it is not hot). Not while in a decode run, whose stamps are written at its end. */
  get tokens(): TokenTimes {
    if (this.run_from >= 0) throw new Error(`request ${this.id}: its token times read during a decode run (from step ${this.run_from}), before the run wrote them`);
    this.keepStamps();
    return TokenTimes.of(this.token_stamps);
  }

  /** Prompt plus generated tokens: what the model has seen or must see. */
  get known_tokens(): number {
    return this.prompt_tokens + this.generated_tokens;
  }

  get in_prefill(): boolean {
    return this.computed_tokens < this.prefill_end;
  }

  get finished(): boolean {
    return this.generated_tokens === this.output_tokens;
  }

  /** The client's max_tokens, or whatever fits the model. */
  maxTotalTokens(max_model_len: number): number {
    const m = this.request.max_tokens;
    return m === undefined ? max_model_len : Math.min(max_model_len, this.prompt_tokens + m);
  }

  /**
   * Marks tokens [0, tokens) as present without computing them (prefix-cache hit, or blocks shared
   * by a fork), for the token accounting.
   */
  coverWithoutCompute(tokens: number): void {
    this.acct.noteCovered(this.prompt_tokens, this.computed_tokens, tokens);
    this.computed_tokens = tokens;
  }

  /** Bookkeeping for a prefill chunk of `n` tokens starting at `computed_tokens`. */
  notePrefillChunk(n: number): void {
    this.acct.notePrefillChunk(this.prompt_tokens, this.computed_tokens, n);
  }

  /**
   * Hands the sequence to replica `replica`. Block ids mean something only in their own pool, so
   * its KV must have left the old one first (`BlockManager.free`, after a transfer or not); the
   * cache keys of its content go along, its memory of released blocks does not. Whether its
   * computed tokens travel is the caller's choice (`handOff` in commons.ts). The steps of the
   * tokens it already emitted are numbered by the old replica, while its gaps are pooled against the
   * stamps of the replica it finishes on (GapPool): they become unknown (−1), so those gaps are
   * kept as plain values rather than matched to an unrelated step of the new replica.
   */
  moveTo(replica: number): void {
    if (this.kv.holds_kv) throw new Error(`request ${this.id}: moved to replica ${replica} while holding KV on replica ${this.replica}`);
    this.keys.forgetReleased();
    this.keys.registered_blocks = 0;
    this.keepStamps();
    forgetSteps(this);
    this.replica = replica;
  }
}

/**
 * The same request continuing on replica `replica` with its KV (a prefill/decode hand-off): a new
 * holder for the destination's pool, with the prompt computed, the tokens it streamed, its time
 * stamps and its accounting carried over. `prev` keeps its blocks in the source pool until the
 * transfer completes. Its earlier tokens' steps were the source replica's: unknown here (see moveTo).
 */
export function continuation(prev: Sequence, replica: number): Sequence {
  // Its stamps travel: the source's step stamps are not the destination's.
  prev.keepStamps();
  const seq = new Sequence(prev.request, replica, prev.sample);
  seq.retries = prev.retries;
  seq.computed_tokens = prev.computed_tokens;
  seq.generated_tokens = prev.generated_tokens;
  seq.prefill_end = prev.prefill_end;
  seq.enqueued_s = prev.enqueued_s;
  seq.first_scheduled_s = prev.first_scheduled_s;
  seq.token_stamps = prev.token_stamps;
  // The continuation holds the view now: the source's holder is dropped once the KV has moved.
  seq.stamps_slab = prev.stamps_slab;
  prev.stamps_slab = undefined;
  forgetSteps(seq);
  seq.acct = prev.acct;
  seq.kv_pending = true;
  return seq;
}

/** Its emitted tokens' steps become unknown (−1): they were another replica's. */
function forgetSteps(seq: Sequence): void {
  seq.stretch_step = -1;
  if (seq.generated_tokens > 0) seq.token_stamps.fill(-1, seq.output_tokens, seq.output_tokens + seq.generated_tokens);
}

/** The prefix-cache keys of a request's sample: what its blocks would be found under. */
export function cacheKeysFor(request: Request, sample = 0): CacheKeys {
  return new CacheKeys({
    id: request.id,
    sample,
    prompt_tokens: request.input_tokens,
    hash_ids: request.hash_ids,
    prefix_group: request.prefix_group,
    prefix_tokens: request.prefix_tokens,
    session: request.session,
    shared_request: Math.max(request.n ?? 1, request.best_of ?? 1) > 1,
  });
}
