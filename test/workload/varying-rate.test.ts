import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rngStream } from '../../sim/engine/rng.js';
import { InfersimError } from '../../sim/errors.js';
import type { ArrivalRate, ArrivalSpec, DiurnalRate, RateStep, WorkloadSpec } from '../../sim/scenario/types.js';
import { arrivalClock } from '../../sim/workload/arrivals.js';
import { createRequestStream } from '../../sim/workload/index.js';
import { cv, drain, errorOf } from './helpers.js';

/** 99.9 % two-sided normal quantile: a count n off its expectation by more fails 1 run in 1000. */
const Z = 3.29;

type Process = 'poisson' | 'gamma' | 'constant';

function spec(process: Process, rate_per_s: ArrivalRate, gammaCv = 2): ArrivalSpec {
  return process === 'gamma' ? { process, rate_per_s, cv: gammaCv } : { process, rate_per_s };
}

function clockOf(arrival: ArrivalSpec, seed = 1): () => number {
  return arrivalClock(arrival, rngStream(seed, 'arrivals'), rngStream(seed, 'arrival_thinning'));
}

/** Every arrival before `until` (a schedule's clock turns Infinity at its end). */
function arrivalsBefore(clock: () => number, until: number): number[] {
  const out: number[] = [];
  for (let t = clock(); t < until; t = clock()) out.push(t);
  return out;
}

const count = (t: number[], from: number, to: number): number => t.filter((x) => x >= from && x < to).length;

/**
 * Bounds on a count with expectation n: Poisson's variance is n; a renewal process with gap cv has
 * variance ≈ cv²·n over many gaps (Cox 1962), so its bounds widen by cv.
 */
function expectCount(actual: number, expected: number, dispersion = 1): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Z * dispersion * Math.sqrt(expected));
}

const fiveThenTwenty: RateStep[] = [
  { until_s: 600, rate_per_s: 5 },
  { until_s: 1200, rate_per_s: 20 },
];

describe('piecewise rate schedule', () => {
  it.each<[Process, number]>([
    ['poisson', 1],
    ['gamma', 2],
  ])('%s: 5 req/s until 600 s then 20 until 1200 s brings ≈ 3000 then ≈ 12000, none after', (process, dispersion) => {
    for (const seed of [1, 2, 3]) {
      const clock = clockOf(spec(process, fiveThenTwenty), seed);
      const t = arrivalsBefore(clock, Infinity);
      expectCount(count(t, 0, 600), 3000, dispersion);
      expectCount(count(t, 600, 1200), 12_000, dispersion);
      expect(t.every((x) => x < 1200)).toBe(true);
      expect(clock()).toBe(Infinity);
    }
  });

  it('constant: the k-th arrival where the expected count reaches k (k/5 s, then 600 + (k − 3000)/20 s)', () => {
    const t = arrivalsBefore(clockOf(spec('constant', fiveThenTwenty)), Infinity);
    expect(t).toHaveLength(15_000);
    expect(t.slice(0, 3)).toEqual([0, 0.2, 0.4]);
    expect(t[3000]).toBe(600);
    expect(t[3001]).toBeCloseTo(600.05, 9);
    expect(t[14_999]).toBeCloseTo(1199.95, 9);
  });

  it.each<Process>(['poisson', 'gamma', 'constant'])('%s: a step of rate 0 gets no arrival, the steps around it do', (process) => {
    const steps = [
      { until_s: 300, rate_per_s: 10 },
      { until_s: 600, rate_per_s: 0 },
      { until_s: 900, rate_per_s: 10 },
    ];
    for (const seed of [1, 2, 3, 4]) {
      const t = arrivalsBefore(clockOf(spec(process, steps), seed), Infinity);
      expect(count(t, 300, 600)).toBe(0);
      expect(count(t, 0, 300)).toBeGreaterThan(2000);
      expect(count(t, 600, 900)).toBeGreaterThan(2000);
    }
  });

  it.each<Process>(['poisson', 'gamma', 'constant'])('%s: after an opening pause the first arrival is when the rate turns positive', (process) => {
    const t = arrivalsBefore(clockOf(spec(process, [{ until_s: 100, rate_per_s: 0 }, { until_s: 200, rate_per_s: 5 }])), Infinity);
    expect(t[0]).toBe(100);
    expect(t.every((x) => x >= 100 && x < 200)).toBe(true);
  });

  it('one step: poisson and constant arrive exactly as the plain rate does, gamma up to rounding', () => {
    const first500 = (rate: ArrivalRate, process: Process): number[] => Array.from({ length: 500 }, clockOf(spec(process, rate)));
    const step = [{ until_s: 1e6, rate_per_s: 4 }];
    expect(first500(step, 'poisson')).toEqual(first500(4, 'poisson'));
    expect(first500(step, 'constant')).toEqual(first500(4, 'constant'));
    // Gaps of mean 1 mapped by ÷ rate, rather than gaps of mean 1/rate: the same draws, other rounding.
    const plainGamma = first500(4, 'gamma');
    first500(step, 'gamma').forEach((t, k) => expect(t).toBeCloseTo(plainGamma[k], 9));
  });
});

