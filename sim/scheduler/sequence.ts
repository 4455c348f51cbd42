import type { Request } from '../workload/request.js';

/** A request inside a replica: its progress through prefill and decode, and what it holds. */
export class Sequence {
  readonly id: number;
  readonly arrival_s: number;
  readonly prompt_tokens: number;
  readonly output_tokens: number;
  /** Tokens whose KV is in the cache (reset to 0 by a recompute preemption). */
  computed_tokens = 0;
  /** Output tokens produced so far (never lost: they were already streamed to the client). */
  generated_tokens = 0;
  /** Tokens this (re)admission must prefill: the prompt, plus generated tokens after a preemption. */
  prefill_end = 0;
  kv_blocks = 0;
  /** New tokens scheduled in the current step. */
  scheduled_tokens = 0;
  first_scheduled_s = NaN;
  preemptions = 0;
  /** Computed tokens whose KV a preemption threw away. */
  discarded_tokens = 0;
  /** Prompt positions prefilled at least once (prefill runs front to back, so a prefix). */
  prompt_prefilled_tokens = 0;
  /** Prefill work beyond each prompt position's first pass: re-prefilled prompt and output tokens. */
  recomputed_tokens = 0;
  readonly token_times_s: Float64Array;

  constructor(
    request: Request,
    readonly replica: number,
  ) {
    this.id = request.id;
    this.arrival_s = request.arrival_s;
    this.prompt_tokens = request.input_tokens;
    this.output_tokens = request.output_tokens;
    this.prefill_end = request.input_tokens;
    this.token_times_s = new Float64Array(request.output_tokens);
  }

  /** Prompt plus generated tokens: what the model has seen or must see. */
  get known_tokens(): number {
    return this.prompt_tokens + this.generated_tokens;
  }

  get in_prefill(): boolean {
    return this.computed_tokens < this.prefill_end;
  }
}
