import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate } from '../../sim/index.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { arrowRows, expectInvariants, run, scenario, suiteDir } from '../helpers.js';

/**
 * Llama-3.1-8B's weights, bf16, on one GPU: 8,030,261,248 parameters × 2 bytes = 16,060,522,496
 * bytes, read from local NVMe at 1 GB/s = 16.060522496 s; then 35 s of engine start-up.
 */
const COLD_START_S = 16.060522496 + 35;

const chat = {
  input_tokens: { dist: 'lognormal', mean: 1000, sigma: 0.8, max: 8000 },
  output_tokens: { dist: 'lognormal', mean: 200, sigma: 0.6, max: 2000 },
};

const p99 = (xs: number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  const h = (v.length - 1) * 0.99;
  return v[Math.floor(h)] + (h - Math.floor(h)) * (v[Math.ceil(h)] - v[Math.floor(h)]);
};

describe('a step load, 5 → 20 req/s at t = 600 s, under an autoscaler on concurrency', () => {
  const input: ScenarioInput = scenario({
    seed: 4,
    cluster: { replicas: 1, router: 'least-outstanding' },
    autoscale: { min_replicas: 1, max_replicas: 8, metric: 'concurrency', target: 16 },
    cold_start: { storage: 'local_nvme' },
    metrics: { uncertainty: false },
    workload: {
      arrival: { process: 'poisson', rate_per_s: [{ until_s: 600, rate_per_s: 5 }, { until_s: 1200, rate_per_s: 20 }] },
      ...chat,
      duration_s: 1200,
    },
  });
  const states: { at_s: number; states: string[] }[] = [];
  const outcomes: RequestOutcome[] = [];
  const result = simulate(input, {
    onRequest: (o) => outcomes.push({ ...o, token_times_s: Array.from(o.token_times_s) }),
    // Look at every replica just before and at the end of a cold start from the first decision after the step (615 s).
    control: (c) => {
      for (const at_s of [615 + COLD_START_S - 1e-6, 615 + COLD_START_S]) c.at(at_s, () => states.push({ at_s, states: [0, 1, 2, 3, 4, 5].map((i) => safeState(c, i)) }));
    },
  });
  const events = result.summary.events as any[];
  const ups = events.filter((e) => e.kind === 'scale_up' && e.time_s > 600);

  it('keeps every invariant across replica lifetimes', () => expectInvariants({ result, outcomes }));

  it('decides to scale up within one interval of the step, on the concurrency it measured', () => {
    expect(ups[0].time_s).toBeGreaterThan(600);
    expect(ups[0].time_s).toBeLessThanOrEqual(615);
    expect(ups[0].value).toBeGreaterThan(16 * 1.1);
    expect(ups[0].to_replicas).toBeGreaterThan(ups[0].from_replicas);
  });

  it('has the new replicas ready exactly one cold start after the decision', () => {
    expect(result.setup.scenario.cold_start!.total_s).toBeCloseTo(COLD_START_S, 9);
    const [before, after] = states;
    const added = result.summary.per_replica.filter((r) => r.start_s === 615).map((r) => r.replica);
    expect(added.length).toBe(ups[0].to_replicas - ups[0].from_replicas);
    for (const i of added) {
      expect(before.states[i]).toBe('starting');
      expect(after.states[i]).toBe('ready');
    }
  });

  it('has p99 TTFT back within 20 % of its level before the step, in the 5 minutes after recovery', () => {
    const recovered_s = ups[ups.length - 1].time_s + COLD_START_S;
    const ttft = (from: number, to: number) =>
      outcomes.filter((o) => o.arrival_s >= from && o.arrival_s < to && o.status === 'finished').map((o) => (o.token_times_s as number[])[0] - o.arrival_s);
    const before = p99(ttft(0, 600));
    const after = p99(ttft(recovered_s, recovered_s + 300));
    expect(Math.abs(after / before - 1)).toBeLessThanOrEqual(0.2);
  });
});

