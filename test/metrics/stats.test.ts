import fc from 'fast-check';
import { quantileSorted as ssQuantileSorted } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { F64List } from '../../sim/metrics/f64list.js';
import { quantilesInPlace } from '../../sim/metrics/select.js';
import { quantileSorted, summarize, summarizeSame } from '../../sim/metrics/stats.js';

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

describe('quantiles', () => {
  it('matches simple-statistics quantileSorted (numpy linear) on arbitrary data', () => {
    fc.assert(
      // −0 becomes +0 (x + 0): times and gaps are never −0, and a selection may hand back either
      // of two equal keys, which toEqual (Object.is) would tell apart.
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((x) => x + 0), { minLength: 1, maxLength: 300 }), (xs) => {
        const a = Float64Array.from(xs);
        const out = new Float64Array(PS.length);
        quantilesInPlace(a, a.length, PS, out);
        // Same formula, same operands: equal to the last bit.
        const want = reference(Float64Array.from(xs), PS);
        expect(Array.from(out)).toEqual(want);
        // Reordered, not changed.
        expect(Array.from(a).sort((x, y) => x - y)).toEqual([...xs].sort((x, y) => x - y));
        // On the first n values of a longer scratch array (one request's gaps), the rest untouched.
        const scratch = Float64Array.from([...xs, -Infinity, Infinity, -5]);
        quantilesInPlace(scratch, xs.length, PS, out);
        expect(Array.from(out)).toEqual(want);
        expect(Array.from(scratch.subarray(xs.length))).toEqual([-Infinity, Infinity, -5]);
      }),
    );
  });

  it('agrees with quantileSorted on sorted input', () => {
    const sorted = Array.from(gaps(999, 3)).sort((a, b) => a - b);
    const out = new Float64Array(PS.length);
    quantilesInPlace(Float64Array.from(sorted), sorted.length, PS, out);
    expect(Array.from(out)).toEqual(PS.map((p) => quantileSorted(sorted, p)));
  });

  it('matches the reference on large arrays with heavy duplicates ', () => {
    for (const n of [4097, 50_000, 200_001]) {
      const a = gaps(n, n);
      const want = reference(a, PS);
      const out = new Float64Array(PS.length);
      quantilesInPlace(a, n, PS, out);
      expect(Array.from(out)).toEqual(want);
    }
  });

  it('uses only the first n values', () => {
    const a = Float64Array.of(3, 1, 2, 100, 200);
    const out = [0];
    quantilesInPlace(a, 3, [1], out);
    expect(out[0]).toBe(3);
    // n = 1 at the front of a longer array: the one value, whatever the rest holds.
    quantilesInPlace(Float64Array.of(7, 1, 0), 1, [0.5], out);
    expect(out[0]).toBe(7);
  });

  it('selects repeated and adjacent ranks once, in any run of equal probabilities', () => {
    const values = Float64Array.of(9, 4, 7, 1, 8, 2, 6, 3, 5, 0);
    const ps = [0.1, 0.1, 0.5, 0.55, 0.99, 1];
    const out = new Float64Array(ps.length);
    quantilesInPlace(values, values.length, ps, out);
    // Sorted 0..9: h = 0.9, 0.9, 4.5, 4.95, 8.91, 9.
    [0.9, 0.9, 4.5, 4.95, 8.91, 9].forEach((q, i) => expect(out[i]).toBeCloseTo(q, 12));
  });

  it('refuses probabilities out of order', () => {
    expect(() => quantilesInPlace(Float64Array.of(1, 2, 3), 3, [0.9, 0.5], [0, 0])).toThrow(/ascend/);
  });
});

describe('summarize', () => {
  it('gives hand-checked stats on a small set', () => {
    const s = summarize([Float64Array.of(1.0, 0.3), Float64Array.of(0.1, 0.4, 0.2)]);
    expect(s.count).toBe(5);
    expect(s.mean).toBeCloseTo(0.4, 12);
    expect(s.p50).toBeCloseTo(0.3, 12);
    expect(s.p90).toBeCloseTo(0.76, 12); // h = 3.6: 0.4 + 0.6 × 0.6
    expect(s.p95).toBeCloseTo(0.88, 12);
    expect(s.p99).toBeCloseTo(0.976, 12);
    expect(s.max).toBe(1.0);
  });

  it('reports an empty set as nulls, not NaN', () => {
    expect(summarize([new Float64Array(0)])).toEqual({ count: 0, mean: null, p50: null, p90: null, p95: null, p99: null, max: null });
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
    const all = () => l.chunks().flatMap((c) => Array.from(c as Float64Array));
    expect(all()).toEqual(want);
    l.push(-1);
    expect(all()).toEqual([...want, -1]);
  });

  it('gives its chunks where they lie, doubling up to the cap', () => {
    const l = new F64List(2, 4);
    for (let i = 0; i < 11; i++) l.push(i);
    const chunks = l.chunks();
    expect(chunks.map((c) => c.length)).toEqual([2, 4, 4, 1]);
    expect(chunks.flatMap((c) => Array.from(c as Float64Array))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(l.samples()).toEqual(chunks);
  });
});

describe('summarizeSame', () => {
  const list = (values: number[]) => {
    const l = new F64List(2);
    for (const v of values) l.push(v);
    return l.samples();
  };

  it('takes the order statistics and maximum given and sums the mean in its own order', () => {
    // 0.1 + 0.2 + 0.3 in this order is 0.6000000000000001; 0.3 + 0.2 + 0.1 is 0.6.
    const same = summarize(list([0.3, 0.2, 0.1]));
    expect(same.mean).toBe(0.6 / 3);
    const s = summarizeSame(list([0.1, 0.2, 0.3]), same);
    expect(s).toEqual({ ...same, mean: (0.1 + 0.2 + 0.3) / 3 });
    expect(s?.mean).not.toBe(same.mean);
    expect(s).toEqual(summarize(list([0.1, 0.2, 0.3])));
  });

  it('counts weighted values and declines a different count', () => {
    const same = summarize([{ values: new Float64Array([2, 4]), weights: new Int32Array([3, 1]) }]);
    expect(summarizeSame(list([4, 2, 2, 2]), same)).toEqual({ ...same, mean: 10 / 4 });
    expect(summarizeSame(list([4, 2, 2]), same)).toBeNull();
    const none = summarize([]);
    expect(summarizeSame([], none)).toBe(none);
  });
});
