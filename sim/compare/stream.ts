/**
 * The real benchmark's workload as a request stream, built in memory: the same requests (lengths,
 * in send order) at the same arrivals. One shape covers every plan: each request has a scheduled
 * send time, and an optional cap on requests in flight holds a request back (a client semaphore)
 * until one leaves. A closed loop of N clients is every request scheduled at 0 with a cap of N.
 */
import { rngStream } from '../engine/rng.js';
import { arrivalClock, type TraceRequest, type WorkloadStream } from '../workload/index.js';
import type { ArrivalPlan, TimedRequest } from './types.js';

/** Scheduled send times (seconds, non-decreasing, from 0) of n requests under a plan. */
export function scheduledTimes(plan: ArrivalPlan, n: number, seed: number): number[] {
  if (plan.kind === 'recorded') return plan.times_s.slice(0, n);
  if (plan.kind === 'closed' || plan.process === 'burst') return new Array<number>(n).fill(0);
  const rate = plan.rate_per_s as number;
  if (plan.process === 'constant') return Array.from({ length: n }, (_, k) => k / rate);
  const b = plan.burstiness ?? 1;
  const spec = plan.process === 'gamma' ? { process: 'gamma' as const, rate_per_s: rate, cv: 1 / Math.sqrt(b) } : { process: 'poisson' as const, rate_per_s: rate };
  const clock = arrivalClock(spec, rngStream(seed, 'arrivals'));
  if (plan.normalize_to_rate !== true) return Array.from({ length: n }, () => clock());
  // vLLM draws n gaps, sums them and rescales so the last send comes at n / rate exactly (serve.py get_request).
  clock(); // the clock's own first arrival, at 0
  const sums = Array.from({ length: n }, () => clock());
  const scale = sums[n - 1] > 0 ? n / rate / sums[n - 1] : 1;
  const first = sums[0] * scale;
  return sums.map((t) => t * scale - first);
}

/** The plan's cap on requests in flight (a closed loop's clients), if any. */
export function capOf(plan: ArrivalPlan): number | undefined {
  return plan.kind === 'closed' ? plan.concurrency : plan.kind === 'process' ? plan.concurrency : undefined;
}

/**
 * A WorkloadStream over the requests (see sim/workload/README.md, the pull contract): next() returns
 * request k at max(its scheduled time, the previous send, the completion that freed its slot) while
 * fewer than `cap` are in flight; else it answers undefined and the next completion releases one (1).
 */
export function realWorkloadStream(requests: readonly Pick<TimedRequest, 'input_tokens' | 'output_tokens'>[], times_s: readonly number[], cap?: number): WorkloadStream {
  const n = requests.length;
  const inFlight = new Set<number>();
  let k = 0;
  let floor_s = 0;
  let blocked = false;
  const full = (): boolean => cap !== undefined && inFlight.size >= cap;
  return {
    info: { source: 'trace', loop: cap === undefined ? 'open' : 'closed', max_requests: n, zero_output_rows: 0 },
    next(): TraceRequest | undefined {
      if (k >= n) return undefined;
      if (full()) {
        blocked = true;
        return undefined;
      }
      const arrival_s = Math.max(times_s[k], floor_s);
      floor_s = arrival_s;
      inFlight.add(k);
      const q = requests[k];
      return { id: k++, arrival_s, input_tokens: q.input_tokens, output_tokens: q.output_tokens };
    },
    exhausted: () => k >= n,
    onFinished(id: number, time_s: number): number {
      if (!inFlight.delete(id)) throw new Error(`compare workload: request ${id} finished but is not in flight`);
      if (!blocked) return 0;
      blocked = false;
      floor_s = Math.max(floor_s, time_s);
      return 1;
    },
  };
}
