import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bounds, scaledLatencyModel } from '../../sim/cluster/uncertainty.js';
import { latencyModelFor, parseScenarioObject, resolveScenario, simulate } from '../../sim/index.js';
import type { LatencyBand, LatencyModel } from '../../sim/latency/model.js';
import { formatSummaryTable } from '../../sim/metrics/table.js';
import type { Bounds, Summary } from '../../sim/metrics/summary.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { infersim } from '../cli/cli.js';
import { arrowRows, scenario } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'infersim-uncertainty-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BAND: LatencyBand = { low: -0.1, high: 0.1, basis: 'hand-made ±10 %' };
const T = 0.01;

/** Every iteration takes T seconds, whatever the batch; counts its calls. `band` null: the model states none. */
function constantModel(band: LatencyBand | null = BAND): LatencyModel & { calls: number } {
  const model = {
    calls: 0,
    description: `constant ${T * 1000} ms`,
    uncertainty: band ?? undefined,
    iterationTime_s() {
      model.calls++;
      return T;
    },
    breakdown: () => [{ name: 'all', time_s: T, source: 'modelled' as const }],
  };
  return model;
}

/** The scenario's own roofline model, stating `band`. */
function withBand(input: ScenarioInput, band: LatencyBand): LatencyModel {
  const inner = latencyModelFor(resolveScenario(parseScenarioObject(input)));
  return {
    description: inner.description,
    uncertainty: band,
    iterationTime_s: (b) => inner.iterationTime_s(b),
    breakdown: (b) => inner.breakdown(b),
  };
}

// N requests of 100 prompt and 5 output tokens, one a second: each is alone in the engine (its
// 1 prefill + 4 decode steps take 5 T = 50 ms), and without frontend overheads every latency is
// a whole number of steps.
const N = 10;
const OUT = 5;
const light = (extra: Partial<Record<keyof ScenarioInput, unknown>> = {}): ScenarioInput =>
  scenario({
    engine: { frontend_input_ms: 0, frontend_output_ms: 0 },
    workload: {
      arrival: { process: 'constant', rate_per_s: 1 },
      input_tokens: { dist: 'fixed', value: 100 },
      output_tokens: { dist: 'fixed', value: OUT },
      num_requests: N,
    },
    ...extra,
  });

const close = (b: Bounds, low: number, high: number): void => {
  expect(b.low).toBeCloseTo(low, 12);
  expect(b.high).toBeCloseTo(high, 12);
};

describe('progress through the band re-runs', () => {
  it('reports the main run as pass 0 of 3 and the re-runs as passes 1 and 2, each from its own start', () => {
    // 3,000 requests of 5 steps: ~18,000 events a run, several ticks of 4,096 events each.
    const many = 3000;
    const ticks: { sim_s: number; done: number; pass: number; passes: number }[] = [];
    simulate(light({ workload: { arrival: { process: 'constant', rate_per_s: 1 }, input_tokens: { dist: 'fixed', value: 100 }, output_tokens: { dist: 'fixed', value: OUT }, num_requests: many } }), {
      latency: constantModel(),
      band_threads: false,
      onProgress: (sim_s, done, pass, passes) => ticks.push({ sim_s, done, pass, passes }),
    });
    expect(new Set(ticks.map((t) => t.passes))).toEqual(new Set([3]));
    const passes = ticks.map((t) => t.pass);
    expect(new Set(passes)).toEqual(new Set([0, 1, 2]));
    expect(passes).toEqual([...passes].sort((a, b) => a - b));
    for (const pass of [0, 1, 2]) {
      const own = ticks.filter((t) => t.pass === pass);
      // Each pass counts from its own start: done and the clock only grow within it, and stay within the run.
      for (let k = 1; k < own.length; k++) {
        expect(own[k].done).toBeGreaterThanOrEqual(own[k - 1].done);
        expect(own[k].sim_s).toBeGreaterThan(own[k - 1].sim_s);
      }
      expect(own[own.length - 1].done).toBeLessThanOrEqual(many);
    }
  });
});

