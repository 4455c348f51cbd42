/** One inference request as the engine sees it. Token counts only: the simulator never sees text. */
export interface Request {
  /** 0-based, assigned in arrival order by the workload stream. */
  id: number;
  arrival_s: number;
  input_tokens: number;
  /** Tokens each sample generates (already cut to max_tokens). */
  output_tokens: number;
  /**
   * Prompt identity for prefix caching; a request with none of these has a unique prompt. Token
   * position p is identified by, in order: Mooncake `hash_ids[⌊p/512⌋]` and p mod 512; the
   * shared-prefix group and p, for p < prefix_tokens; the session and p (a session's turns extend
   * one token stream, answers included); else the request itself.
   */
  prefix_group?: number;
  prefix_tokens?: number;
  session?: number;
  /** Lower is served first; default 0. */
  priority?: number;
  /** The client's max_tokens, when the workload sets one. */
  max_tokens?: number;
  /** Samples returned (default 1) and generated (default n). */
  n?: number;
  best_of?: number;
}

/**
 * A lazy, arrival-ordered stream of requests.
 *
 * Open-loop sources (traces, arrival processes) know every arrival up front and simply yield
 * them. Closed-loop sources (fixed concurrency) only learn the next arrival when an earlier
 * request completes, so the simulator reports completions back through `onFinished`.
 */
export interface RequestStream {
  /**
   * The next request in arrival order, or `undefined` when none is available *now*.
   * Arrival times are non-decreasing across calls.
   */
  next(): Request | undefined;
  /** True once the stream will never yield again, whatever completes. */
  exhausted(): boolean;
  /** Tell a closed-loop stream that request `id` left the system (finished, rejected, timed out) at `time_s`. */
  onFinished(id: number, time_s: number): void;
}
