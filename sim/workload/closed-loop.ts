import type { RequestStream } from './request.js';
import type { TraceRequest } from './types.js';

export interface ClosedLoopOptions {
  concurrency: number;
  /** Infinity when only time bounds the stream. */
  max_requests: number;
  /** A completion at or after this time releases nothing more. */
  duration_s: number;
  make: (id: number, arrival_s: number) => TraceRequest;
}

/**
 * Closed loop: `concurrency` clients each send a request at t = 0 and the next one the moment their
 * previous one leaves. The stream learns arrivals only through onFinished, so next() returns
 * undefined while nothing is released; onFinished returns 1 when it frees a client for one more request.
 * Misreported completions are engine bugs and throw.
 */
export function closedLoopStream(options: ClosedLoopOptions): RequestStream & { next(): TraceRequest | undefined } {
  const { concurrency, max_requests, duration_s, make } = options;
  const releases_s: number[] = [];
  let head = 0;
  let released = Math.min(concurrency, max_requests);
  for (let i = 0; i < released; i++) releases_s.push(0);
  let id = 0;
  let stopped = false;
  let last_finish_s = 0;
  const inFlight = new Set<number>();
  const pending = (): number => releases_s.length - head;

  return {
    next() {
      if (pending() === 0) return undefined;
      const arrival_s = releases_s[head++];
      if (head === releases_s.length) {
        releases_s.length = 0;
        head = 0;
      }
      inFlight.add(id);
      return make(id++, arrival_s);
    },
    exhausted() {
      return pending() === 0 && (released >= max_requests || stopped);
    },
    onFinished(finishedId, time_s) {
      if (!inFlight.delete(finishedId)) throw new Error(`closed-loop workload: request ${finishedId} finished but is not in flight`);
      if (!(time_s >= last_finish_s)) throw new Error(`closed-loop workload: completion at ${time_s} s is before an earlier one at ${last_finish_s} s`);
      last_finish_s = time_s;
      if (time_s >= duration_s) stopped = true;
      if (stopped || released >= max_requests) return 0;
      released++;
      releases_s.push(time_s);
      return 1;
    },
  };
}
