import { describe, expect, it } from 'vitest';
import type { ReplicaLoad, RouterFactory } from '../../sim/routing/router.js';
import { registerRouter, ROUTERS } from '../../sim/routing/registry.js';
import { simulate } from '../../sim/index.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import { scenario } from '../helpers.js';
import { routerConformance } from './routerConformance.js';

for (const factory of Object.values(ROUTERS)) routerConformance(factory);

/** A router written in this file: the suite needs nothing else to check it. Picks the candidate with the highest index. */
const LAST_READY: RouterFactory = {
  name: 'last-ready',
  traits: { randomized: false, reads: ['index'], description: 'the ready replica with the highest index' },
  create: () => ({ route: (_r: unknown, candidates: readonly ReplicaLoad[]) => candidates.length - 1 }),
};
routerConformance(LAST_READY);

describe('a router registered from outside sim/routing', () => {
  it('can be named by a scenario, and routes its run', () => {
    const unregister = registerRouter(LAST_READY);
    try {
      const left: RequestOutcome[] = [];
      simulate(scenario({ cluster: { replicas: 3, router: 'last-ready' } }), { onRequest: (o) => left.push({ ...o }) });
      expect(left.length).toBe(200);
      expect(left.every((o) => o.replica === 2)).toBe(true);
    } finally {
      unregister();
    }
    expect(() => simulate(scenario({ cluster: { replicas: 3, router: 'last-ready' } }))).toThrow(/cluster\.router.*round-robin, least-outstanding, random/);
  });
});

describe.each(Object.keys(ROUTERS))('router %s over a run', (name) => {
  it('routes every request once, to a ready replica, and never to one drained', () => {
    const left: RequestOutcome[] = [];
    const result = simulate(scenario({ cluster: { replicas: 3, router: name } }), {
      onRequest: (o) => left.push({ ...o }),
      control: (c) => c.at(3, () => c.drainReplica(1)),
    });
    expect(left.length).toBe(200);
    expect(new Set(left.map((o) => o.request_id)).size).toBe(200);
    const per = (result.summary as any).per_replica.map((r: any) => r.requests.total);
    expect(per.reduce((a: number, b: number) => a + b, 0)).toBe(200);
    for (const o of left) {
      expect([0, 1, 2]).toContain(o.replica);
      // Engine time of the arrival: arrival + frontend input latency (1 ms by default).
      if (o.replica === 1) expect(o.arrival_s + 0.001).toBeLessThanOrEqual(3);
    }
    expect(per.every((n: number) => n > 0)).toBe(true);
  });
});

/** Candidates with the given figures (index = position); unspecified figures are 0. */
const loads = (field: 'outstanding' | 'waiting' | 'kv_used_fraction', xs: number[]): ReplicaLoad[] =>
  xs.map((x, index) => ({ index, outstanding: 0, waiting: 0, kv_used_fraction: 0, [field]: x }));

describe('round-robin', () => {
  it('takes the ready replicas in turn', () => {
    const router = ROUTERS['round-robin'].create(0);
    const three = loads('outstanding', [9, 8, 7]);
    expect([0, 1, 2, 3, 4].map(() => router.route({} as never, three))).toEqual([0, 1, 2, 0, 1]);
  });
});

describe.each([
  ['least-outstanding', 'outstanding'],
  ['least-queue', 'waiting'],
  ['least-kv', 'kv_used_fraction'],
] as const)('%s', (name, field) => {
  it(`picks the lowest ${field}, the first on a tie`, () => {
    const router = ROUTERS[name].create(0);
    expect(router.route({} as never, loads(field, [0.75, 0.25, 0.5]))).toBe(1);
    expect(router.route({} as never, loads(field, [3, 1, 1]))).toBe(1);
    expect(router.route({} as never, loads(field, [2, 2, 2]))).toBe(0);
  });
});

describe('power-of-two', () => {
  it('picks the lighter of two distinct candidates', () => {
    const router = ROUTERS['power-of-two'].create(3);
    // One replica three times heavier than the other two: it wins only if both draws are it, which distinct draws rule out.
    const three = loads('outstanding', [1, 9, 1]);
    const picks = Array.from({ length: 300 }, () => router.route({} as never, three));
    expect(picks.filter((p) => p === 1).length).toBe(0);
    // Between the two light ones: each is the pair's first draw about half the time.
    const zero = picks.filter((p) => p === 0).length;
    expect(zero).toBeGreaterThan(100);
    expect(zero).toBeLessThan(200);
    expect(router.route({} as never, loads('outstanding', [5]))).toBe(0);
  });

});
