import { describe, expect, it } from 'vitest';
import { cdfPoints } from '../../sim/report/cdf.js';
import { decimate, MinMaxDecimator, TimeBins } from '../../sim/report/decimate.js';

/** A noisy series with a few spikes and dips far above and below the rest. */
function series(n: number): { x: Float64Array; y: Float64Array } {
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i * 0.01;
    y[i] = 10 + Math.sin(i / 50) + ((i * 7919) % 13) / 13;
  }
  y[12_345] = 1000;
  y[77_777] = -500;
  y[99_998] = 999;
  return { x, y };
}

describe('min/max decimation', () => {
  it('bounds the points, keeps the first, the last and every spike', () => {
    const { x, y } = series(100_000);
    const d = decimate(x, y, 2000);
    expect(d.x.length).toBeLessThanOrEqual(2000);
    expect(d.x.length).toBeGreaterThan(1000);
    expect([d.x[0], d.y[0]]).toEqual([x[0], y[0]]);
    expect([d.x.at(-1), d.y.at(-1)]).toEqual([x[99_999], y[99_999]]);
    for (const i of [12_345, 77_777, 99_998]) {
      const k = d.x.indexOf(x[i]!);
      expect(k, `point ${i} kept`).toBeGreaterThanOrEqual(0);
      expect(d.y[k]).toBe(y[i]);
    }
    expect(Math.max(...d.y)).toBe(1000);
    expect(Math.min(...d.y)).toBe(-500);
    // x ascending, every kept point a real one
    for (let k = 1; k < d.x.length; k++) expect(d.x[k]!).toBeGreaterThanOrEqual(d.x[k - 1]!);
    for (let k = 0; k < d.x.length; k += 97) expect(y[Math.round(d.x[k]! / 0.01)]).toBe(d.y[k]);
  });

  it('keeps each bucket\'s minimum and maximum (hand-built: 4 buckets of 3 points)', () => {
    // maxPoints 10 → 4 buckets over [0, 12): [0,3) [3,6) [6,9) [9,12)
    const ys = [5, 1, 9, 4, 4, 4, 7, 8, 6, 2, 3, 2.5];
    const small = new MinMaxDecimator(0, 12, 10);
    ys.forEach((y, x) => small.push(x, y));
    // 12 points > 10: decimated. first (0,5); bucket 0 min (1,1) max (2,9); bucket 1 all 4: (3,4) once;
    // bucket 2 min (8,6) max (7,8); bucket 3 min (9,2) max (10,3); last (11,2.5)
    expect(small.result()).toEqual({ x: [0, 1, 2, 3, 7, 8, 9, 10, 11], y: [5, 1, 9, 4, 8, 6, 2, 3, 2.5] });
  });

  it('returns every point while they fit, and skips nulls (NaN)', () => {
    const d = decimate([0, 1, 2, 3], [1, NaN, 3, 4], 10);
    expect(d).toEqual({ x: [0, 2, 3], y: [1, 3, 4] });
    expect(() => new MinMaxDecimator(0, 1, 3)).toThrow(/≥ 4/);
  });

  it('bins sums into rates and ratios', () => {
    const b = new TimeBins(0, 10, 5);
    b.add(0.5, 4);
    b.add(1.9, 2);
    b.add(10, 6); // the end lands in the last bin
    expect(b.rates()).toEqual({ x: [1, 3, 5, 7, 9], y: [3, 0, 0, 0, 3] });
    const den = new TimeBins(0, 10, 5);
    den.add(1, 12);
    expect(b.ratio(den)).toEqual({ x: [1], y: [0.5] });
  });
});

describe('CDF points', () => {
  it('are (value of rank r, (r + 1) / n), hand-computed', () => {
    expect(cdfPoints([3, 1, 2, 4])).toEqual({ x: [1, 2, 3, 4], y: [0.25, 0.5, 0.75, 1] });
    // 5 values sampled at 3 ranks: r = 0, 2, 4
    expect(cdfPoints([50, 10, 40, 20, 30], 3)).toEqual({ x: [10, 30, 50], y: [0.2, 0.6, 1] });
    expect(cdfPoints([NaN, 2, Infinity])).toEqual({ x: [2], y: [1] });
    expect(cdfPoints([])).toEqual({ x: [], y: [] });
  });

  it('keeps the smallest and the largest value when sampled', () => {
    const v = Array.from({ length: 10_001 }, (_, i) => (i * 7919) % 10_001);
    const c = cdfPoints(v, 1000);
    expect(c.x.length).toBe(1000);
    expect([c.x[0], c.y[0], c.x.at(-1), c.y.at(-1)]).toEqual([0, 1 / 10_001, 10_000, 1]);
  });
});
