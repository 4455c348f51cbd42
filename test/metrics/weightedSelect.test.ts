import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { weightedOrderStatistics } from '../../sim/metrics/weightedSelect.js';

/** The definition: every entry repeated by its weight, sorted, read at the ranks. */
function reference(values: readonly number[], weights: readonly number[], ranks: readonly number[]): number[] {
  const expanded: number[] = [];
  values.forEach((v, i) => {
    for (let k = 0; k < weights[i]; k++) expanded.push(v);
  });
  expanded.sort((a, b) => a - b);
  return ranks.map((r) => expanded[r]);
}

function select(values: number[], weights: number[], ranks: number[], workFactor?: number): { ok: boolean; out: number[] } {
  const out = ranks.map(() => NaN);
  const ok = weightedOrderStatistics([{ values: Float64Array.from(values), weights: Int32Array.from(weights) }], values.length, ranks, out, workFactor);
  return { ok, out };
}

describe('weighted order statistics by quickselect over entries', () => {
  it('hand-computed: ranks inside runs of equal samples', () => {
    // Samples sorted: 1 ×2, 2 ×1, 5 ×3 → ranks 0..5 are 1, 1, 2, 5, 5, 5.
    expect(select([5, 1, 2], [3, 2, 1], [0, 1, 2, 3, 5]).out).toEqual([1, 1, 2, 5, 5]);
  });

  it('matches the expanded definition on arbitrary entries, weights and rank sets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 200 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
        (entries, fractions) => {
          const values = entries.map(([v]) => v / 8);
          const weights = entries.map(([, w]) => w);
          const total = weights.reduce((a, b) => a + b, 0);
          if (total === 0) return;
          const ranks = [...new Set(fractions.map((f) => Math.min(total - 1, Math.floor(f * total))))].sort((a, b) => a - b);
          const got = select(values, weights, ranks);
          expect(got.ok).toBe(true);
          expect(got.out).toEqual(reference(values, weights, ranks));
        },
      ),
    );
  });

  it('handles sorted, reversed, organ-pipe and constant inputs of many entries', () => {
    const n = 5000;
    const shapes: Record<string, number[]> = {
      sorted: Array.from({ length: n }, (_, i) => i),
      reversed: Array.from({ length: n }, (_, i) => n - i),
      organPipe: Array.from({ length: n }, (_, i) => Math.min(i, n - i)),
      constant: Array.from({ length: n }, () => 0.25),
    };
    for (const [name, values] of Object.entries(shapes)) {
      const weights = values.map((_, i) => 1 + (i % 3));
      const total = weights.reduce((a, b) => a + b, 0);
      const ranks = [0, Math.floor(total / 2), total - 2, total - 1];
      const got = select(values, weights, ranks);
      expect(got.ok, name).toBe(true);
      expect(got.out, name).toEqual(reference(values, weights, ranks));
    }
  });

  it('gives up, saying so, once its partitions pass the work bound', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    expect(select(values, values.map(() => 1), [500], 0).ok).toBe(false);
    expect(select(values, values.map(() => 1), [500]).out).toEqual([500]);
  });

  it('skips entries of weight 0 and copies nothing back into its sources', () => {
    const values = Float64Array.of(3, 1, 2, 9);
    const weights = Int32Array.of(1, 0, 2, 0);
    const out = [NaN, NaN, NaN];
    expect(weightedOrderStatistics([{ values, weights }, { values: Float64Array.of(4), weights: undefined }], 5, [0, 2, 3], out)).toBe(true);
    expect(out).toEqual([2, 3, 4]);
    expect([...values]).toEqual([3, 1, 2, 9]);
  });

  describe('from 4,096 entries, narrowed through a histogram of the values\' high words', () => {
    const many = (n: number, value: (i: number) => number, weight: (i: number) => number) => ({
      values: Array.from({ length: n }, (_, i) => value(i)),
      weights: Array.from({ length: n }, (_, i) => weight(i)),
    });

    it('hand-computed: neighbouring ranks in different buckets, and a rank inside a bucket of equal values', () => {
      // 3,000 entries of 1.0 (weight 1) and 2,000 of 3.0 (weight 2): ranks 0..2,999 are 1, 3,000..6,999 are 3.
      const { values, weights } = many(5000, (i) => (i % 5 < 3 ? 1 : 3), (i) => (i % 5 < 3 ? 1 : 2));
      expect(select(values, weights, [0, 2999, 3000, 5000, 6999]).out).toEqual([1, 1, 3, 3, 3]);
    });

    it('matches the expanded definition on values over many magnitudes, clusters of equal values, weights of 0 and two sources', () => {
      const value = fc.oneof(
        fc.integer({ min: 0, max: 40 }).map((v) => v / 8),
        fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true }),
        fc.double({ min: 0.0125, max: 0.0135, noNaN: true }),
      );
      fc.assert(
        fc.property(
          fc.array(fc.tuple(value, fc.integer({ min: 0, max: 3 })), { minLength: 4096, maxLength: 6000 }),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
          (entries, fractions) => {
            const values = entries.map(([v]) => v);
            const weights = entries.map(([, w], i) => (i < 1000 ? 1 : w));
            const total = weights.reduce((a, b) => a + b, 0);
            const ranks = [...new Set(fractions.flatMap((f) => [Math.floor(f * (total - 1)), Math.min(total - 1, Math.floor(f * (total - 1)) + 1)]))].sort((a, b) => a - b);
            const out = ranks.map(() => NaN);
            // The first 1,000 entries as a source without weights (each weighs 1), the rest weighted.
            const sources = [
              { values: Float64Array.from(values.slice(0, 1000)), weights: undefined },
              { values: Float64Array.from(values.slice(1000)), weights: Int32Array.from(weights.slice(1000)) },
            ];
            expect(weightedOrderStatistics(sources, values.length, ranks, out)).toBe(true);
            expect(out).toEqual(reference(values, weights, ranks));
          },
        ),
        { numRuns: 40 },
      );
    });

    it('matches the expanded definition on sources longer than a pass chunk (PASS_CHUNK = 8,192 entries)', () => {
      // 20,000 distinct values in a scrambled order (one source), and 9,000 with ties (a second): every pass runs over several chunks.
      const values = Array.from({ length: 29_000 }, (_, i) => (i < 20_000 ? ((i * 7919) % 20_000) / 64 + 0.01 : ((i * 31) % 500) / 8));
      const weights = values.map((_, i) => i % 7);
      const total = weights.reduce((a, b) => a + b, 0);
      const ranks = Array.from({ length: 2_000 }, (_, k) => Math.floor((k * (total - 1)) / 1_999));
      const out = ranks.map(() => NaN);
      const sources = [
        { values: Float64Array.from(values.slice(0, 20_000)), weights: Int32Array.from(weights.slice(0, 20_000)) },
        { values: Float64Array.from(values.slice(20_000)), weights: Int32Array.from(weights.slice(20_000)) },
      ];
      expect(weightedOrderStatistics(sources, values.length, ranks, out)).toBe(true);
      expect(out).toEqual(reference(values, weights, ranks));
    });

    it('a negative value, −0 or an infinity takes the plain selection, with the same numbers', () => {
      for (const odd of [-2.5, -0, Infinity]) {
        const { values, weights } = many(5000, (i) => (i === 17 ? odd : ((i * 7919) % 5000) / 16), (i) => 1 + (i % 2));
        const total = weights.reduce((a, b) => a + b, 0);
        const ranks = [0, 1, Math.floor(total / 2), total - 1];
        expect(select(values, weights, ranks).out, String(odd)).toEqual(reference(values, weights, ranks));
      }
    });

    it('a rank beyond the samples is refused without spoiling the next selection; no ranks is no work', () => {
      const values = Array.from({ length: 5000 }, (_, i) => 1 + i);
      const ones = values.map(() => 1);
      expect(() => select(values, ones, [100, 4000, 99999])).toThrow('rank 99999 lies beyond the 5000 samples');
      expect(select(values, ones, [2500, 2501]).out).toEqual([2501, 2502]);
      expect(select(values, ones, []).ok).toBe(true);
    });

    it('gives up, saying so, once its partitions pass the work bound', () => {
      const { values, weights } = many(5000, (i) => (i * 7919) % 5000, () => 1);
      expect(select(values, weights, [2500], 0).ok).toBe(false);
      expect(select(values, weights, [2500]).out).toEqual([2500]);
    });
  });
});
