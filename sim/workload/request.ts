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
   * position p is identified by, in order: the shared-prefix group and p, for p < prefix_tokens;
   * Mooncake `hash_ids[⌊(p − prefix_tokens)/512⌋]` and the offset in that block, within the
   * prompt; the session and p (a session's turns extend one token stream, answers included);
   * else the request itself.
   */
  prefix_group?: number;
  prefix_tokens?: number;
  session?: number;
  /** Mooncake traces: one id per 512-token block of the prompt; equal ids mean a shared prefix. */
  hash_ids?: number[];
  /** Lower is served first; default 0. */
  priority?: number;
  /** The client's max_tokens, when the workload sets one. */
  max_tokens?: number;
  /** Samples returned (default 1) and generated (default n). */
  n?: number;
  best_of?: number;
  /** The model asked for (a pool's `model`); absent: the scenario's top-level model. */
  model?: string;
  /** The client's user id (traffic.sticky_by: user). */
  user?: number;
  /** The LoRA adapter asked for (engine.lora), an id from 0; absent: the base model. */
  adapter?: number;
  /** A mirrored copy (traffic.shadow): nobody waits for its answer. */
  shadow?: boolean;
}

/** The key a request waits under for its time-out: a mirrored copy shares its original's id, so it takes a key of its own. */
export function waitKey(request: Request): number {
  return request.shadow === true ? -1 - request.id : request.id;
}

/**
 * A lazy stream of requests, pulled by the engine.
 *
 * Open-loop sources (traces, arrival processes) know every arrival up front. Closed-loop clients and
 * the later turns of multi-turn sessions exist only once an earlier request has left the system, which
 * the engine reports through `onFinished`.
 *
 * Pull contract: the engine calls `next()` once at the start, once after each arrival it processes, and
 * once per request that `onFinished` reports released, and keeps every pulled request that has not
 * arrived yet in its event queue. Since `next()` always returns the earliest request it knows, the
 * request due next is then always already in that queue, and the stream never buffers more than the
 * engine asks for (an open loop holds one arrival of look-ahead).
 */
export interface RequestStream {
  /**
   * The earliest-arriving request among those known and not yet returned, or `undefined` when none is
   * known now. Ids are 0, 1, 2, … in the order of return. Arrivals are non-decreasing across calls except
   * with sessions: a turn released by a completion may arrive before a request returned earlier (a
   * future open-loop arrival), though never before the completion that released it.
   */
  next(): Request | undefined;
  /** True once the stream will never yield again, whatever completes. */
  exhausted(): boolean;
  /**
   * Request `id` left the system (finished, rejected, timed out) at `time_s`; calls come in
   * non-decreasing time, once per returned request. Returns how many requests this completion released
   * (0 or 1): a closed-loop client's next request, or a session's next turn. The engine pulls that many.
   */
  onFinished(id: number, time_s: number): number;
}
