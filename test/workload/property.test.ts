import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArrivalSpec, LengthDist, WorkloadSpec } from '../../sim/scenario/types.js';
import { createRequestStream } from '../../sim/workload/index.js';
import type { TraceRequest } from '../../sim/workload/types.js';
import { drain, driveStream } from './helpers.js';

const rate = fc.double({ min: 0.01, max: 1000, noNaN: true });
const arrival: fc.Arbitrary<ArrivalSpec> = fc.oneof(
  rate.map((rate_per_s) => ({ process: 'poisson' as const, rate_per_s })),
  fc.tuple(rate, fc.double({ min: 0.05, max: 5, noNaN: true })).map(([rate_per_s, cv]) => ({ process: 'gamma' as const, rate_per_s, cv })),
  rate.map((rate_per_s) => ({ process: 'constant' as const, rate_per_s })),
  fc.constant({ process: 'burst' as const }),
);
const bounds = fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 20_000 })).map(([a, b]) => [a, a + b] as const);
const length: fc.Arbitrary<LengthDist> = fc.oneof(
  fc.integer({ min: 1, max: 5000 }).map((value) => ({ dist: 'fixed' as const, value })),
  bounds.map(([min, max]) => ({ dist: 'uniform' as const, min, max })),
  fc.tuple(fc.double({ min: 1, max: 5000, noNaN: true }), fc.double({ min: 0, max: 3000, noNaN: true })).map(([mean, std]) => ({ dist: 'normal' as const, mean, std })),
  fc.tuple(fc.double({ min: 1, max: 5000, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true })).map(([mean, sigma]) => ({ dist: 'lognormal' as const, mean, sigma })),
  fc.tuple(fc.double({ min: 0, max: 3, noNaN: true }), bounds).map(([s, [min, max]]) => ({ dist: 'zipf' as const, s, min, max })),
);

function checkStream(requests: TraceRequest[]): void {
  requests.forEach((r, i) => {
    expect(r.id).toBe(i);
    if (i > 0) expect(r.arrival_s).toBeGreaterThanOrEqual(requests[i - 1].arrival_s);
    expect(Number.isFinite(r.arrival_s)).toBe(true);
    expect(Number.isInteger(r.input_tokens) && r.input_tokens >= 1).toBe(true);
    expect(Number.isInteger(r.output_tokens) && r.output_tokens >= 1).toBe(true);
  });
}

describe('any generated stream', () => {
  it('open loop: ids 0..n-1, non-decreasing arrivals, integer lengths ≥ 1, exactly num_requests', () => {
    fc.assert(
      fc.property(arrival, length, length, fc.integer({ min: 1, max: 300 }), fc.integer(), (arrivalSpec, input_tokens, output_tokens, n, seed) => {
        const requests = drain(createRequestStream({ arrival: arrivalSpec, input_tokens, output_tokens, num_requests: n }, seed));
        expect(requests).toHaveLength(n);
        checkStream(requests);
      }),
      { numRuns: 200 },
    );
  });

  it('closed loop driven by random service times: same invariants, never more than N in flight', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (concurrency, n, services_s) => {
          const spec: WorkloadSpec = { concurrency, num_requests: n, input_tokens: { dist: 'fixed', value: 1 }, output_tokens: { dist: 'fixed', value: 1 } };
          const stream = createRequestStream(spec, 1);
          const seen: TraceRequest[] = [];
          const inFlight: { id: number; finish_s: number }[] = [];
          for (;;) {
            for (let r = stream.next(); r !== undefined; r = stream.next()) {
              seen.push(r);
              inFlight.push({ id: r.id, finish_s: r.arrival_s + services_s[r.id % services_s.length] });
            }
            expect(inFlight.length).toBeLessThanOrEqual(concurrency);
            if (inFlight.length === 0) break;
            inFlight.sort((a, b) => a.finish_s - b.finish_s);
            const done = inFlight.shift()!;
            expect(stream.onFinished(done.id, done.finish_s)).toBe(seen.length < n ? 1 : 0);
          }
          expect(stream.exhausted()).toBe(true);
          expect(seen).toHaveLength(n);
          checkStream(seen);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sessions, pulled as the engine pulls: ids in return order, nothing arrives in the past, turns follow their predecessors', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
        fc.constantFrom('poisson', 'constant', 'burst'),
        fc.record({
          num_requests: fc.option(fc.integer({ min: 1, max: 150 }), { nil: undefined }),
          duration_s: fc.option(fc.double({ min: 0.1, max: 20, noNaN: true }), { nil: undefined }),
        }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(0, 0.5, 3),
        fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        fc.integer(),
        (concurrency, process, bound, maxTurns, think_time_s, services_s, decorate, seed) => {
          // A closed loop bounded by time alone never ends when services take no time.
          const countNeeded = bound.duration_s === undefined || concurrency !== undefined || process === 'burst';
          const num_requests = bound.num_requests ?? (countNeeded ? 60 : undefined);
          const spec: WorkloadSpec = {
            input_tokens: { dist: 'uniform', min: 1, max: 50 },
            output_tokens: { dist: 'uniform', min: 1, max: 50 },
            num_requests,
            duration_s: bound.duration_s,
            sessions: { turns: { dist: 'uniform', min: 1, max: maxTurns }, think_time_s },
            ...(concurrency !== undefined ? { concurrency } : { arrival: process === 'burst' ? { process } : { process, rate_per_s: 3 } }),
            ...(decorate && { prefix: { groups: 3, tokens: 20, fraction: 0.5 }, priority: { classes: [{ priority: 1, weight: 1 }, { priority: 2, weight: 1 }] } }),
          };
          const driven = driveStream(createRequestStream(spec, seed), (r) => services_s[r.id % services_s.length]);
          if (bound.duration_s === undefined) expect(driven).toHaveLength(num_requests!);
          const last = new Map<number, (typeof driven)[number]>();
          let sessions = 0;
          driven.forEach((d, i) => {
            const r = d.request;
            expect(r.id).toBe(i);
            const previous = last.get(r.session!);
            if (previous === undefined) {
              expect(r.session).toBe(sessions++);
              if (spec.duration_s !== undefined) expect(r.arrival_s).toBeLessThan(spec.duration_s);
              expect(r.input_tokens - (r.prefix_tokens ?? 0)).toBeGreaterThanOrEqual(1);
            } else {
              const p = previous.request;
              expect(r.arrival_s).toBe(previous.finish_s + think_time_s);
              expect(r.input_tokens - p.input_tokens - p.output_tokens).toBeGreaterThanOrEqual(1);
              expect([r.prefix_group, r.prefix_tokens, r.priority]).toEqual([p.prefix_group, p.prefix_tokens, p.priority]);
            }
            last.set(r.session!, d);
          });
          if (concurrency !== undefined) {
            for (const d of driven) {
              const outstanding = driven.filter((e) => e.pulled_s <= d.pulled_s && d.pulled_s < e.finish_s).length;
              expect(outstanding).toBeLessThanOrEqual(concurrency);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
