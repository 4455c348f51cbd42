import { quantileSorted } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import type { Stats } from '../../sim/metrics/stats.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import { GapPool, StepStamps } from '../../sim/metrics/gapPool.js';
import { run, scenario } from '../helpers.js';

/** ITL stats the plain way: every gap of every measured finished request, as a value. */
function reference(outcomes: readonly RequestOutcome[], warmup_s = 0): Omit<Stats, 'mean'> & { mean: number } {
  const gaps: number[] = [];
  for (const o of outcomes) {
    if (o.status !== 'finished' || o.arrival_s < warmup_s) continue;
    const t = o.token_times_s;
    for (let k = 1; k < t.length; k++) gaps.push(t[k] - t[k - 1]);
  }
  const sorted = [...gaps].sort((a, b) => a - b);
  const q = (p: number) => quantileSorted(sorted, p);
  return { count: gaps.length, mean: gaps.reduce((a, b) => a + b, 0) / gaps.length, p50: q(0.5), p90: q(0.9), p95: q(0.95), p99: q(0.99), max: sorted[sorted.length - 1] };
}

function expectSame(got: Stats, want: ReturnType<typeof reference>): void {
  // Counted per step or kept as values, the gaps are the same numbers: percentiles and the maximum
  // agree to the bit; the mean is summed in another order.
  expect({ ...got, mean: 0 }).toEqual({ ...want, mean: 0 });
  expect(got.mean).toBeCloseTo(want.mean, 12);
}

describe('pooled ITL statistics (gaps counted per engine step)', () => {
  it('equal the statistics of every gap, overall, per replica and per priority class, with preemptions and warmup', () => {
    const { result, outcomes } = run(
      scenario({
        cluster: { replicas: 2, router: 'round-robin' },
        // A small KV pool: recompute preemptions give gaps that skip steps.
        engine: { scheduling_policy: 'priority', num_gpu_blocks_override: 400, max_model_len: 4096 },
        metrics: { warmup_s: 2 },
        workload: {
          arrival: { process: 'poisson', rate_per_s: 40 },
          input_tokens: { dist: 'uniform', min: 50, max: 1500 },
          output_tokens: { dist: 'uniform', min: 1, max: 300 },
          priority: { classes: [{ name: 'a', priority: 0, weight: 1 }, { name: 'b', priority: 1, weight: 2 }] },
          num_requests: 300,
        },
      }),
    );
    const s = result.summary;
    expect(result.totals.preemptions).toBeGreaterThan(0);
    expectSame(s.overall.itl_s, reference(outcomes, 2));
    s.per_replica.forEach((r, i) => expectSame(r.itl_s, reference(outcomes.filter((o) => o.replica === i), 2)));
    expect(s.per_priority.map((p) => p.priority)).toEqual([0, 1]);
    for (const p of s.per_priority) expectSame(p.itl_s, reference(outcomes.filter((o) => o.priority === p.priority), 2));
  });

  it('equal them for samples merged into one stream (vLLM V0 forks) and for n > 1 under V1', () => {
    for (const scheduler of ['vllm-v0', 'vllm']) {
      const { result, outcomes } = run(
        scenario({
          engine: { scheduler },
          workload: {
            arrival: { process: 'poisson', rate_per_s: 10 },
            input_tokens: { dist: 'uniform', min: 50, max: 500 },
            output_tokens: { dist: 'uniform', min: 1, max: 100 },
            n: 3,
            num_requests: 60,
          },
        }),
      );
      expectSame(result.summary.overall.itl_s, reference(outcomes));
    }
  });
});

describe('a pool’s check that counted gaps are the stamps’ own', () => {
  it('counts consecutive steps whose times are their stamps, and refuses times that are not', () => {
    const stamps = new StepStamps();
    const t = [0.5, 0.52, 0.55, 0.61, 0.62];
    t.forEach((time, s) => stamps.push(s, time));
    const pool = new GapPool(stamps);
    pool.add([0.52, 0.55, 0.61], [1, 2, 3], 3);
    expect(pool.length).toBe(2);
    const weighted = pool.samples()[0] as { values: Float64Array; weights: Int32Array };
    expect([...weighted.values]).toEqual([0.55 - 0.52, 0.61 - 0.55]);
    expect([...weighted.weights]).toEqual([1, 1]);
    // A token time off its step's stamp (the later or the earlier of the pair), and a step not stamped yet.
    expect(() => pool.add([0.52, 0.56], [1, 2], 2)).toThrow(/are not the stamps of steps 1, 2/);
    expect(() => pool.add([0.51, 0.55], [1, 2], 2)).toThrow(/are not the stamps of steps 1, 2/);
    expect(() => pool.add([0.62, 0.7], [4, 5], 2)).toThrow(/step 5 has no stamp/);
  });
});
