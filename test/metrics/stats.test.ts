import fc from 'fast-check';
import { quantileSorted as ssQuantileSorted } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { F64List } from '../../sim/metrics/f64list.js';
import { quantileSorted, quantilesInPlace, select, summarize } from '../../sim/metrics/stats.js';

const PS = [0, 0.01, 0.5, 0.9, 0.95, 0.99, 1];

function reference(values: Float64Array, ps: readonly number[]): number[] {
  const sorted = Array.from(values).sort((a, b) => a - b);
  return ps.map((p) => ssQuantileSorted(sorted, p));
}

/** Deterministic values with many exact duplicates, like gaps from a deterministic latency model. */
function gaps(n: number, seed: number): Float64Array {
  let x = seed;
  return Float64Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % 5 === 0 ? 0.02 : 0.01 + (x % 1000) / 100000;
  });
}

describe('quantilesInPlace', () => {
  it('matches simple-statistics quantileSorted (numpy linear) on arbitrary data', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 300 }), (xs) => {
        const a = Float64Array.from(xs);
        const out = new Float64Array(PS.length);
        quantilesInPlace(a, a.length, PS, out);
        // Same formula, same operands: equal to the last bit.
        expect(Array.from(out)).toEqual(reference(Float64Array.from(xs), PS));
      }),
    );
  });

  it('agrees with quantileSorted on sorted input', () => {
    const sorted = Array.from(gaps(999, 3)).sort((a, b) => a - b);
    const out = new Float64Array(PS.length);
    quantilesInPlace(Float64Array.from(sorted), sorted.length, PS, out);
    expect(Array.from(out)).toEqual(PS.map((p) => quantileSorted(sorted, p)));
  });

  it('matches the reference on large arrays with heavy duplicates (Floyd–Rivest path)', () => {
    for (const n of [4097, 50_000, 200_001]) {
      const a = gaps(n, n);
      const want = reference(a, PS);
      const out = new Float64Array(PS.length);
      quantilesInPlace(a, n, PS, out);
      expect(Array.from(out)).toEqual(want);
    }
  });

  it('keeps the multiset: only reorders', () => {
    const a = gaps(10_000, 7);
    const before = Array.from(a).sort();
    quantilesInPlace(a, a.length, PS, new Float64Array(PS.length));
    expect(Array.from(a).sort()).toEqual(before);
  });
});

describe('select', () => {
  it('finds every rank of small arrays with duplicates', () => {
    for (const n of [17, 40, 101, 700]) {
      const base = Float64Array.from(gaps(n, n), (g) => Math.round(g * 2000) / 2000);
      const sorted = Float64Array.from(base).sort();
      for (let k = 0; k < n; k++) {
        const a = Float64Array.from(base);
        select(a, k, 0, n - 1);
        expect(a[k]).toBe(sorted[k]);
      }
    }
  });

  it('partitions around the k-th smallest, for small and large ranges, sorted or constant input', () => {
    const inputs = [gaps(300, 1), gaps(10_000, 2), Float64Array.from({ length: 5000 }, (_, i) => i), new Float64Array(3000).fill(0.5)];
    for (const a of inputs) {
      const k = Math.floor(a.length * 0.37);
      const sorted = Float64Array.from(a).sort();
      select(a, k, 0, a.length - 1);
      expect(a[k]).toBe(sorted[k]);
      for (let i = 0; i < k; i++) expect(a[i] <= a[k]).toBe(true);
      for (let i = k + 1; i < a.length; i++) expect(a[i] >= a[k]).toBe(true);
    }
  });
});

describe('summarize', () => {
  it('gives hand-checked stats on a small set', () => {
    const s = summarize(Float64Array.of(1.0, 0.3, 0.1, 0.4, 0.2));
    expect(s.count).toBe(5);
    expect(s.mean).toBeCloseTo(0.4, 12);
    expect(s.p50).toBeCloseTo(0.3, 12);
    expect(s.p90).toBeCloseTo(0.76, 12); // h = 3.6: 0.4 + 0.6 × 0.6
    expect(s.p95).toBeCloseTo(0.88, 12);
    expect(s.p99).toBeCloseTo(0.976, 12);
    expect(s.max).toBe(1.0);
  });

  it('reports an empty set as nulls, not NaN', () => {
    expect(summarize(new Float64Array(0))).toEqual({ count: 0, mean: null, p50: null, p90: null, p95: null, p99: null, max: null });
  });
});

describe('F64List', () => {
  it('keeps every value in order across chunks, joined or not', () => {
    const l = new F64List(2, 8);
    const src = Float64Array.from({ length: 20 }, (_, i) => 100 + i);
    for (let i = 0; i < 5; i++) l.push(i);
    l.append(src, 20);
    l.append(src, 3);
    expect(l.length).toBe(28);
    const want = [0, 1, 2, 3, 4, ...Array.from(src), 100, 101, 102];
    expect(Array.from(l.view())).toEqual(want);
    l.push(-1);
    expect(Array.from(l.view())).toEqual([...want, -1]);
  });
});
