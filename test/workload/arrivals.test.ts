import { describe, expect, it } from 'vitest';
import { rngStream } from '../../sim/engine/rng.js';
import { arrivalClock } from '../../sim/workload/arrivals.js';
import { gammaSampler } from '../../sim/workload/gamma.js';
import { InfersimError } from '../../sim/errors.js';
import { cv, errorOf, mean } from './helpers.js';

function times(clock: () => number, n: number): number[] {
  return Array.from({ length: n }, () => clock());
}

function gaps(t: number[]): number[] {
  return t.slice(1).map((x, i) => x - t[i]);
}

describe('arrival processes', () => {
  it('constant: the k-th arrival is exactly k / rate, starting at 0', () => {
    const t = times(arrivalClock({ process: 'constant', rate_per_s: 3 }, rngStream(1, 'arrivals')), 1000);
    t.forEach((value, k) => expect(value).toBe(k / 3));
  });

  it('burst: everything arrives at t = 0', () => {
    const t = times(arrivalClock({ process: 'burst' }, rngStream(1, 'arrivals')), 50);
    expect(t.every((x) => x === 0)).toBe(true);
  });

  it('poisson: first at 0, mean gap 1/rate within 5 standard errors over 20k gaps, gap cv ≈ 1', () => {
    const t = times(arrivalClock({ process: 'poisson', rate_per_s: 10 }, rngStream(7, 'arrivals')), 20_001);
    expect(t[0]).toBe(0);
    const g = gaps(t);
    // Exponential gaps: std = mean = 0.1, so the standard error of the mean is 0.1/√20000 ≈ 7.1e-4.
    expect(Math.abs(mean(g) - 0.1)).toBeLessThan(5 * 0.1 / Math.sqrt(20_000));
    expect(cv(g)).toBeGreaterThan(0.95);
    expect(cv(g)).toBeLessThan(1.05);
    expect(g.every((x) => x >= 0)).toBe(true);
  });

  it('poisson: same seed gives the same sequence, another seed a different one', () => {
    const spec = { process: 'poisson', rate_per_s: 2 } as const;
    const a = times(arrivalClock(spec, rngStream(5, 'arrivals')), 100);
    const b = times(arrivalClock(spec, rngStream(5, 'arrivals')), 100);
    const c = times(arrivalClock(spec, rngStream(6, 'arrivals')), 100);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it.each([0.5, 1, 2, 3])('gamma: measured gap cv ≈ requested cv %f, mean gap ≈ 1/rate', (requested) => {
    const rate = 4;
    const g = gaps(times(arrivalClock({ process: 'gamma', rate_per_s: rate, cv: requested }, rngStream(11, 'arrivals')), 100_001));
    expect(Math.abs(mean(g) * rate - 1)).toBeLessThan(0.05);
    expect(Math.abs(cv(g) / requested - 1)).toBeLessThan(0.08);
    expect(g.every((x) => x >= 0 && Number.isFinite(x))).toBe(true);
  });

  it('rejects a rate and a cv outside their bounds with the field path', () => {
    const rate = errorOf(() => arrivalClock({ process: 'poisson', rate_per_s: -3 }, rngStream(1, 'a')));
    expect(rate).toBeInstanceOf(InfersimError);
    expect(rate.message).toBe('workload.arrival.rate_per_s: must be ≥ 1e-9 and ≤ 1e9, got -3');
    expect(errorOf(() => arrivalClock({ process: 'gamma', rate_per_s: 1, cv: 0 }, rngStream(1, 'a'))).message).toBe(
      'workload.arrival.cv: must be a number ≥ 0.001 and ≤ 1000, got 0',
    );
    // 1/cv² is Infinity here and 0 for 1e300: every gap would be NaN.
    for (const cv of [1e-300, 1e300]) {
      expect(errorOf(() => arrivalClock({ process: 'gamma', rate_per_s: 1, cv }, rngStream(1, 'a'))).message).toMatch(/^workload\.arrival\.cv: must be/);
    }
  });

  it('gamma at both cv bounds: every gap finite and ≥ 0', () => {
    for (const cv of [1e-3, 1e3]) {
      const g = gaps(times(arrivalClock({ process: 'gamma', rate_per_s: 5, cv }, rngStream(3, 'arrivals')), 2_001));
      expect(g.every((x) => x >= 0 && Number.isFinite(x))).toBe(true);
    }
  });

  it('refuses an arrival past the 1e9 s time limit, naming the rate', () => {
    // Constant at 2⁻²⁹/s (exact in binary): arrivals at 0, 2²⁹ = 536,870,912 s, then 2³⁰ ≈ 1.07e9 s.
    const clock = arrivalClock({ process: 'constant', rate_per_s: 2 ** -29 }, rngStream(1, 'a'));
    expect([clock(), clock()]).toEqual([0, 2 ** 29]);
    const error = errorOf(() => clock());
    expect(error).toBeInstanceOf(InfersimError);
    expect(error.message).toBe(
      "workload.arrival.rate_per_s: arrival 3 would come at 1.07e+9 s, past the simulation's 1e9 s time limit; raise the rate or lower workload.num_requests",
    );
  });
});

describe('gamma sampler parameters', () => {
  it('refuses a shape or scale that is not finite and > 0 (what cv 1e-300 and 1e300 gave: Infinity, 0)', () => {
    const uniform = rngStream(1, 'g');
    expect(() => gammaSampler(Infinity, 0, uniform)).toThrow('gamma sampler: shape Infinity and scale 0 must be finite and > 0');
    expect(() => gammaSampler(0, Infinity, uniform)).toThrow(/shape 0 and scale Infinity/);
    const draw = gammaSampler(1e6, 1e-6, uniform);
    expect(Number.isFinite(draw())).toBe(true);
  });
});
