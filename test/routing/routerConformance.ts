import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReplicaLoad, RouterFactory } from '../../sim/routing/router.js';
import type { Request } from '../../sim/workload/request.js';

const request = (id: number): Request => ({ id, arrival_s: id, input_tokens: 100, output_tokens: 10 }) as Request;

/** A series of routing calls: each a list of candidates (cluster indexes ascending, with loads). */
const callsArb = fc.array(
  fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 8 }).chain((indexes) =>
    fc.tuple(fc.constant(indexes.sort((a, b) => a - b)), fc.array(fc.nat(50), { minLength: indexes.length, maxLength: indexes.length })),
  ),
  { minLength: 1, maxLength: 40 },
);

type Calls = [number[], number[]][];

function choices(factory: RouterFactory, seed: number, calls: Calls, loads: (c: [number[], number[]]) => number[] = (c) => c[1]): number[] {
  const router = factory.create(seed);
  return calls.map((call, k) => {
    const outstanding = loads(call);
    const candidates: ReplicaLoad[] = call[0].map((index, i) => ({ index, outstanding: outstanding[i] }));
    return router.route(request(k), candidates);
  });
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
      for (const field of factory.traits.reads) expect(['index', 'outstanding']).toContain(field);
    });

    it('returns a position among the candidates, for any candidates and loads', () => {
      fc.assert(
        fc.property(fc.integer(), callsArb, (seed, calls) => {
          const picked = choices(factory, seed, calls);
          picked.forEach((p, k) => {
            expect(Number.isInteger(p)).toBe(true);
            expect(p).toBeGreaterThanOrEqual(0);
            expect(p).toBeLessThan(calls[k][0].length);
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

    it.skipIf(factory.traits.reads.includes('outstanding'))('ignores the load it does not declare reading', () => {
      fc.assert(
        fc.property(fc.integer(), callsArb, (seed, calls) => {
          expect(choices(factory, seed, calls, (c) => c[1].map(() => 0))).toEqual(choices(factory, seed, calls));
        }),
        { numRuns: 50 },
      );
    });
  });
}
