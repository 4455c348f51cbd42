import { describe, expect, it } from 'vitest';
import { simulate } from '../../sim/index.js';
import { createRequestStream } from '../../sim/workload/index.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { arrowRows, expectInvariants, run, scenario, suiteDir } from '../helpers.js';

const rows = arrowRows;

/** numpy's default percentile (linear between closest ranks), written out here independently of the simulator's. */
function percentile(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  const h = (v.length - 1) * p;
  const lo = Math.floor(h);
  return v[lo] + (h - lo) * ((v[Math.min(lo + 1, v.length - 1)] ?? v[lo]) - v[lo]);
}

const chat = {
  input_tokens: { dist: 'lognormal', mean: 1000, sigma: 0.8, max: 8000 },
  output_tokens: { dist: 'lognormal', mean: 200, sigma: 0.6, max: 2000 },
};

/** A stable pool of four H100s and a canary of `replicas`; `canaryEngine` may starve it. */
const canaryRun = (canary: { replicas: number; engine?: Record<string, unknown> }, rate_per_s: number, max_regression: number, min_requests: number): ScenarioInput =>
  scenario({
    cluster: { router: 'least-outstanding' },
    pools: [{ name: 'stable', replicas: 4 }, { name: 'canary', ...canary }],
    traffic: { canary: { baseline: 'stable', canary: 'canary', steps: [5, 25, 50, 100], interval_s: 20, metric: 'ttft_p99', max_regression, min_requests } },
    metrics: { uncertainty: false },
    workload: { arrival: { process: 'poisson', rate_per_s }, ...chat, duration_s: 120 },
  });

describe('a canary whose pool cannot take its second step', () => {
  const dir = suiteDir();
  const observed = run(canaryRun({ replicas: 1, engine: { max_num_seqs: 8 } }, 24, 0.2, 20), dir);
  const events = rows(dir, 'events.arrow');
  const requests = rows(dir, 'requests.arrow');
  const rollback = events.find((e) => e.kind === 'canary_rollback');

  it('keeps every invariant', () => expectInvariants(observed));

  it('steps up from 5 % while within the limit, then rolls back at the first interval that violates it', () => {
    const summary = observed.result.summary.events as any[];
    expect(events.map((e) => e.kind)).toEqual(summary.map((e) => e.kind));
    expect(rollback).toBeDefined();
    const before = summary.filter((e) => e.time_s < rollback!.time_s);
    expect(before.length).toBeGreaterThan(0);
    expect(before.some((e) => e.kind === 'canary_step' && e.from_percent === 5 && e.to_percent === 25)).toBe(true);
    for (const e of before) if (e.kind === 'canary_step') expect(e.canary_value).toBeLessThanOrEqual(e.limit);
    const last = summary.find((e) => e.kind === 'canary_rollback');
    expect(last.canary_value).toBeGreaterThan(last.limit);
    expect(last.to_percent).toBe(0);
    // The decision is the last one: nothing is judged after a roll-back.
    expect(summary[summary.length - 1]).toBe(last);
  });

  it('judges on the figures the requests show: p99 TTFT of each pool\'s requests that left in the interval', () => {
    for (const e of observed.result.summary.events as any[]) {
      const window = (pool: string) =>
        requests.filter((r) => r.pool === pool && r.finish_s > e.time_s - 20 && r.finish_s <= e.time_s && r.status === 'finished').map((r) => r.ttft_s);
      expect(e.canary_value).toBeCloseTo(percentile(window('canary'), 0.99), 9);
      expect(e.baseline_value).toBeCloseTo(percentile(window('stable'), 0.99), 9);
      expect(e.limit).toBeCloseTo(e.baseline_value * 1.2, 12);
    }
  });

  it('sends the canary nothing after the roll-back', () => {
    const late = requests.filter((r) => r.pool === 'canary' && r.arrival_s + 0.001 > rollback!.time_s);
    expect(late).toEqual([]);
    expect(requests.filter((r) => r.pool === 'stable' && r.arrival_s > rollback!.time_s).length).toBeGreaterThan(0);
  });
});

describe('a canary judged on its error rate', () => {
  it('rolls back at the first interval in which it rejects more than the baseline', () => {
    // A canary queue of 1: with requests arriving faster than it starts them, it rejects some; the baseline rejects none.
    const input = canaryRun({ replicas: 1, engine: { max_queue_len: 1 } }, 24, 0.2, 5);
    const c = (input.traffic as any).canary;
    c.metric = 'error_rate';
    c.steps = [50, 100];
    const { result, outcomes } = run(input);
    const events = result.summary.events as any[];
    expect(events.map((e) => e.kind)).toEqual(['canary_rollback']);
    const [e] = events;
    const window = (replicas: number[]) => outcomes.filter((o) => replicas.includes(o.replica) && o.finish_s > e.time_s - 20 && o.finish_s <= e.time_s);
    const rate = (w: typeof outcomes) => w.filter((o) => o.status !== 'finished').length / w.length;
    expect(e.baseline_value).toBe(rate(window([0, 1, 2, 3])));
    expect(e.baseline_value).toBe(0);
    expect(e.canary_value).toBe(rate(window([4])));
    expect(e.canary_value).toBeGreaterThan(0);
  });
});

