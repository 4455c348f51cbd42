import type { KeyedHolder, TokenIdentity } from '../kv/blockKeys.js';
import type { KvHolder, SwapRecord } from '../kv/blockManager.js';
import type { Request } from '../workload/request.js';

const NO_TOKENS = new Float64Array(0);
const NO_STEPS = new Int32Array(0);

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

/** A request (or one sample of it) inside a replica: its progress through prefill and decode, and what it holds. */
export class Sequence implements KvHolder, KeyedHolder {
  readonly id: number;
  readonly arrival_s: number;
  readonly prompt_tokens: number;
  readonly output_tokens: number;
  readonly priority: number;
  /** Sample index within the request (0 for single-sample requests). */
  readonly sample: number;
  group: SampleGroup | undefined = undefined;
  /** Samples to fork from this sequence when its prompt pass ends (copy-on-write policies). */
  pending_forks = 0;
  /** Tokens whose KV is in the cache (reset by a recompute preemption, kept by swap). */
  computed_tokens = 0;
  /** Output tokens produced so far (never lost: they were already streamed to the client). */
  generated_tokens = 0;
  /** Tokens this (re)admission must prefill: the prompt, plus generated tokens after a preemption. */
  prefill_end = 0;
  /** GPU blocks held, in token order (`kv_blocks` = their count). */
  readonly blocks: number[] = [];
  kv_blocks = 0;
  /** CPU swap blocks held while swapped out. */
  swapped_blocks = 0;
  swap_slots: number[] = [];
  swap_record: SwapRecord | undefined = undefined;
  /** New tokens scheduled in the current step. */
  scheduled_tokens = 0;
  /** When the engine handed it to the scheduler (arrival + frontend time). */
  enqueued_s = NaN;
  first_scheduled_s = NaN;
  preemptions = 0;
  /** Prompt tokens found in the prefix cache at first admission (what requests.arrow reports). */
  cached_tokens = 0;
  /** Computed tokens whose KV a preemption threw away. */
  discarded_tokens = 0;
  /** Prompt positions covered at least once, by prefill, prefix-cache hit or fork (always a prefix of the prompt). */
  prompt_prefilled_tokens = 0;
  /** Prompt positions whose first coverage came without compute (cache hit or shared by a fork). */
  prompt_shared_tokens = 0;
  /** Every token covered without compute (cache hits at any admission, fork sharing). */
  reused_tokens = 0;
  /** Prefill work beyond each prompt position's first pass: re-prefilled prompt and output tokens. */
  recomputed_tokens = 0;
  /**
   * When each output token was emitted, by index; empty until the first token (`stampToken`). A
   * queued sequence holds no buffer: under a burst, every request waits at once, and their
   * buffers were half the simulator's memory and most of its page faults.
   */
  token_times_s: Float64Array = NO_TOKENS;
  /** The replica step that emitted each output token (−1 where unknown), beside `token_times_s`. */
  token_steps: Int32Array = NO_STEPS;
  readonly identity: TokenIdentity;
  readonly block_keys: number[] = [];
  readonly block_checks: number[] = [];
  registered_blocks = 0;
  readonly released_blocks: number[] = [];

  constructor(
    readonly request: Request,
    readonly replica: number,
    sample = 0,
  ) {
    this.id = request.id;
    this.arrival_s = request.arrival_s;
    this.prompt_tokens = request.input_tokens;
    this.output_tokens = request.output_tokens;
    this.priority = request.priority ?? 0;
    this.sample = sample;
    this.prefill_end = request.input_tokens;
    const r = request as Request & { hash_ids?: number[] };
    this.identity = {
      id: request.id,
      sample,
      prompt_tokens: request.input_tokens,
      hash_ids: r.hash_ids,
      prefix_group: request.prefix_group,
      prefix_tokens: request.prefix_tokens,
      session: request.session,
      shared_request: Math.max(request.n ?? 1, request.best_of ?? 1) > 1,
    };
  }

  /** Records the emission of the next output token at `time_s`, by the replica's step `step` (−1: unknown). */
  stampToken(time_s: number, step = -1): void {
    if (this.generated_tokens === 0) {
      // One buffer for both: an ArrayBuffer's allocation costs more than its size.
      const n = this.output_tokens;
      const buffer = new ArrayBuffer(n * 12);
      this.token_times_s = new Float64Array(buffer, 0, n);
      this.token_steps = new Int32Array(buffer, n * 8, n);
    }
    this.token_steps[this.generated_tokens] = step;
    this.token_times_s[this.generated_tokens++] = time_s;
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
    const newly = Math.max(0, Math.min(tokens, this.prompt_tokens) - this.prompt_prefilled_tokens);
    this.prompt_shared_tokens += newly;
    this.prompt_prefilled_tokens += newly;
    this.reused_tokens += tokens - this.computed_tokens;
    this.computed_tokens = tokens;
  }

  /** Bookkeeping for a prefill chunk of `n` tokens starting at `computed_tokens`. */
  notePrefillChunk(n: number): void {
    const end = this.computed_tokens + n;
    const firstTime = Math.max(0, Math.min(end, this.prompt_tokens) - Math.max(this.computed_tokens, this.prompt_prefilled_tokens));
    this.prompt_prefilled_tokens = Math.max(this.prompt_prefilled_tokens, Math.min(end, this.prompt_tokens));
    this.recomputed_tokens += n - firstTime;
  }
}
