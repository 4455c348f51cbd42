import { quantileSorted } from 'simple-statistics';
import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Stats } from '../../sim/metrics/stats.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import { GapPool } from '../../sim/metrics/gapPool.js';
import { StepStamps } from '../../sim/metrics/stepStamps.js';
import { inMemory } from '../../sim/metrics/select.js';
import { SpillFile } from '../../sim/metrics/spill.js';
import { tempDirs } from './helpers.js';
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
    // Inside a stretch of consecutive steps, the first time off its stamp is named with its predecessor.
    expect(() => pool.add([0.5, 0.52, 0.55, 0.6, 0.62], [0, 1, 2, 3, 4], 5)).toThrow(/token times 0.55, 0.6 are not the stamps of steps 2, 3/);
    expect(pool.length).toBe(2);
  });
});

describe('a pool against every gap kept as a value', () => {
  const tmp = tempDirs();

  /** Every sample of `pool`, expanded by weight and sorted. */
  function expanded(pool: GapPool): number[] {
    const out: number[] = [];
    for (const s of pool.samples()) {
      const m = inMemory(s);
      if (m instanceof Float64Array) out.push(...m);
      else m.values.forEach((v, i) => out.push(...new Array<number>(m.weights[i]).fill(v)));
    }
    return out.sort((a, b) => a - b);
  }

  // A request: the step it starts at, then the steps between its tokens (1: the next step; more: skipped steps, after a preemption).
  const request = fc.record({ start: fc.nat(3000), strides: fc.array(fc.oneof(fc.constant(1), fc.constant(1), fc.integer({ min: 2, max: 9 })), { maxLength: 300 }) });

  it('holds the same gaps, with or without a window that spills the oldest steps', () => {
    // Stamps are kept 1,024 at a time: past that the windowed pool flushes the oldest half, under requests still to come that span it.
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 40 }), (requests) => {
        const spill = new SpillFile(join(tmp(), 'samples.spill'));
        const stamps = [new StepStamps(), new StepStamps(spill, 1024)];
        const pools = stamps.map((st) => new GapPool(st));
        const plain: number[] = [];
        const byLast = new Map<number, number[][]>();
        for (const r of requests) {
          const steps = [r.start];
          for (const d of r.strides) steps.push(steps[steps.length - 1] + d);
          const last = steps[steps.length - 1];
          byLast.set(last, [...(byLast.get(last) ?? []), steps]);
        }
        const stampOf = (s: number) => 0.25 + s * 0.01 + ((s * 7919) % 13) * 0.001;
        const lastStep = Math.max(...byLast.keys());
        for (let s = 0; s <= lastStep; s++) {
          for (const st of stamps) st.push(s, stampOf(s));
          // A request is recorded once its last token's step is stamped.
          for (const steps of byLast.get(s) ?? []) {
            const times = steps.map(stampOf);
            for (let k = 1; k < times.length; k++) plain.push(times[k] - times[k - 1]);
            for (const p of pools) p.add(times, steps, times.length);
          }
        }
        plain.sort((a, b) => a - b);
        for (const p of pools) {
          expect(p.length).toBe(plain.length);
          expect(expanded(p)).toEqual(plain);
        }
        spill.close();
      }),
      { numRuns: 100 },
    );
  });
});