describe('a canary that fails its requests', () => {
  it('rolls back on latency: a failed request counts as an infinite one', () => {
    // max_model_len 560 rejects every request of the 500–2,000-token prompts (+ output): no latency at all.
    const input = canaryRun({ replicas: 1, engine: { max_model_len: 560 } }, 24, 0.2, 5);
    const { result } = run({ ...input, workload: { ...input.workload, input_tokens: { dist: 'uniform', min: 500, max: 2000 } } });
    const events = result.summary.events as any[];
    expect(events.map((e) => e.kind)).toEqual(['canary_rollback']);
    // summary.json writes ∞ as null; the value in memory is ∞.
    expect(events[0].canary_value).toBe(Infinity);
  });

  it('keeps judging a last step short of 100 %, and rolls back from it', () => {
    const input = canaryRun({ replicas: 1, engine: { max_num_seqs: 8 } }, 24, 0.2, 20);
    (input.traffic as any).canary.steps = [25];
    const events = run(input).result.summary.events as any[];
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.from_percent === 25)).toBe(true);
    expect(events[events.length - 1].kind).toBe('canary_rollback');
  });
});

describe('a healthy canary', () => {
  const dir = suiteDir();
  it('reaches 100 % at its last step, and then takes every request', () => {
    simulate(canaryRun({ replicas: 4 }, 24, 1, 10), { outDir: dir });
    const events = rows(dir, 'events.arrow');
    const steps = events.filter((e) => e.kind === 'canary_step');
    expect(events.some((e) => e.kind === 'canary_rollback')).toBe(false);
    expect(steps.length).toBe(3);
    const full = steps[2].time_s;
    const after = rows(dir, 'requests.arrow').filter((r) => r.arrival_s + 0.001 > full);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.pool === 'canary')).toBe(true);
  });
});

describe('shadow traffic', () => {
  const base = (shadow: boolean): ScenarioInput =>
    scenario({
      cluster: { router: 'least-outstanding' },
      pools: shadow ? [{ name: 'prod', replicas: 2 }, { name: 'mirror', replicas: 1 }] : [{ name: 'prod', replicas: 2 }],
      ...(shadow ? { traffic: { shadow: { source: 'prod', target: 'mirror', fraction: 0.5 } } } : {}),
      metrics: { uncertainty: false },
      workload: { arrival: { process: 'poisson', rate_per_s: 10 }, ...chat, num_requests: 600, timeout_s: 30 },
    });
  const withDir = suiteDir();
  const withoutDir = suiteDir();
  const mirrored = run(base(true), withDir);
  const plain = simulate(base(false), { outDir: withoutDir });

  it('leaves the primary pool\'s rows exactly as they are without the shadow', () => {
    const primary = rows(withDir, 'requests.arrow').filter((r) => !r.shadow);
    const alone = rows(withoutDir, 'requests.arrow');
    expect(primary).toEqual(alone);
    expect(mirrored.result.summary.overall).toEqual(plain.summary.overall);
  });

  it('shows the mirrored load in the shadow pool\'s own summary, and nowhere in the client figures', () => {
    expectInvariants(mirrored);
    const copies = rows(withDir, 'requests.arrow').filter((r) => r.shadow);
    expect(copies.every((r) => r.pool === 'mirror')).toBe(true);
    const pool = mirrored.result.summary.pools!.find((p) => p.pool === 'mirror')!;
    expect(pool.shadow).toBe(true);
    expect(pool.requests.total).toBe(copies.length);
    // Half of 600 mirrored, within the binomial 99.9 % interval: 300 ± 3.29 × √(600 × 0.25) = ±40.3.
    expect(Math.abs(copies.length - 300)).toBeLessThanOrEqual(40);
    expect(mirrored.result.summary.overall.requests.total).toBe(600);
  });
});

