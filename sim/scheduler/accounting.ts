/**
 * A sequence's counters for the run totals and requests.arrow: what it found cached, what it
 * threw away and computed again, how often it was preempted. Written when a sequence is admitted,
 * prefilled or preempted; read when it finishes (never on the per-token path).
 */
export class SeqAccounting {
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
  preemptions = 0;
  /** Speculative decoding: verification steps, tokens proposed in them, and those accepted (rejected ones were computed for nothing). */
  verify_steps = 0;
  drafted_tokens = 0;
  accepted_drafts = 0;
  /** Disaggregated serving: the prefill replica it left (−1: served whole by one replica). */
  prefill_replica = -1;
  /** Prompt tokens whose KV crossed the link (those the decode replica had cached stayed). */
  kv_transfer_tokens = 0;
  /** From the hand-off to the decode replica's admission (blocks allocated), and from then to the KV landing, s. */
  kv_wait_s = NaN;
  kv_transfer_s = NaN;

  /** Tokens [computed, tokens) of a `prompt`-token sequence became present without compute. */
  noteCovered(prompt: number, computed: number, tokens: number): void {
    const newly = Math.max(0, Math.min(tokens, prompt) - this.prompt_prefilled_tokens);
    this.prompt_shared_tokens += newly;
    this.prompt_prefilled_tokens += newly;
    this.reused_tokens += tokens - computed;
  }

  /** A verification of `drafts` proposed tokens that accepted `accepted`. */
  noteVerified(drafts: number, accepted: number): void {
    this.verify_steps++;
    this.drafted_tokens += drafts;
    this.accepted_drafts += accepted;
  }

  /** A prefill chunk of `n` tokens starting at `computed`. */
  notePrefillChunk(prompt: number, computed: number, n: number): void {
    const end = computed + n;
    const firstTime = Math.max(0, Math.min(end, prompt) - Math.max(computed, this.prompt_prefilled_tokens));
    this.prompt_prefilled_tokens = Math.max(this.prompt_prefilled_tokens, Math.min(end, prompt));
    this.recomputed_tokens += n - firstTime;
  }
}
