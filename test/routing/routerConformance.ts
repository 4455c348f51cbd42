import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTER_OPTIONS, LOAD_FIELDS, ROUTER_KEYS, type ReplicaLoad, type RouterFactory } from '../../sim/routing/router.js';
import type { Request } from '../../sim/workload/request.js';

const request = (id: number): Request => ({ id, arrival_s: id, input_tokens: 100, output_tokens: 10 }) as Request;

type Load = Omit<ReplicaLoad, 'index'>;

/** Loads as a gateway could see them: small counts (ties likely), KV use in 0..1. */
const loadArb: fc.Arbitrary<Load> = fc.record({
  outstanding: fc.nat(20),
  waiting: fc.nat(10),
  kv_used_fraction: fc.integer({ min: 0, max: 8 }).map((k) => k / 8),
  cached_prefix_tokens: fc.integer({ min: 0, max: 4 }).map((blocks) => () => blocks * 16),
});

/** A series of routing calls: each a list of candidates (cluster indexes ascending, with loads). */
const callsArb = fc.array(
  fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 8 }).chain((indexes) =>
    fc.array(loadArb, { minLength: indexes.length, maxLength: indexes.length }).map((loads) =>
      indexes.sort((a, b) => a - b).map((index, i): ReplicaLoad => ({ index, ...loads[i] })),
    ),
  ),
  { minLength: 1, maxLength: 40 },
);

type Calls = ReplicaLoad[][];

function choices(factory: RouterFactory, seed: number, calls: Calls, view: (r: ReplicaLoad) => ReplicaLoad = (r) => r): number[] {
  const router = factory.create(seed, DEFAULT_ROUTER_OPTIONS);
  return calls.map((candidates, k) => router.route(request(k), candidates.map(view)));
}

/**
 * What every router must do, whatever its policy: choose among the candidates it is given (the
 * cluster offers only ready replicas), the same way for the same seed and inputs, reading no
 * more of a replica than its traits declare. Conservation and lifecycle over a whole run are
 * checked for the registered routers by routers.test.ts.
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

    it('returns a position among the candidates, for any candidates and loads', () => {
      fc.assert(
        fc.property(fc.integer(), callsArb, (seed, calls) => {
          const picked = choices(factory, seed, calls);
          picked.forEach((p, k) => {
            expect(Number.isInteger(p)).toBe(true);
            expect(p).toBeGreaterThanOrEqual(0);
            expect(p).toBeLessThan(calls[k].length);
          });
        }),
        { numRuns: 100 },
      );
    });

    it('is deterministic: the same seed and inputs give the same choices', () => {
      fc.assert(
        fc.property(fc.integer(), callsArb, (seed, calls) => {
          expect(choices(factory, seed, calls)).toEqual(choices(factory, seed, calls));
        }),
        { numRuns: 50 },
      );
    });

    const unread = LOAD_FIELDS.filter((f) => !factory.traits.reads.includes(f));
    it.skipIf(unread.length === 0)('ignores the load it does not declare reading', () => {
      fc.assert(
        fc.property(fc.integer(), callsArb, loadArb, (seed, calls, other) => {
          // Every undeclared figure replaced by another value: the choices must not move.
          const swap = (r: ReplicaLoad): ReplicaLoad => ({ ...r, ...Object.fromEntries(unread.map((f) => [f, other[f]])) });
          expect(choices(factory, seed, calls, swap)).toEqual(choices(factory, seed, calls));
        }),
        { numRuns: 50 },
      );
    });
  });
}
