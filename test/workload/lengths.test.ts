import { describe, expect, it } from 'vitest';
import { rngStream } from '../../sim/engine/rng.js';
import { InfersimError } from '../../sim/errors.js';
import type { LengthDist } from '../../sim/scenario/types.js';
import { lengthSampler } from '../../sim/workload/lengths.js';
import { errorOf, mean, tempFile } from './helpers.js';

function draws(dist: LengthDist, n: number, seed = 3): number[] {
  const sample = lengthSampler(dist, rngStream(seed, 'input_tokens'), 'workload.input_tokens');
  return Array.from({ length: n }, () => sample());
}

function counts(values: number[]): Map<number, number> {
  const map = new Map<number, number>();
  for (const v of values) map.set(v, (map.get(v) ?? 0) + 1);
  return map;
}

describe('length distributions', () => {
  it('fixed always gives the value', () => {
    expect(new Set(draws({ dist: 'fixed', value: 200 }, 100))).toEqual(new Set([200]));
  });

  it('uniform covers min..max inclusive and nothing else, about equally', () => {
    const c = counts(draws({ dist: 'uniform', min: 5, max: 8 }, 20_000));
    expect([...c.keys()].sort()).toEqual([5, 6, 7, 8]);
    // Each value: 5000 expected, binomial std ≈ 61.
    for (const n of c.values()) expect(Math.abs(n - 5000)).toBeLessThan(350);
  });

  it('normal is rounded and clamped to [min ?? 1, max]', () => {
    const low = draws({ dist: 'normal', mean: 2, std: 10 }, 5000);
    expect(Math.min(...low)).toBe(1);
    expect(low.every(Number.isInteger)).toBe(true);
    const bounded = draws({ dist: 'normal', mean: 100, std: 50, min: 80, max: 120 }, 5000);
    expect(Math.min(...bounded)).toBe(80);
    expect(Math.max(...bounded)).toBe(120);
    expect(Math.abs(mean(draws({ dist: 'normal', mean: 500, std: 20 }, 20_000)) - 500)).toBeLessThan(1);
  });

  it('lognormal: `mean` is the mean of the lengths (not exp(mu)), within 3 % over 20k draws', () => {
    const values = draws({ dist: 'lognormal', mean: 1000, sigma: 0.8 }, 20_000);
    // Lengths' std = 1000·√(e^0.64 − 1) ≈ 947, so the standard error is ≈ 6.7 tokens: 30 is 4.5 of them.
    expect(Math.abs(mean(values) - 1000)).toBeLessThan(30);
    // The median is exp(mu) = 1000·e^(−0.32) ≈ 726, not the mean.
    const sorted = [...values].sort((a, b) => a - b);
    expect(Math.abs(sorted[10_000] - 726)).toBeLessThan(25);
    expect(values.every((v) => Number.isInteger(v) && v >= 1)).toBe(true);
  });

  it('zipf: frequencies fall with rank, P(min)/P(min+1) ≈ 2^s, all within [min, max]', () => {
    const values = draws({ dist: 'zipf', s: 1.2, min: 10, max: 20 }, 20_000);
    const c = counts(values);
    expect(Math.min(...values)).toBe(10);
    expect(Math.max(...values)).toBe(20);
    for (let k = 10; k < 14; k++) expect(c.get(k)!).toBeGreaterThan(c.get(k + 1)!);
    expect(Math.abs(c.get(10)! / c.get(11)! - 2 ** 1.2)).toBeLessThan(0.2);
  });

  it('zipf with s = 0 is uniform', () => {
    const c = counts(draws({ dist: 'zipf', s: 0, min: 1, max: 4 }, 20_000));
    for (const n of c.values()) expect(Math.abs(n - 5000)).toBeLessThan(350);
  });

  it('empirical samples values of a CSV column (zeros become 1) and of a JSONL key', () => {
    const csv = tempFile('lens.csv', 'a,len\nx,10\ny,20\nz,0\n');
    const c = counts(draws({ dist: 'empirical', path: csv, column: 'len' }, 3000));
    expect([...c.keys()].sort((a, b) => a - b)).toEqual([1, 10, 20]);
    const jsonl = tempFile('lens.jsonl', '{"n": 7}\n{"n": 9}\n');
    expect(new Set(draws({ dist: 'empirical', path: jsonl, column: 'n' }, 200))).toEqual(new Set([7, 9]));
  });

  it('empirical names a missing column and a bad value with its line', () => {
    const csv = tempFile('lens.csv', 'a,len\n1,2\n3,x\n');
    expect(errorOf(() => draws({ dist: 'empirical', path: csv, column: 'nope' }, 1)).message).toBe(
      'workload.input_tokens.column: column "nope" not found in lens.csv; columns present: "a", "len"',
    );
    expect(errorOf(() => draws({ dist: 'empirical', path: csv, column: 'len' }, 1)).message).toBe(
      'lens.csv line 3: len must be an integer from 0 to 2147483647 (token counts are stored as int32), got "x"',
    );
  });

  it.each<[LengthDist, string]>([
    [{ dist: 'uniform', min: 10, max: 5 }, 'workload.input_tokens.min: must be ≤ max (5), got 10'],
    [{ dist: 'fixed', value: 0 }, 'workload.input_tokens.value: must be an integer ≥ 1 and ≤ 2147483647, got 0'],
    [{ dist: 'lognormal', mean: -1, sigma: 1 }, 'workload.input_tokens.mean: must be a number > 0 and ≤ 2147483647, got -1'],
    [{ dist: 'normal', mean: 10, std: -1 }, 'workload.input_tokens.std: must be a number ≥ 0 and ≤ 2147483647, got -1'],
    [{ dist: 'zipf', s: -1, min: 1, max: 5 }, 'workload.input_tokens.s: must be a number ≥ 0, got -1'],
    [{ dist: 'lognormal', mean: 1e308, sigma: 1e308 }, 'workload.input_tokens.mean: must be a number > 0 and ≤ 2147483647, got 1e+308'],
    [{ dist: 'lognormal', mean: 500, sigma: 1e308 }, 'workload.input_tokens.sigma: must be a number ≥ 0 and ≤ 10, got 1e+308'],
    [{ dist: 'fixed', value: 1e12 }, 'workload.input_tokens.value: must be an integer ≥ 1 and ≤ 2147483647, got 1000000000000'],
    [{ dist: 'empirical', path: '/nonexistent/lens.csv', column: 'x' }, 'workload.input_tokens.path: file not found: /nonexistent/lens.csv'],
  ])('rejects %j', (dist, message) => {
    const error = errorOf(() => draws(dist, 1));
    expect(error).toBeInstanceOf(InfersimError);
    expect(error.message).toBe(message);
  });
});

describe('length draws at the parameter bounds', () => {
  it('lognormal at sigma 10 and the largest mean: every draw an integer in [1, 2³¹ − 1]', () => {
    const values = draws({ dist: 'lognormal', mean: 2 ** 31 - 1, sigma: 10 }, 5_000);
    expect(values.every((v) => Number.isInteger(v) && v >= 1 && v <= 2 ** 31 - 1)).toBe(true);
    // mu = ln(2³¹ − 1) − 50 ≈ −28.5, so the median draw rounds below 1 and is clamped to it.
    expect(values.filter((v) => v === 1).length).toBeGreaterThan(2_500);
  });
});
