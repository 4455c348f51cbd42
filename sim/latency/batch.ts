import { DOUBLE_ZERO } from '../engine/doubles.js';

/**
 * The shape of one engine iteration as the latency model needs it: aggregates over the
 * scheduled sequences, so timing a step costs O(1) whatever the batch size.
 */
export interface BatchShape {
  prefill_seqs: number;
  decode_seqs: number;
  /** New tokens of prefill chunks (prompt or recomputed tokens) in this step. */
  prefill_tokens: number;
  /** One per decoding sequence. */
  decode_tokens: number;
  /** Σ over prefill chunks of q·(c0 + (q+1)/2): query-key pairs a causal kernel computes (q new tokens after c0 cached ones). */
  prefill_attention_pairs: number;
  /** Σ over prefill chunks of (c0 + q): KV tokens a prefill kernel reads. */
  prefill_context_tokens: number;
  /** Σ over decoding sequences of their context length (including the new token). */
  decode_context_tokens: number;
  /** Sequences that sample a token at the end of the step (decodes and chunks that finish a prompt). */
  emitting_seqs: number;
}

export function emptyBatch(): BatchShape {
  return {
    prefill_seqs: 0,
    decode_seqs: 0,
    prefill_tokens: 0,
    decode_tokens: 0,
    prefill_attention_pairs: DOUBLE_ZERO,
    prefill_context_tokens: 0,
    decode_context_tokens: 0,
    emitting_seqs: 0,
  };
}

export function resetBatch(batch: BatchShape): void {
  batch.prefill_seqs = 0;
  batch.decode_seqs = 0;
  batch.prefill_tokens = 0;
  batch.decode_tokens = 0;
  batch.prefill_attention_pairs = 0;
  batch.prefill_context_tokens = 0;
  batch.decode_context_tokens = 0;
  batch.emitting_seqs = 0;
}

/** A chunk of `query_tokens` new tokens after `cached_tokens` already in the KV cache. */
export function addPrefillChunk(batch: BatchShape, query_tokens: number, cached_tokens: number, emits: boolean): void {
  batch.prefill_seqs += 1;
  batch.prefill_tokens += query_tokens;
  batch.prefill_attention_pairs += query_tokens * (cached_tokens + (query_tokens + 1) / 2);
  batch.prefill_context_tokens += cached_tokens + query_tokens;
  if (emits) batch.emitting_seqs += 1;
}

/** One decode token for a sequence whose context (including this token) is `context_tokens`. */
export function addDecode(batch: BatchShape, context_tokens: number): void {
  batch.decode_seqs += 1;
  batch.decode_tokens += 1;
  batch.decode_context_tokens += context_tokens;
  batch.emitting_seqs += 1;
}

/**
 * A speculative verification: `query_tokens` (the last token and the drafts) after `cached_tokens`
 * in the KV cache, run as a decode with several queries: GEMMs over every query token, attention
 * reading the context once (decode kernels take short query runs), logits for every position.
 */
export function addVerify(batch: BatchShape, query_tokens: number, cached_tokens: number): void {
  batch.decode_seqs += 1;
  batch.decode_tokens += query_tokens;
  batch.decode_context_tokens += cached_tokens + query_tokens;
  batch.emitting_seqs += query_tokens;
}