describe('any schedule', () => {
  const step = fc.record({ gap_s: fc.double({ min: 0.01, max: 100, noNaN: true }), rate_per_s: fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 50, noNaN: true })) });
  const schedule = fc.array(step, { minLength: 1, maxLength: 6 }).map((steps) => {
    let until_s = 0;
    return steps.map(({ gap_s, rate_per_s }) => ({ until_s: (until_s += gap_s), rate_per_s }));
  });

  it('arrivals are non-decreasing, each inside a step whose rate is > 0, then Infinity', () => {
    fc.assert(
      fc.property(schedule.filter((steps) => steps.some((x) => x.rate_per_s > 0)), fc.constantFrom<Process>('poisson', 'gamma', 'constant'), fc.integer(), (steps, process, seed) => {
        const clock = clockOf(spec(process, steps, 1.5), seed);
        const t = arrivalsBefore(clock, Infinity);
        expect(t.length).toBeGreaterThan(0);
        t.forEach((x, k) => {
          if (k > 0) expect(x).toBeGreaterThanOrEqual(t[k - 1]);
          const within = steps.find((s) => x < s.until_s);
          expect(within?.rate_per_s).toBeGreaterThan(0);
        });
        expect(clock()).toBe(Infinity);
      }),
      { numRuns: 200 },
    );
  });
});

describe('diurnal rate', () => {
  const period_s = 1000;
  const mean = 10;
  const amplitude = 0.5;
  const periods = 40;
  // ∫ over the quarter period centred on the peak (trough) of mean (1 ± a sin): mean P (1/4 ± a √2 / 2π).
  const swing = (amplitude * Math.SQRT2) / (2 * Math.PI);
  const peakExpected = periods * mean * period_s * (0.25 + swing);
  const troughExpected = periods * mean * period_s * (0.25 - swing);

  /** Arrivals in the quarter period centred on `centre` of each cycle. */
  function quarter(t: number[], centre: number): number {
    return t.filter((x) => {
      const within = (((x - centre) % period_s) + 1.5 * period_s) % period_s;
      return Math.abs(within - period_s / 2) < period_s / 8;
    }).length;
  }

  it.each<[Process, number, number]>([
    ['poisson', 1, 0],
    ['gamma', 2, 0],
    ['gamma', 0.3, 0],
    ['poisson', 1, 250],
  ])('%s (cv %f), phase %f s: arrivals per quarter follow the sinusoid', (process, gammaCv, phase_s) => {
    const rate: DiurnalRate = { mean, amplitude, period_s, phase_s };
    const t = arrivalsBefore(clockOf(spec(process, rate, gammaCv)), periods * period_s);
    // sin peaks a quarter period after phase_s and bottoms out three quarters after it.
    const peak = quarter(t, phase_s + period_s / 4);
    const trough = quarter(t, phase_s + (3 * period_s) / 4);
    expectCount(peak, peakExpected, gammaCv);
    expectCount(trough, troughExpected, gammaCv);
    const ratio = peakExpected / troughExpected; // 2.64 at amplitude 0.5
    expect(Math.abs(peak / trough - ratio)).toBeLessThan(Z * gammaCv * ratio * Math.sqrt(1 / peakExpected + 1 / troughExpected));
    expectCount(t.length, periods * mean * period_s, gammaCv);
  });

  it('constant: one arrival per unit of expected count, so each quarter holds its integral to within one', () => {
    const t = arrivalsBefore(clockOf(spec('constant', { mean, amplitude, period_s })), periods * period_s);
    expect(t).toHaveLength(periods * mean * period_s);
    expect(Math.abs(quarter(t, period_s / 4) - peakExpected)).toBeLessThanOrEqual(periods);
    expect(Math.abs(quarter(t, (3 * period_s) / 4) - troughExpected)).toBeLessThanOrEqual(periods);
  });

  it('gamma keeps its cv where the rate is low: gaps × rate have cv ≈ the configured one in the trough', () => {
    const rate: DiurnalRate = { mean, amplitude: 0.8, period_s };
    const t = arrivalsBefore(clockOf(spec('gamma', rate, 0.3)), periods * period_s);
    const scaled: number[] = [];
    for (let k = 1; k < t.length; k++) {
      const middle = (t[k] + t[k - 1]) / 2;
      const local = mean * (1 + 0.8 * Math.sin((2 * Math.PI * middle) / period_s));
      if (local < mean * 0.5) scaled.push((t[k] - t[k - 1]) * local);
    }
    // Thinning would give cv² = p·0.09 + 1 − p ≥ 0.7 at p ≤ 1/3 here; the time change keeps 0.3.
    expect(scaled.length).toBeGreaterThan(10_000);
    expect(Math.abs(cv(scaled) / 0.3 - 1)).toBeLessThan(0.1);
  });

  it('poisson thins the plain process at the peak rate: its candidates, a subset kept by the thinning stream', () => {
    const rate: DiurnalRate = { mean: 4, amplitude: 0.5, period_s: 60 };
    const kept = arrivalsBefore(clockOf(spec('poisson', rate)), 600);
    const candidates = new Set(arrivalsBefore(clockOf(spec('poisson', 6)), 600));
    expect(kept.every((t) => candidates.has(t))).toBe(true);
    expectCount(kept.length, 2400);
    // Another acceptance stream keeps other candidates out of the same ones.
    const other = arrivalsBefore(arrivalClock(spec('poisson', rate), rngStream(1, 'arrivals'), rngStream(2, 'arrival_thinning')), 600);
    expect(other.every((t) => candidates.has(t))).toBe(true);
    expect(other).not.toEqual(kept);
  });

  it('poisson at amplitude 0 thins nothing: the arrivals are the plain rate’s, draw for draw', () => {
    const flat = arrivalsBefore(clockOf(spec('poisson', { mean: 4, amplitude: 0, period_s: 60 })), 100);
    const plain = arrivalsBefore(clockOf(spec('poisson', 4)), 100);
    expect(flat).toEqual(plain);
  });
});