describe('bad traffic input: one clear line each', () => {
  const pools = [{ name: 'a', replicas: 1 }, { name: 'b', replicas: 1 }];
  const refuse = (traffic: unknown, extra: Partial<Record<keyof ScenarioInput, unknown>> = {}) => () =>
    simulate(scenario({ pools, traffic, metrics: { uncertainty: false }, ...extra }));
  it.each([
    ['a split weight of 0', { split: [{ pool: 'a', weight: 9 }, { pool: 'b', weight: 0 }] }, /traffic\.split\.1\.weight|traffic\.split\[1\]\.weight/],
    ['a canary naming a missing pool', { canary: { baseline: 'a', canary: 'c', steps: [10, 100], interval_s: 10, metric: 'ttft_p99', max_regression: 0.2 } }, 'traffic.canary.canary: names no pool (pools are a, b), got "c"'],
    ['a split leaving out a pool of its model', { split: [{ pool: 'a', weight: 1 }] }, 'traffic.split: leaves out pool b, which serves llama-3.1-8b too: give it a share, or another model, got ["a"]'],
    ['a shadow onto its own source', { shadow: { source: 'a', target: 'a', fraction: 0.1 } }, 'traffic.shadow.target: must differ from traffic.shadow.source, got "a"'],
    ['sticky by user without users', { split: [{ pool: 'a', weight: 1 }, { pool: 'b', weight: 1 }], sticky_by: 'user' }, 'traffic.sticky_by: user needs a population of users (workload.users), got "user"'],
  ])('%s', (_what, traffic, message) => {
    expect(refuse(traffic)).toThrow(message);
  });

  it('refuses sticky_by: session without sessions', () => {
    expect(refuse({ split: [{ pool: 'a', weight: 1 }, { pool: 'b', weight: 1 }], sticky_by: 'session' })).toThrow(
      'traffic.sticky_by: session needs sessions (workload.sessions): without them every request would be drawn on its own, got "session"',
    );
  });

  it('counts a request its pool could not take (no replica ready) in that pool\'s summary', () => {
    const dir = suiteDir();
    const result = simulate(
      scenario({ pools, traffic: { split: [{ pool: 'a', weight: 1 }, { pool: 'b', weight: 1 }] }, metrics: { uncertainty: false } }),
      { outDir: dir, control: (c) => c.at(2, () => c.drainReplica(1)) },
    );
    const b = rows(dir, 'requests.arrow').filter((r) => r.pool === 'b');
    const unready = b.filter((r) => r.reject_reason === 'no_ready_replica');
    expect(unready.length).toBeGreaterThan(0);
    expect(unready.every((r) => r.replica === -1 && r.arrival_s + 0.001 >= 2)).toBe(true);
    const pool = result.summary.pools!.find((p) => p.pool === 'b')!;
    expect(pool.requests.total).toBe(b.length);
    expect(pool.requests.rejected).toBe(unready.length);
  });

  it('refuses traffic rules without pools', () => {
    expect(() => simulate(scenario({ traffic: { sticky_by: 'none' } }))).toThrow('traffic: divides traffic between pools: list them in pools, got ["sticky_by"]');
  });
});

describe('an A/B split, 90/10', () => {
  const ab = (sticky: 'none' | 'user'): ScenarioInput =>
    scenario({
      cluster: { router: 'least-outstanding' },
      pools: [{ name: 'a', replicas: 2 }, { name: 'b', replicas: 1 }],
      traffic: { split: [{ pool: 'a', weight: 90 }, { pool: 'b', weight: 10 }], sticky_by: sticky },
      metrics: { uncertainty: false },
      workload: {
        arrival: { process: 'poisson', rate_per_s: 200 },
        input_tokens: { dist: 'uniform', min: 20, max: 100 },
        output_tokens: { dist: 'uniform', min: 2, max: 10 },
        num_requests: 20_000,
        users: 500,
      },
    });

  it('sends the variant a share inside the 99.9 % binomial interval', () => {
    const { outcomes } = run(ab('none'));
    const b = outcomes.filter((o) => o.replica === 2).length;
    // Binomial(20,000, 0.1): mean 2,000, sd √(20,000 × 0.1 × 0.9) = 42.43; 99.9 % two-sided: ± 3.29 sd = ± 139.6.
    expect(Math.abs(b - 2000)).toBeLessThanOrEqual(139);
  });

  it('with sticky_by: user never shows one user both versions', () => {
    const input = ab('user');
    const { outcomes } = run(input);
    // The users the workload gave each request, drawn again from the same seed.
    const stream = createRequestStream(input.workload, 7);
    const userOf = new Map<number, number>();
    for (let r = stream.next(); r !== undefined; r = stream.next()) userOf.set(r.id, r.user as number);
    const poolsOf = new Map<number, Set<string>>();
    for (const o of outcomes) {
      const user = userOf.get(o.request_id) as number;
      poolsOf.set(user, (poolsOf.get(user) ?? new Set()).add(o.replica === 2 ? 'b' : 'a'));
    }
    expect(outcomes.length).toBe(20_000);
    expect(poolsOf.size).toBeGreaterThan(400);
    expect([...poolsOf.values()].every((pools) => pools.size === 1)).toBe(true);
    // Both versions have users: the hash spreads them (10 % of 500 expected on b).
    expect([...poolsOf.values()].filter((p) => p.has('b')).length).toBeGreaterThan(20);
  });
});