function safeState(c: { state(i: number): string }, i: number): string {
  try {
    return c.state(i);
  } catch {
    return 'none';
  }
}

describe('scale to zero', () => {
  const input: ScenarioInput = scenario({
    cluster: { replicas: 1 },
    autoscale: { min_replicas: 0, max_replicas: 2, metric: 'concurrency', target: 8 },
    cold_start: { storage: 'local_nvme' },
    metrics: { uncertainty: false },
    workload: {
      // Two requests a second for a minute, nothing for ten, then a few more.
      arrival: { process: 'poisson', rate_per_s: [{ until_s: 60, rate_per_s: 2 }, { until_s: 660, rate_per_s: 0 }, { until_s: 700, rate_per_s: 0.2 }] },
      input_tokens: { dist: 'uniform', min: 100, max: 500 },
      output_tokens: { dist: 'uniform', min: 10, max: 50 },
      duration_s: 700,
    },
  });
  const observed = run(input);
  const events = observed.result.summary.events as any[];

  it('reaches zero replicas once the scale-down window has passed since the last busy interval', () => {
    expectInvariants(observed);
    const down = events.find((e) => e.kind === 'scale_down' && e.to_replicas === 0);
    expect(down).toBeDefined();
    // The last request of the first minute left well before 120 s; the 300 s window keeps the replica until then + 300 s.
    const lastBusy = Math.max(...observed.outcomes.filter((o) => o.arrival_s < 60).map((o) => o.finish_s));
    expect(down.time_s).toBeGreaterThanOrEqual(lastBusy + 300 - 15);
    expect(down.time_s).toBeLessThan(660);
  });

  const [a, b] = [suiteDir(), suiteDir()];
  it('writes byte-identical outputs when run again', () => {
    simulate(input, { outDir: a });
    simulate(input, { outDir: b });
    for (const file of ['requests.arrow', 'iterations.arrow', 'events.arrow', 'cluster.arrow']) {
      expect(readFileSync(join(a, file)).equals(readFileSync(join(b, file)))).toBe(true);
    }
  });

  it('makes the next request wait for a cold start, then serves it', () => {
    const late = observed.outcomes.filter((o) => o.arrival_s >= 660).sort((a, b) => a.arrival_s - b.arrival_s);
    expect(late.length).toBeGreaterThan(0);
    const first = late[0];
    expect(first.status).toBe('finished');
    expect((first.token_times_s as number[])[0] - first.arrival_s).toBeGreaterThanOrEqual(COLD_START_S);
    expect(events.some((e) => e.kind === 'scale_up' && e.from_replicas === 0 && e.time_s >= first.arrival_s)).toBe(true);
  });
});

describe('bad autoscale input: one clear line each', () => {
  const refuse = (patch: Partial<Record<keyof ScenarioInput, unknown>>) => () => simulate(scenario({ metrics: { uncertainty: false }, ...patch }));
  it.each([
    ['min above max', { autoscale: { min_replicas: 4, max_replicas: 2, metric: 'queue', target: 2 } }, 'autoscale.min_replicas: must be ≤ max_replicas (2), got 4'],
    ['a target of 0', { autoscale: { max_replicas: 2, metric: 'queue', target: 0 } }, /^autoscale\.target: must be > 0/],
    ['an interval of 0', { autoscale: { max_replicas: 2, metric: 'queue', target: 2, interval_s: 0 } }, /^autoscale\.interval_s: must be > 0/],
    ['replicas outside [min, max]', { cluster: { replicas: 5 }, autoscale: { max_replicas: 2, metric: 'queue', target: 2 } }, 'cluster.replicas: must lie within autoscale [min_replicas 1, max_replicas 2] (it is the count the run starts with), got 5'],
    ['no target', { autoscale: { max_replicas: 2, metric: 'queue' } }, 'autoscale.target: required: an autoscaler needs max_replicas, a metric and its target per replica'],
    ['an empty pool without an autoscaler', { pools: [{ name: 'a', replicas: 0 }] }, 'pools[0] (a): replicas: can be 0 only with an autoscaler that may scale the pool from zero (autoscale with min_replicas 0), got 0'],
  ])('%s', (_what, patch, message) => {
    expect(refuse(patch)).toThrow(message);
  });
});