describe('determinism and the plain rate', () => {
  const forms: ArrivalRate[] = [fiveThenTwenty, { mean: 3, amplitude: 0.9, period_s: 50, phase_s: 7 }];

  it.each<Process>(['poisson', 'gamma', 'constant'])('%s: same seed, same arrivals; another seed, others', (process) => {
    for (const rate of forms) {
      const a = arrivalsBefore(clockOf(spec(process, rate), 5), 400);
      expect(arrivalsBefore(clockOf(spec(process, rate), 5), 400)).toEqual(a);
      if (process !== 'constant') expect(arrivalsBefore(clockOf(spec(process, rate), 6), 400)).not.toEqual(a);
    }
  });

  it('a plain number draws exactly what it drew before varying rates existed', () => {
    // Digests of the first 5000 arrivals (float64 bytes), taken before this feature was added.
    const digests: [ArrivalSpec, string][] = [
      [{ process: 'poisson', rate_per_s: 7 }, '8f5f31110f0e3ee1'],
      [{ process: 'gamma', rate_per_s: 3, cv: 2.5 }, 'ef7564bc5d66a079'],
      [{ process: 'gamma', rate_per_s: 3, cv: 0.4 }, '7f4ff09047234b7d'],
      [{ process: 'constant', rate_per_s: 3.3 }, '052a0192e94fa1b8'],
    ];
    for (const [arrival, digest] of digests) {
      const clock = arrivalClock(arrival, rngStream(123, 'arrivals'));
      const t = Float64Array.from({ length: 5000 }, clock);
      expect(createHash('sha256').update(Buffer.from(t.buffer)).digest('hex').slice(0, 16)).toBe(digest);
    }
  });
});

