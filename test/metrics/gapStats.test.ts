import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { gapStats, type GapStats } from '../../sim/metrics/gapStats.js';
import { quantileSorted } from '../../sim/metrics/stats.js';

/** Token times whose gaps repeat (steps of a few lengths), include zeros (tokens of one step) and rare long stalls. */
function tokenTimes(rng: () => number, tokens: number): Float64Array {
  const lengths = [0.011, 0.0125, 0.0125, 0.02, 0];
  const times = new Float64Array(tokens);
  times[0] = rng() * 10;
  for (let i = 1; i < tokens; i++) {
    const r = rng();
    const gap = r < 0.02 ? 0.5 + rng() : r < 0.6 ? lengths[Math.floor(rng() * lengths.length)] : 0.01 + rng() * 0.01;
    times[i] = times[i - 1] + gap;
  }
  return times;
}

/** The definition, by sorting: gaps of consecutive times, type-7 quantiles. */
function reference(times: Float64Array): GapStats {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(times[i] - times[i - 1]);
  const sum = gaps.reduce((a, b) => a + b, 0);
  const sorted = [...gaps].sort((a, b) => a - b);
  return { mean_s: sum / gaps.length, p50_s: quantileSorted(sorted, 0.5), p99_s: quantileSorted(sorted, 0.99), max_s: sorted[sorted.length - 1] };
}

describe('one request’s gap statistics', () => {
  it('hand-computed: five gaps', () => {
    // Gaps 1, 3, 2, 5, 4: median 3; p99 at h = 4 · 0.99 = 3.96, 4 + 0.96 · (5 − 4) = 4.96.
    const g = gapStats([0, 1, 4, 6, 11, 15], 6, { mean_s: 0, p50_s: 0, p99_s: 0, max_s: 0 });
    expect(g.mean_s).toBe(3);
    expect(g.p50_s).toBe(3);
    expect(g.p99_s).toBeCloseTo(4.96, 12);
    expect(g.max_s).toBe(5);
  });

  it('one gap, and two', () => {
    expect(gapStats([1, 3], 2, { mean_s: 0, p50_s: 0, p99_s: 0, max_s: 0 })).toEqual({ mean_s: 2, p50_s: 2, p99_s: 2, max_s: 2 });
    const two = gapStats([0, 1, 4], 3, { mean_s: 0, p50_s: 0, p99_s: 0, max_s: 0 });
    expect(two.p50_s).toBe(2);
    expect(two.p99_s).toBe(1 + 0.99 * 2);
  });

  it('equals the sorted definition to the bit, for every length up to 4,000 tokens (both selection paths)', () => {
    const rng = seedrandom('gap-stats');
    const into: GapStats = { mean_s: 0, p50_s: 0, p99_s: 0, max_s: 0 };
    const lengths = [...Array.from({ length: 80 }, (_, i) => i + 2), 150, 699, 700, 701, 3200, 3233, 3234, 3300, 4000];
    for (const tokens of lengths) {
      for (let trial = 0; trial < 5; trial++) {
        const times = tokenTimes(rng, tokens);
        expect(gapStats(times, tokens, into), `${tokens} tokens, trial ${trial}`).toEqual(reference(times));
      }
    }
  });

  it('equals it for gaps that share their high bits, span many orders of magnitude, are all equal, or run backwards', () => {
    // From 48 gaps the median is selected through a histogram of the gaps' high 32 bits.
    const into: GapStats = { mean_s: 0, p50_s: 0, p99_s: 0, max_s: 0 };
    const gap = fc.oneof(
      fc.constantFrom(0, 0.0125, 0.02),
      // Differ only in the low mantissa bits: one bucket.
      fc.integer({ min: 0, max: 1000 }).map((i) => 0.015 + i * 2 ** -50),
      fc.double({ min: 1e-9, max: 1e3, noNaN: true }),
      // Spread thinly over one range: most buckets hold a value or none.
      fc.integer({ min: 1, max: 100_000 }).map((i) => i * 1e-6),
      // Times out of order (a negative gap) take the plain selection.
      fc.constant(-0.01),
    );
    fc.assert(
      fc.property(fc.array(gap, { minLength: 1, maxLength: 400, size: 'max' }), fc.boolean(), (gaps, equal) => {
        const times = new Float64Array(gaps.length + 1);
        for (let i = 0; i < gaps.length; i++) times[i + 1] = (equal ? 0.25 : gaps[i]) + times[i];
        expect(gapStats(times, times.length, into)).toEqual(reference(times));
      }),
      { numRuns: 600 },
    );
    // Even gaps whose lower middle rank ends its bucket: the upper one is the least of a later bucket.
    const spread = Float64Array.from({ length: 51 }, (_, i) => (i * (i + 1)) / 200);
    expect(gapStats(spread, spread.length, into).p50_s).toBeCloseTo(0.255, 12);
    expect(gapStats(spread, spread.length, into)).toEqual(reference(spread));
    // 24 gaps near 1 s and 24 near 1,000 s, interleaved: the lower middle rank (23) is the greatest
    // of the first bucket, the buckets after it are empty up to the large gaps' (the histogram
    // spans 1 .. 1,023 in 256 buckets). p50 = (1 + 23e-6 + 1000) / 2.
    const gulf = new Float64Array(49);
    for (let i = 0; i < 48; i++) gulf[i + 1] = gulf[i] + (i % 2 === 0 ? 1 + (i >> 1) * 1e-6 : 1000 + (i >> 1));
    expect(gapStats(gulf, gulf.length, into).p50_s).toBeCloseTo((1 + 23e-6 + 1000) / 2, 9);
    expect(gapStats(gulf, gulf.length, into)).toEqual(reference(gulf));
    // A gap of −0 (a time of −0 after one of +0) has its sign bit set: plain selection too.
    const times = Float64Array.from({ length: 60 }, (_, i) => 0.01 * i);
    times[1] = -0;
    expect(gapStats(times, times.length, into)).toEqual(reference(times));
    // A gap of +0 before one of −0: the least gap kept is +0, which does not bound the −0's word.
    const zeros = new Float64Array(62);
    zeros[2] = -0;
    for (let i = 2; i < 61; i++) zeros[i + 1] = zeros[i] + 0.001 * (1 + (((i - 2) * 37) % 59));
    expect(gapStats(zeros, zeros.length, into)).toEqual(reference(zeros));
  });

  it('NaN times from the 12th on: the mean and the median are NaN (no bucket of the high words holds a NaN)', () => {
    // 59 distinct gaps; a NaN one makes every later time NaN, so 49 of the gaps are NaN.
    const times = new Float64Array(60);
    for (let i = 0; i < 59; i++) times[i + 1] = times[i] + (i === 10 ? NaN : 0.001 * (1 + ((i * 37) % 59)));
    const g = gapStats(times, times.length, { mean_s: 0, p50_s: 0, p99_s: 0, max_s: 0 });
    expect([g.mean_s, g.p50_s]).toEqual([NaN, NaN]);
  });

  it('reads only the first `tokens` times', () => {
    const times = new Float64Array([0, 1, 2, 3, 100, 1000]);
    expect(gapStats(times, 4, { mean_s: 0, p50_s: 0, p99_s: 0, max_s: 0 })).toEqual({ mean_s: 1, p50_s: 1, p99_s: 1, max_s: 1 });
  });
});
