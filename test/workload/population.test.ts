import { describe, expect, it } from 'vitest';
import { rngStream } from '../../sim/engine/rng.js';
import { InfersimError } from '../../sim/errors.js';
import type { WorkloadSpec } from '../../sim/scenario/types.js';
import { createRequestStream } from '../../sim/workload/index.js';
import type { TraceRequest } from '../../sim/workload/types.js';
import { zipfRankSampler } from '../../sim/workload/zipf.js';
import { drain, driveStream, errorOf, tempFile } from './helpers.js';

const fixed = (value: number) => ({ dist: 'fixed' as const, value });
const N = 20_000;
const openLoop: WorkloadSpec = {
  arrival: { process: 'poisson', rate_per_s: 10 },
  input_tokens: { dist: 'uniform', min: 10, max: 100 },
  output_tokens: { dist: 'uniform', min: 1, max: 50 },
  num_requests: N,
};
const models = [
  { name: 'a', weight: 9 },
  { name: 'b', weight: 1 },
];

const count = <T>(values: readonly T[], value: T): number => values.filter((v) => v === value).length;

// Model b has weight 1 of 10: over n = 20,000 requests its count is Binomial(20,000, 0.1), mean 2,000,
// sd √(20,000 · 0.1 · 0.9) = √1,800 = 42.43. A 99.9 % two-sided interval is ± 3.29 sd = ± 139.6,
// so the count lies in [1,861, 2,139] (a share of 9.30 % to 10.70 %).
function expectTenPercentB(requests: readonly TraceRequest[]): void {
  expect(requests).toHaveLength(N);
  const names = requests.map((r) => r.model);
  expect(count(names, 'a') + count(names, 'b')).toBe(N);
  expect(count(names, 'b')).toBeGreaterThanOrEqual(1861);
  expect(count(names, 'b')).toBeLessThanOrEqual(2139);
}

describe('workload.models: generated requests draw their model by weight', () => {
  it('open loop: weights 9 : 1 give b about 10 % of 20,000 requests', () => {
    expectTenPercentB(drain(createRequestStream({ ...openLoop, models }, 1)));
  });

  it('closed loop: the same shares, one draw per request', () => {
    const spec: WorkloadSpec = { input_tokens: fixed(10), output_tokens: fixed(5), concurrency: 3, num_requests: N, models };
    expectTenPercentB(driveStream(createRequestStream(spec, 2), () => 1).map((d) => d.request));
  });

  it('draws from its own stream: arrivals and lengths are those of the same seed without models', () => {
    const plain = drain(createRequestStream({ ...openLoop, num_requests: 500 }, 7));
    const labelled = drain(createRequestStream({ ...openLoop, num_requests: 500, models, users: 40 }, 7));
    expect(labelled.map(({ id, arrival_s, input_tokens, output_tokens }) => ({ id, arrival_s, input_tokens, output_tokens }))).toEqual(plain);
  });

  it('is deterministic: the same seed gives the same models and users, another seed others', () => {
    const labels = (seed: number) => drain(createRequestStream({ ...openLoop, num_requests: 200, models, users: 50 }, seed)).map((r) => `${r.model}/${r.user}`);
    expect(labels(3)).toEqual(labels(3));
    expect(labels(4)).not.toEqual(labels(3));
  });
});

// With N = 3 users, H₃ = 1 + 1/2 + 1/3 = 11/6, so user k sends (1/k)/(11/6): 6/11, 3/11, 2/11. Over
// n = 20,000 draws, each count is binomial; ± 3.29 sd bounds it with 99.9 % probability:
//   user 0: mean 10,909.1, sd √(20,000 · 6/11 · 5/11) = √4,958.7 = 70.42, ± 231.7 → [10,678, 11,140]
//   user 1: mean  5,454.5, sd √(20,000 · 3/11 · 8/11) = √3,966.9 = 62.98, ± 207.2 → [ 5,248,  5,661]
//   user 2: mean  3,636.4, sd √(20,000 · 2/11 · 9/11) = √2,975.2 = 54.55, ± 179.5 → [ 3,457,  3,815]
describe('workload.users: Zipf (s = 1) activity over N users', () => {
  it('three users send 6/11, 3/11 and 2/11 of the requests', () => {
    const users = drain(createRequestStream({ ...openLoop, users: 3 }, 1)).map((r) => r.user);
    expect(count(users, 0) + count(users, 1) + count(users, 2)).toBe(N);
    expect(count(users, 0)).toBeGreaterThanOrEqual(10_678);
    expect(count(users, 0)).toBeLessThanOrEqual(11_140);
    expect(count(users, 1)).toBeGreaterThanOrEqual(5_248);
    expect(count(users, 1)).toBeLessThanOrEqual(5_661);
    expect(count(users, 2)).toBeGreaterThanOrEqual(3_457);
    expect(count(users, 2)).toBeLessThanOrEqual(3_815);
  });

  it('one user: everyone is user 0', () => {
    expect(new Set(drain(createRequestStream({ ...openLoop, num_requests: 100, users: 1 }, 1)).map((r) => r.user))).toEqual(new Set([0]));
  });

  // Past 10⁶ ranks the sampler inverts a closed-form tail CDF. For N = 10⁷, H(N) = ln 10⁷ + γ + 1/(2·10⁷)
  // = 16.11810 + 0.57722 = 16.69531 (Euler–Maclaurin; the next term is 10⁻¹⁶). Over 20,000 draws:
  //   user 0:       p = 1/16.69531 = 0.059897, mean 1,197.9, sd √(20,000·p·(1−p)) = 33.56, ± 110.4 → [1,088, 1,308]
  //   id ≥ 10⁶:     p = (H(10⁷) − H(10⁶))/H(10⁷) = ln 10/16.69531 = 0.137918, mean 2,758.4, sd 48.76, ± 160.4 → [2,598, 2,918]
  //   id ≥ 5·10⁶:   p = ln 2/16.69531 = 0.041517, mean 830.3, sd 28.21, ± 92.8 → [738, 923]
  it('ten million users: the head and the tail beyond the exact table keep their Zipf shares', () => {
    const draw = zipfRankSampler(10_000_000, rngStream(5, 'users'));
    const ids = Array.from({ length: N }, draw);
    expect(ids.every((k) => Number.isInteger(k) && k >= 0 && k < 10_000_000)).toBe(true);
    const atLeast = (k: number) => ids.filter((id) => id >= k).length;
    expect(count(ids, 0)).toBeGreaterThanOrEqual(1088);
    expect(count(ids, 0)).toBeLessThanOrEqual(1308);
    expect(atLeast(1_000_000)).toBeGreaterThanOrEqual(2598);
    expect(atLeast(1_000_000)).toBeLessThanOrEqual(2918);
    expect(atLeast(5_000_000)).toBeGreaterThanOrEqual(738);
    expect(atLeast(5_000_000)).toBeLessThanOrEqual(923);
  });

  it('the tail inverse gives the rank an exact cumulative sum gives (N = 2·10⁶)', () => {
    const n = 2_000_000;
    let total = 0;
    for (let k = 1; k <= n; k++) total += 1 / k;
    for (const u of [0.1, 0.5, 0.9, 0.95, 0.97, 0.99, 0.999]) {
      // The exact rank: the first k (1-based) whose cumulative sum passes u · H(n).
      const target = u * total;
      let sum = 0;
      let rank = 0;
      while (sum <= target) sum += 1 / ++rank;
      expect(zipfRankSampler(n, () => u)(), `u = ${u}`).toBe(rank - 1);
    }
  });
});

