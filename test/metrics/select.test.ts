import fc from 'fast-check';
import { quantileSorted } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { quantilesOfChunks } from '../../sim/metrics/select.js';

const PS = [0, 0.01, 0.5, 0.9, 0.95, 0.99, 1];

function reference(chunks: readonly Float64Array[], ps: readonly number[]): number[] {
  const sorted = chunks.flatMap((c) => Array.from(c)).sort((a, b) => a - b);
  return ps.map((p) => quantileSorted(sorted, p));
}

/** Splits `values` into chunks of the given sizes (cycled), as views into larger buffers like a pool's. */
function chunked(values: Float64Array, sizes: readonly number[]): Float64Array[] {
  const out: Float64Array[] = [];
  for (let at = 0, k = 0; at < values.length; k++) {
    const size = Math.min(sizes[k % sizes.length], values.length - at);
    const buffer = new Float64Array(size + 3);
    buffer.set(values.subarray(at, at + size), 1);
    out.push(buffer.subarray(1, 1 + size));
    at += size;
  }
  return out;
}

function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

// Both methods above the join threshold: quickselect over copied entries, and the radix select.
describe.each([
  ['entry quickselect', Infinity],
  ['radix select', 0],
])('quantilesOfChunks, %s', (_method, entriesMax) => {
  it('matches the sorted reference on small arbitrary sets, any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 5 }),
        (xs, sizes) => {
          const chunks = chunked(Float64Array.from(xs), sizes);
          const before = chunks.map((c) => Array.from(c));
          const out = new Float64Array(PS.length);
          quantilesOfChunks(chunks, PS, out, entriesMax);
          // −0 and 0 compare equal, so which of them a rank holds is the method's choice (toEqual tells them apart).
          const unsigned = (v: number): number => v + 0;
          expect(Array.from(out, unsigned)).toEqual(reference(chunks, PS).map(unsigned));
          expect(chunks.map((c) => Array.from(c))).toEqual(before);
        },
      ),
    );
  });

  // Above the join threshold (65,536 values): the radix passes.
  it('matches the reference on large sets with both signs, wide ranges, zeros and heavy duplicates', () => {
    const rnd = lcg(7);
    const n = 300_001;
    const mixed = Float64Array.from({ length: n }, (_, i) => {
      const u = rnd();
      if (i % 11 === 0) return 0;
      if (i % 7 === 0) return 0.0123; // one value held by a seventh of the set
      return (u < 0.3 ? -1 : 1) * Math.exp(40 * (rnd() - 0.5));
    });
    for (const sizes of [[n], [1000, 65536, 7], [3]]) {
      const chunks = chunked(mixed, sizes);
      const out = new Float64Array(PS.length);
      quantilesOfChunks(chunks, PS, out, entriesMax);
      expect(Array.from(out)).toEqual(reference(chunks, PS));
    }
  });

  it('resolves a bin of over a million equal or nearly equal values through all 64 bits', () => {
    const n = 1_500_000;
    const rnd = lcg(3);
    // Gaps of one step duration, shared by every sequence of the step, and ulp-level neighbours.
    const values = Float64Array.from({ length: n }, () => {
      const u = rnd();
      return u < 0.6 ? 0.021 : u < 0.8 ? 0.021 + 2 ** -58 : u < 0.9 ? 0.021 - 2 ** -58 : 0.5 * rnd();
    });
    const chunks = chunked(values, [1 << 20]);
    const ps = [0.05, 0.1, 0.5, 0.85, 0.95, 0.999];
    const out = new Float64Array(ps.length);
    quantilesOfChunks(chunks, ps, out, entriesMax);
    expect(Array.from(out)).toEqual(reference(chunks, ps));
  });

  it('counts weighted values as that many equal samples, mixed with plain ones', () => {
    const rnd = lcg(11);
    for (const scale of [1, 40]) {
      // scale 40 pushes the total past the join threshold: the radix passes with weights.
      const stepValues = Float64Array.from({ length: 3000 }, () => 0.01 + Math.floor(rnd() * 500) / 1e5);
      const weights = Int32Array.from({ length: 3000 }, (_, i) => (i % 17 === 0 ? 0 : 1 + Math.floor(rnd() * scale)));
      const plain = Float64Array.from({ length: 2000 }, () => rnd() * 0.2);
      const expanded = [...plain];
      stepValues.forEach((v, i) => {
        for (let k = 0; k < weights[i]; k++) expanded.push(v);
      });
      const out = new Float64Array(PS.length);
      quantilesOfChunks([{ values: stepValues, weights }, plain], PS, out, entriesMax);
      expect(Array.from(out)).toEqual(reference([Float64Array.from(expanded)], PS));
    }
  });

  it('ignores many values of weight 0 in a bin that is copied out', () => {
    // A bin of plain samples shared with more zero-weight values than it has samples: none of them may take room.
    const values = Float64Array.from({ length: 70_000 }, (_, i) => 1 + i * 1e-9);
    const sources = [{ values, weights: new Int32Array(values.length) }, values];
    const out = new Float64Array(PS.length);
    quantilesOfChunks(sources, PS, out, entriesMax);
    expect(Array.from(out)).toEqual(reference([values], PS));
  });

  it('finds ranks inside one value of enormous weight, and inside a small bin of weighted values', () => {
    const values = Float64Array.of(0.5, 0.020001, 0.02, 0.3);
    const weights = Int32Array.of(3, 2_000_000, 5_000_000, 1);
    const out = new Float64Array(PS.length);
    quantilesOfChunks([{ values, weights }], PS, out, entriesMax);
    const sorted = [0.02, 0.020001, 0.3, 0.5];
    const counts = [5_000_000, 2_000_000, 1, 3];
    const at = (rank: number) => {
      for (let i = 0, below = 0; ; below += counts[i++]) if (rank < below + counts[i]) return sorted[i];
    };
    const n = 7_000_004;
    expect(Array.from(out)).toEqual(
      PS.map((p) => {
        const h = (n - 1) * p;
        const lo = Math.floor(h);
        return h > lo ? at(lo) + (h - lo) * (at(lo + 1) - at(lo)) : at(lo);
      }),
    );
  });

  it('ignores values of weight 0 and mixes weighted values into a bin of plain ones', () => {
    // Above the join threshold, and all in one bin: the copied-out bin holds plain and weighted values.
    const plain = Float64Array.from({ length: 70_000 }, (_, i) => 1 + (i + 1) * 1e-13);
    const sources = [plain, { values: Float64Array.of(1 + 1e-8, 1, 1 + 3.5e-9), weights: Int32Array.of(0, 2, 40_000) }];
    const expanded = [...plain, 1, 1, ...Array.from({ length: 40_000 }, () => 1 + 3.5e-9)];
    const out = new Float64Array(PS.length);
    quantilesOfChunks(sources, PS, out, entriesMax);
    expect(Array.from(out)).toEqual(reference([Float64Array.from(expanded)], PS));
    // Weights 0 and 2 add up to the number of weighted values: not the same as two weights of 1.
    const tricky = [plain, { values: Float64Array.of(1 + 1e-8, 1), weights: Int32Array.of(0, 2) }];
    quantilesOfChunks(tricky, PS, out, entriesMax);
    expect(Array.from(out)).toEqual(reference([Float64Array.from([...plain, 1, 1])], PS));
  });

  it('refuses an empty set and probabilities out of order', () => {
    expect(() => quantilesOfChunks([new Float64Array(0)], [0.5], [0])).toThrow(/no values/);
    const big = [new Float64Array(70_000).fill(1)];
    expect(() => quantilesOfChunks(big, [0.9, 0.5], [0, 0], entriesMax)).toThrow(/ascend/);
  });
});
