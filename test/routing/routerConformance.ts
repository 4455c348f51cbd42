import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTER_OPTIONS, LOAD_FIELDS, ROUTER_KEYS, type ReplicaLoad, type RouterFactory, type RouterOptions } from '../../sim/routing/router.js';
import type { Request } from '../../sim/workload/request.js';

type Load = Omit<ReplicaLoad, 'index'>;

/** Loads as a gateway could see them: small counts (ties likely), KV use in 0..1, a few pools. */
const loadArb: fc.Arbitrary<Load> = fc.record({
  outstanding: fc.nat(20),
  waiting: fc.nat(10),
  kv_used_fraction: fc.integer({ min: 0, max: 8 }).map((k) => k / 8),
  outstanding_tokens: fc.nat(8).map((k) => k * 1024),
  pool: fc.constantFrom('a', 'b', 'default'),
  cached_prefix_tokens: fc.integer({ min: 0, max: 4 }).map((blocks) => () => blocks * 16),
  // Adapters 0..2 in a GPU slot or not, and 0..2 free slots: ties and every tier of lora-affinity occur.
  has_adapter: fc.subarray([0, 1, 2]).map((held) => (adapter: number) => held.includes(adapter)),
  free_adapter_slots: fc.nat(2),
});

/** A finished request as the run reports it to a learning router (latencies in tenths of a second, so ties occur). */
interface Observation {
  replica: number;
  ttft_s: number | null;
  e2e_s: number;
}
const observationArb: fc.Arbitrary<Observation> = fc.record({
  replica: fc.integer({ min: 0, max: 15 }),
  ttft_s: fc.option(fc.integer({ min: 1, max: 50 }).map((t) => t / 10), { nil: null }),
  e2e_s: fc.integer({ min: 1, max: 200 }).map((t) => t / 10),
});

/** One routing call: the prompt's length and adapter, the candidates (cluster indexes ascending), and a finish the run reported before it. */
interface Call {
  input_tokens: number;
  adapter: number | undefined;
  candidates: ReplicaLoad[];
  observed: Observation | undefined;
}
const candidatesArb = fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 8 }).chain((indexes) =>
  fc.array(loadArb, { minLength: indexes.length, maxLength: indexes.length }).map((loads) =>
    indexes.sort((a, b) => a - b).map((index, i): ReplicaLoad => ({ index, ...loads[i] })),
  ),
);
const callsArb: fc.Arbitrary<Call[]> = fc.array(
  fc.record({
    // Around the drawn long_prompt_tokens, so both sides of the prompt-length split occur.
    input_tokens: fc.integer({ min: 1, max: 256 }),
    adapter: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    candidates: candidatesArb,
    observed: fc.option(observationArb, { nil: undefined }),
  }),
  { minLength: 1, maxLength: 40 },
);

/** The defaults, or every setting drawn (a router ignores those it does not take). */
const optionsArb: fc.Arbitrary<RouterOptions> = fc.oneof(
  fc.constant(DEFAULT_ROUTER_OPTIONS),
  fc.record({
    balance_threshold: fc.nat(8),
    long_prompt_tokens: fc.integer({ min: 1, max: 256 }),
    long_prompt_pool: fc.constantFrom('', 'a', 'b'),
    latency_metric: fc.constantFrom('ttft' as const, 'e2e' as const),
    ewma_alpha: fc.integer({ min: 1, max: 10 }).map((k) => k / 10),
    weights: fc
      .record({ queue: fc.nat(3), kv: fc.nat(3), prefix: fc.nat(3), tokens: fc.nat(3) })
      .filter((w) => w.queue + w.kv + w.prefix + w.tokens > 0),
  }),
);

const request = (id: number, input_tokens: number, adapter: number | undefined): Request =>
  ({ id, arrival_s: id, input_tokens, output_tokens: 10, ...(adapter === undefined ? {} : { adapter }) }) as Request;

type View = (r: ReplicaLoad, call: number, position: number) => ReplicaLoad;

/** A fresh router's choices over `calls`, each call's observation reported to it first (the same sequence every time). */
function choices(factory: RouterFactory, seed: number, options: RouterOptions, calls: Call[], view: View = (r) => r): number[] {
  const router = factory.create(seed, options);
  return calls.map((call, k) => {
    const o = call.observed;
    if (o !== undefined) router.observe?.(o.replica, o.ttft_s, o.e2e_s);
    return router.route(request(k, call.input_tokens, call.adapter), call.candidates.map((r, i) => view(r, k, i)));
  });
}

/**
 * What every router must do, whatever its policy: choose among the candidates it is given (the
 * cluster offers only ready replicas), the same way for the same seed, settings, inputs and
 * observed finishes, reading no more of a replica than its traits declare. Conservation and
 * lifecycle over a whole run are checked for the registered routers by routers.test.ts.
 */
export function routerConformance(factory: RouterFactory): void {
  describe(`router ${factory.name}: conformance`, () => {
    it('declares its traits', () => {
      expect(factory.name).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(typeof factory.traits.randomized).toBe('boolean');
      expect(factory.traits.description.length).toBeGreaterThan(0);
      for (const field of factory.traits.reads) expect(['index', ...LOAD_FIELDS]).toContain(field);
      for (const key of factory.traits.keys ?? []) expect(ROUTER_KEYS).toContain(key);
    });

    it('returns a position among the candidates, for any candidates, loads, settings and observations', () => {
      fc.assert(
        fc.property(fc.integer(), optionsArb, callsArb, (seed, options, calls) => {
          const picked = choices(factory, seed, options, calls);
          picked.forEach((p, k) => {
            expect(Number.isInteger(p)).toBe(true);
            expect(p).toBeGreaterThanOrEqual(0);
            expect(p).toBeLessThan(calls[k].candidates.length);
          });
        }),
        { numRuns: 100 },
      );
    });

    it('is deterministic: the same seed, settings, inputs and observations give the same choices', () => {
      fc.assert(
        fc.property(fc.integer(), optionsArb, callsArb, (seed, options, calls) => {
          expect(choices(factory, seed, options, calls)).toEqual(choices(factory, seed, options, calls));
        }),
        { numRuns: 50 },
      );
    });

    const unread = LOAD_FIELDS.filter((f) => !factory.traits.reads.includes(f));
    it.skipIf(unread.length === 0)(`ignores the load it does not declare reading (${unread.join(', ')})`, () => {
      fc.assert(
        // `other` gives each candidate of each call its own replacement figures, so they differ between candidates too.
        fc.property(fc.integer(), optionsArb, callsArb, fc.func(loadArb), (seed, options, calls, other) => {
          const swap: View = (r, k, i) => {
            const o = other(k, i);
            return { ...r, ...Object.fromEntries(unread.map((f) => [f, o[f]])) };
          };
          expect(choices(factory, seed, options, calls, swap)).toEqual(choices(factory, seed, options, calls));
        }),
        { numRuns: 50 },
      );
    });
  });
}
