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
});
