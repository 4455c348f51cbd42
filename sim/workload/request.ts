/** One inference request as the engine sees it. Token counts only: the simulator never sees text. */
export interface Request {
  /** 0-based, assigned in arrival order by the workload stream. */
  id: number;
  arrival_s: number;
  input_tokens: number;
  output_tokens: number;
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