describe('sessions keep their first turn’s model and user', () => {
  it('every turn of a session carries one model and one user; sessions draw them independently', () => {
    const spec: WorkloadSpec = {
      input_tokens: fixed(20),
      output_tokens: fixed(5),
      arrival: { process: 'poisson', rate_per_s: 2 },
      num_requests: 600,
      sessions: { turns: { dist: 'uniform', min: 1, max: 5 }, think_time_s: 1 },
      models,
      users: 10,
    };
    const requests = driveStream(createRequestStream(spec, 11), () => 0.5).map((d) => d.request);
    const bySession = new Map<number, TraceRequest[]>();
    for (const r of requests) bySession.set(r.session!, [...(bySession.get(r.session!) ?? []), r]);
    for (const turns of bySession.values()) {
      expect(new Set(turns.map((r) => r.model)).size).toBe(1);
      expect(new Set(turns.map((r) => r.user)).size).toBe(1);
    }
    const firstTurns = [...bySession.values()].map((turns) => turns[0]);
    expect(new Set(firstTurns.map((r) => r.model))).toEqual(new Set(['a', 'b']));
    expect(new Set(firstTurns.map((r) => r.user)).size).toBeGreaterThan(3);
  });
});

describe('without models and users, requests have no such properties', () => {
  it.each<[string, WorkloadSpec, (spec: WorkloadSpec) => TraceRequest[]]>([
    ['open loop', { ...openLoop, num_requests: 50 }, (s) => drain(createRequestStream(s, 1))],
    ['closed loop', { input_tokens: fixed(10), output_tokens: fixed(5), concurrency: 2, num_requests: 50 }, (s) => driveStream(createRequestStream(s, 1), () => 1).map((d) => d.request)],
    [
      'sessions',
      { input_tokens: fixed(10), output_tokens: fixed(5), arrival: { process: 'constant', rate_per_s: 1 }, num_requests: 50, sessions: { turns: fixed(3), think_time_s: 1 } },
      (s) => driveStream(createRequestStream(s, 1), () => 0.5).map((d) => d.request),
    ],
  ])('%s', (_, spec, run) => {
    const requests = run(spec);
    expect(requests).toHaveLength(50);
    for (const r of requests) {
      expect(Object.keys(r)).toEqual(['id', 'arrival_s', 'input_tokens', 'output_tokens', ...(spec.sessions ? ['session'] : [])]);
    }
  });
});

describe('workload.models and workload.users: refusals', () => {
  const trace = { path: tempFile('t.csv', 'in,out\n1,1\n'), format: 'csv' as const, columns: { input_tokens: 'in', output_tokens: 'out' } };
  it.each<[string, WorkloadSpec, string]>([
    ['a duplicate model', { ...openLoop, models: [...models, { name: 'a', weight: 2 }] }, 'workload.models[2].name: duplicates workload.models[0].name, got "a"'],
    ['a zero weight', { ...openLoop, models: [{ name: 'a', weight: 0 }] }, 'workload.models[0].weight: must be a number > 0, got 0'],
    ['no models', { ...openLoop, models: [] }, 'workload.models: must list at least one model'],
    ['zero users', { ...openLoop, users: 0 }, 'workload.users: must be an integer ≥ 1 and ≤ 1e7 (at most one user per request), got 0'],
    ['models with a trace', { trace, models }, 'workload.models: is for generated requests; a trace names each request’s model in a column (workload.trace.columns.model), got ["a","b"]'],
    ['users with a trace', { trace, users: 5 }, 'workload.users: is for generated requests; a trace names each request’s user in a column (workload.trace.columns.user), got 5'],
  ])('%s', (_, spec, message) => {
    const error = errorOf(() => createRequestStream(spec, 1));
    expect(error).toBeInstanceOf(InfersimError);
    expect(error.message).toBe(message);
  });
});