describe('request streams at a varying rate', () => {
  const workload = (arrival: ArrivalSpec, bounds: Partial<WorkloadSpec>): WorkloadSpec => ({
    arrival,
    input_tokens: { dist: 'fixed', value: 10 },
    output_tokens: { dist: 'fixed', value: 5 },
    ...bounds,
  });

  it('a schedule ends the stream at its last until_s, before num_requests, so the stream promises no count', () => {
    const stream = createRequestStream(workload(spec('poisson', fiveThenTwenty), { num_requests: 1_000_000 }), 3);
    const requests = drain(stream);
    expectCount(requests.length, 15_000);
    expect(requests.at(-1)!.arrival_s).toBeLessThan(1200);
    // The run's end-of-run check holds a stream to max_requests when it is given and no duration is.
    expect(stream.info.max_requests).toBeUndefined();
    const sinusoid = createRequestStream(workload(spec('poisson', { mean: 5, amplitude: 1, period_s: 60 }), { num_requests: 40 }), 3);
    expect(sinusoid.info.max_requests).toBe(40);
  });

  it('duration_s and num_requests still cut the stream short of the schedule', () => {
    const byTime = drain(createRequestStream(workload(spec('gamma', fiveThenTwenty), { duration_s: 700 }), 3));
    expect(byTime.every((r) => r.arrival_s < 700)).toBe(true);
    expect(byTime.at(-1)!.arrival_s).toBeGreaterThan(690);
    expect(drain(createRequestStream(workload(spec('poisson', { mean: 2, amplitude: 1, period_s: 30 }), { num_requests: 50 }), 3))).toHaveLength(50);
  });

  it('sessions start on the schedule and stop starting at its end', () => {
    const w = workload(spec('poisson', [{ until_s: 50, rate_per_s: 0 }, { until_s: 100, rate_per_s: 2 }]), { num_requests: 10_000 });
    const requests = drain(createRequestStream({ ...w, sessions: { turns: { dist: 'fixed', value: 1 }, think_time_s: 1 } }, 4));
    expect(requests[0].arrival_s).toBe(50);
    expect(requests.every((r) => r.arrival_s >= 50 && r.arrival_s < 100)).toBe(true);
    expectCount(requests.length, 100);
  });

  it('the same seed gives the same requests through the whole stream', () => {
    const w = workload(spec('poisson', { mean: 20, amplitude: 0.7, period_s: 10 }), { num_requests: 300 });
    expect(drain(createRequestStream(w, 8))).toEqual(drain(createRequestStream(w, 8)));
  });

  it('refuses a duration whose expected count a run cannot hold, counting the varying rate', () => {
    const huge = workload(spec('poisson', [{ until_s: 1e6, rate_per_s: 50 }]), { duration_s: 1e6 });
    expect(errorOf(() => createRequestStream(huge, 1)).message).toBe(
      'workload.duration_s: the varying rate_per_s brings about 50,000,000 requests, more than the 1e7 a run can hold ' +
        "(the summary keeps every request's latencies); set workload.num_requests or a shorter duration, got 1000000",
    );
    // Only the duration's share of the schedule counts: 10 s of 50 req/s.
    expect(() => createRequestStream(workload(spec('poisson', [{ until_s: 1e6, rate_per_s: 50 }]), { duration_s: 10 }), 1)).not.toThrow();
  });
});

describe('a varying rate built without the schema', () => {
  it.each<[string, ArrivalRate, string]>([
    [
      'a decreasing until_s',
      [{ until_s: 300, rate_per_s: 1 }, { until_s: 600, rate_per_s: 1 }, { until_s: 300, rate_per_s: 1 }],
      'workload.arrival.rate_per_s[2].until_s: must be > the one before (600), got 300',
    ],
    ['an equal until_s', [{ until_s: 600, rate_per_s: 1 }, { until_s: 600, rate_per_s: 2 }], 'workload.arrival.rate_per_s[1].until_s: must be > the one before (600), got 600'],
    ['a negative step rate', [{ until_s: 600, rate_per_s: -2 }], 'workload.arrival.rate_per_s[0].rate_per_s: must be ≥ 0 and ≤ 1e9, got -2'],
    ['only pauses', [{ until_s: 600, rate_per_s: 0 }], 'workload.arrival.rate_per_s: every step has rate_per_s 0, so no request would arrive'],
    ['no step', [], 'workload.arrival.rate_per_s: must list at least one step, got []'],
    ['an amplitude above 1', { mean: 1, amplitude: 1.5, period_s: 10 }, 'workload.arrival.rate_per_s.amplitude: must be ≥ 0 and ≤ 1, got 1.5'],
    ['a mean of 0', { mean: 0, amplitude: 0.5, period_s: 10 }, 'workload.arrival.rate_per_s.mean: must be ≥ 1e-9 and ≤ 1e9, got 0'],
    ['a period of 0', { mean: 1, amplitude: 0.5, period_s: 0 }, 'workload.arrival.rate_per_s.period_s: must be > 0 and ≤ 1e9, got 0'],
  ])('%s: one line naming the field', (_, rate, message) => {
    const error = errorOf(() => clockOf(spec('poisson', rate)));
    expect(error).toBeInstanceOf(InfersimError);
    expect(error.message).toBe(message);
  });

  it('a sinusoid still stops at the simulated time limit', () => {
    // Arrivals every 1/1.5e-9 s ≈ 6.7e8 s: the third would come at ≈ 1.33e9 s.
    const clock = clockOf(spec('constant', { mean: 1.5e-9, amplitude: 0.5, period_s: 1e6 }));
    expect(clock()).toBe(0);
    expect(clock()).toBeCloseTo(6.67e8, -7);
    expect(errorOf(() => clock()).message).toMatch(/^workload\.arrival\.rate_per_s: arrival 3 would come at 1\.33e\+9 s, past the simulation's 1e9 s time limit/);
  });
});
