import type { RequestStream } from './request.js';
import type { TraceRequest } from './types.js';

export interface OpenLoopOptions {
  /** Infinity when only time bounds the stream. */
  max_requests: number;
  /** Infinity when only a count bounds the stream. */
  duration_s: number;
  /** Successive arrival times, non-decreasing. */
  nextArrival: () => number;
  /** Builds request `id` (lengths drawn or read in id order). */
  make: (id: number, arrival_s: number) => TraceRequest;
}

/** Open loop: every arrival is known in advance, so the stream yields them one by one, lazily. */
export function openLoopStream(options: OpenLoopOptions): RequestStream & { next(): TraceRequest | undefined } {
  const { max_requests, duration_s, nextArrival, make } = options;
  let id = 0;
  // One arrival of look-ahead, so exhausted() can answer before next() is called.
  let upcoming_s = max_requests > 0 ? nextArrival() : Infinity;
  const exhausted = (): boolean => id >= max_requests || !(upcoming_s < duration_s);
  return {
    next() {
      if (exhausted()) return undefined;
      const request = make(id, upcoming_s);
      id++;
      if (id < max_requests) upcoming_s = nextArrival();
      return request;
    },
    exhausted,
    // Completions release nothing: every arrival is already on the clock.
    onFinished: () => 0,
  };
}