describe('a compressed day under an autoscaler, against a static fleet sized for its peak', () => {
  const day = (patch: Partial<Record<keyof ScenarioInput, unknown>>): ScenarioInput =>
    scenario({
      seed: 12,
      cluster: { replicas: 1, router: 'least-outstanding' },
      cold_start: { storage: 'local_nvme' },
      slo: { ttft_ms: 500, tpot_ms: 50 },
      metrics: { uncertainty: false, warmup_s: 300 },
      workload: {
        // 1.2 to 10.8 req/s over an hour: the trough at 0 s, the peak at 1,800 s.
        arrival: { process: 'poisson', rate_per_s: { mean: 6, amplitude: 0.8, period_s: 3600, phase_s: 900 } },
        ...chat,
        duration_s: 3600,
      },
      ...patch,
    });
  const peakOf = (outDir: string): number => Math.max(...arrowRows(outDir, 'cluster.arrow').map((r) => r.ready));
  const dir = suiteDir();
  const scaled = simulate(day({ autoscale: { min_replicas: 1, max_replicas: 10, metric: 'concurrency', target: 12 } }), { outDir: dir }).summary;
  const peak = peakOf(dir);
  const fixed = simulate(day({ cluster: { replicas: peak, router: 'least-outstanding' } })).summary;

  it('burns fewer GPU-hours than the static fleet at its peak, with SLO attainment within 2 points of it', () => {
    // Stated: GPU-hours autoscaled vs static, and both attainments.
    console.info(`diurnal: ${scaled.cost.gpu_hours!.toFixed(3)} GPU-h autoscaled (peak ${peak} replicas) vs ${fixed.cost.gpu_hours!.toFixed(3)} static; SLO ${scaled.overall.slo.attainment} vs ${fixed.overall.slo.attainment}`);
    expect(peak).toBeGreaterThan(1);
    expect(scaled.cost.gpu_hours!).toBeLessThan(fixed.cost.gpu_hours!);
    expect(Math.abs(scaled.overall.slo.attainment! - fixed.overall.slo.attainment!)).toBeLessThanOrEqual(0.02);
  });
});

describe('an autoscaler on TTFT p90', () => {
  it('scales on the p90 TTFT of the requests that finished in its interval', () => {
    const { result, outcomes } = run(
      scenario({
        cluster: { replicas: 1 },
        autoscale: { max_replicas: 4, metric: 'ttft_p90_s', target: 0.05 },
        metrics: { uncertainty: false },
        workload: {
          arrival: { process: 'poisson', rate_per_s: 20 },
          input_tokens: { dist: 'uniform', min: 500, max: 2000 },
          output_tokens: { dist: 'uniform', min: 50, max: 300 },
          num_requests: 3000,
        },
      }),
    );
    const first = (result.summary.events as any[])[0];
    expect(first.kind).toBe('scale_up');
    // numpy's p90 of the TTFTs of requests that finished in (0, first.time_s], recomputed here.
    const ttfts = outcomes
      .filter((o) => o.status === 'finished' && o.finish_s <= first.time_s)
      .map((o) => (o.token_times_s as number[])[0] - o.arrival_s)
      .sort((a, b) => a - b);
    const h = (ttfts.length - 1) * 0.9;
    const p90 = ttfts[Math.floor(h)] + (h - Math.floor(h)) * (ttfts[Math.ceil(h)] - ttfts[Math.floor(h)]);
    expect(first.value).toBeCloseTo(p90, 12);
    expect(first.to_replicas).toBe(Math.min(4, Math.ceil(1 * (p90 / 0.05))));
  });
});