describe('uncertainty bounds: light load, constant step time T, band ±10 %', () => {
  const model = constantModel();
  const { summary, totals } = simulate(light(), { latency: model });
  const u = summary.uncertainty!;

  it('reports the method, the band and the time scales 0.9 and 1.1', () => {
    expect(u.method).toBe('re-run at band edges');
    expect(u.band).toEqual(BAND);
    expect(u.time_scale.low).toBeCloseTo(0.9, 15);
    expect(u.time_scale.high).toBeCloseTo(1.1, 15);
  });

  it('TTFT = one step: 9 ms and 11 ms at the edges (10 ms in the main run)', () => {
    expect(summary.overall.ttft_s.p50).toBeCloseTo(0.01, 12);
    for (const b of [u.ttft_s.p50, u.ttft_s.p90, u.ttft_s.p99, u.ttft_s.mean]) close(b, 0.009, 0.011);
  });

  it('TPOT and ITL = one step; E2E = 5 steps: 45 ms and 55 ms', () => {
    for (const b of [u.tpot_s.p50, u.tpot_s.p99, u.tpot_s.mean, u.itl_s.p50, u.itl_s.p90, u.itl_s.mean]) close(b, 0.009, 0.011);
    for (const b of [u.e2e_s.p50, u.e2e_s.p90, u.e2e_s.p99, u.e2e_s.mean]) close(b, 0.045, 0.055);
  });

  it('throughput over the makespan (N − 1) s + 5 T × scale: the slow edge is the low bound', () => {
    close(u.throughput.requests_per_s, N / (N - 1 + 5 * T * 1.1), N / (N - 1 + 5 * T * 0.9));
    close(u.throughput.output_tokens_per_s, (N * OUT) / (N - 1 + 5 * T * 1.1), (N * OUT) / (N - 1 + 5 * T * 0.9));
  });

  it('runs the scenario three times: N × 5 steps each, every one timed by the model', () => {
    expect(totals.steps).toBe(N * OUT);
    expect(model.calls).toBe(3 * N * OUT);
    expect(summary.simulator?.uncertainty_wall_s).toBeGreaterThanOrEqual(0);
  });

  it('the printed summary shows the bounds and what they mean', () => {
    const table = formatSummaryTable(summary);
    expect(table).toMatch(/TTFT\s+10\.00 \[9\.00 – 11\.00\]/);
    expect(table).toMatch(/E2E\s+50\.00 \[45\.00 – 55\.00\]/);
    expect(table).toMatch(/queueing\s+0\.00\s/);
    expect(table).toContain('× 0.900 and × 1.100');
    expect(table).toContain('−10.0 % / +10.0 %; basis: hand-made ±10 %');
  });
});

describe('no uncertainty bounds', () => {
  it('metrics.uncertainty: false gives null, a note, and no band runs', () => {
    const model = constantModel();
    const { summary, totals } = simulate(light({ metrics: { uncertainty: false } }), { latency: model });
    expect(summary.uncertainty).toBeNull();
    expect(model.calls).toBe(N * OUT);
    expect(totals.steps).toBe(N * OUT);
    expect(summary.notes).toContain('uncertainty: none (metrics.uncertainty is false)');
    expect(summary.simulator?.uncertainty_wall_s).toBeNull();
    expect(formatSummaryTable(summary)).toMatch(/bounds\s+none \(metrics\.uncertainty is false\)/);
  });

  it('a latency model without a band gives null and says so', () => {
    const model = constantModel(null);
    const { summary } = simulate(light(), { latency: model });
    expect(summary.uncertainty).toBeNull();
    expect(model.calls).toBe(N * OUT);
    expect(summary.notes).toContain('uncertainty: none (the latency model states no error band)');
    expect(JSON.parse(JSON.stringify(summary)).uncertainty).toBeNull();
  });

  it('infersim run --set metrics.uncertainty=false: null in summary.json, the reason in the printed summary', () => {
    const out = join(dir, 'cli');
    const r = infersim(['run', 'scenarios/quickstart.yaml', '--out', out, '--set', 'workload.num_requests=20', '--set', 'metrics.uncertainty=false']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\nbounds\s+none \(metrics\.uncertainty is false\)\n/);
    const json = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(json.uncertainty).toBeNull();
    expect(json.scenario.metrics.uncertainty).toBe(false);
  });

  it('the key defaults to true and rejects a non-boolean', () => {
    expect(resolveScenario(parseScenarioObject(light())).scenario.metrics.uncertainty).toBe(true);
    expect(() => parseScenarioObject(light({ metrics: { uncertainty: 'yes' } }))).toThrow(/metrics\.uncertainty: must be true or false/);
  });
});

describe('uncertainty bounds under load', () => {
  const loaded = (seed: number): ScenarioInput =>
    scenario({
      seed,
      workload: {
        arrival: { process: 'poisson', rate_per_s: 30 },
        input_tokens: { dist: 'uniform', min: 50, max: 2000 },
        output_tokens: { dist: 'uniform', min: 2, max: 300 },
        num_requests: 300,
      },
    });

  it.each([1, 2, 3, 4])('seed %i: low ≤ main ≤ high for every reported figure', (seed) => {
    const input = loaded(seed);
    const { summary } = simulate(input, { latency: withBand(input, BAND) });
    const u = summary.uncertainty!;
    const o = summary.overall;
    for (const key of ['ttft_s', 'tpot_s', 'itl_s', 'e2e_s'] as const) {
      for (const stat of ['p50', 'p90', 'p99', 'mean'] as const) {
        const { low, high } = u[key][stat];
        expect(low, `${key}.${stat}`).toBeLessThanOrEqual(o[key][stat]!);
        expect(high, `${key}.${stat}`).toBeGreaterThanOrEqual(o[key][stat]!);
      }
    }
    for (const key of ['requests_per_s', 'output_tokens_per_s'] as const) {
      expect(u.throughput[key].low).toBeLessThanOrEqual(o.throughput[key]!);
      expect(u.throughput[key].high).toBeGreaterThanOrEqual(o.throughput[key]!);
    }
  });

  it('a zero-width band reproduces the main run exactly', () => {
    const input = loaded(5);
    const { summary } = simulate(input, { latency: withBand(input, { low: 0, high: 0, basis: 'none' }) });
    const o = summary.overall;
    expect(summary.uncertainty!.ttft_s.p99).toEqual({ low: o.ttft_s.p99, high: o.ttft_s.p99 });
    expect(summary.uncertainty!.e2e_s.mean).toEqual({ low: o.e2e_s.mean, high: o.e2e_s.mean });
    expect(summary.uncertainty!.throughput.requests_per_s).toEqual({ low: o.throughput.requests_per_s, high: o.throughput.requests_per_s });
  });

  it('a band re-run keeps no step records: same latency and throughput figures, no KV figures; an output folder keeps them', () => {
    const input = loaded(7);
    input.metrics = { uncertainty: false };
    const fullRun = simulate(input);
    const full = fullRun.summary;
    const lean = simulate(input, { iterations: false }).summary;
    for (const key of ['ttft_s', 'tpot_s', 'itl_s', 'e2e_s', 'throughput'] as const) expect(lean.overall[key], key).toEqual(full.overall[key]);
    expect(full.kv?.source).toBe('iterations');
    expect(lean.kv?.source).toBeUndefined();
    const written = simulate(input, { iterations: false, outDir: join(dir, 'lean') }).summary;
    expect(written.kv?.source).toBe('iterations');
    expect(arrowRows(join(dir, 'lean'), 'iterations.arrow').length).toBe(fullRun.totals.steps);
  });

  it('is deterministic: summary.json is byte-identical apart from wall times', () => {
    const input = loaded(6);
    const text = (name: string): string => {
      simulate(input, { latency: withBand(input, BAND), outDir: join(dir, name) });
      const json = JSON.parse(readFileSync(join(dir, name, 'summary.json'), 'utf8')) as Summary;
      expect(json.uncertainty).not.toBeNull();
      json.simulator = null;
      return JSON.stringify(json);
    };
    expect(text('a')).toBe(text('b'));
  });
});

describe('helpers', () => {
  it('bounds are the min and max of the two runs, leaving out a missing figure', () => {
    expect(bounds(2, 1)).toEqual({ low: 1, high: 2 });
    expect(bounds(null, 3)).toEqual({ low: 3, high: 3 });
    expect(bounds(null, null)).toEqual({ low: null, high: null });
  });

  it('a scaled model multiplies every time and states no band of its own', () => {
    const scaled = scaledLatencyModel(constantModel(), 1.5);
    expect(scaled.iterationTime_s({} as never)).toBeCloseTo(0.015, 15);
    expect(scaled.breakdown({} as never)[0].time_s).toBeCloseTo(0.015, 15);
    expect(scaled.uncertainty).toBeUndefined();
  });

  it('rejects a band that is not low ≤ 0 ≤ high', () => {
    const model = constantModel({ low: 0.1, high: 0.2, basis: 'bad' });
    expect(() => simulate(light(), { latency: model })).toThrow(/not −1 < low ≤ 0 ≤ high/);
  });
});
