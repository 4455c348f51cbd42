import { describe, expect, it } from 'vitest';
import { MetricsSink, type MetricsSinkOptions } from '../../sim/metrics/sink.js';
import { formatSummaryTable, summaryJson, type FinishContext, type Summary } from '../../sim/metrics/summary.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import { outcome, timed } from './helpers.js';

const CTX: FinishContext = { gpus: 4, usd_per_gpu_hour: 3.6 };

function run(outcomes: RequestOutcome[], opts: Partial<MetricsSinkOptions> = {}, ctx: FinishContext = CTX): Summary {
  const sink = new MetricsSink({ dir: undefined, writeTokens: false, replicas: 1, warmup_s: 0, slo: {}, ...opts });
  for (const o of outcomes) sink.recordRequest(o);
  return sink.finish(ctx);
}

const rejected = (request_id: number, arrival_s: number, replica = -1) =>
  outcome({ request_id, replica, arrival_s, status: 'rejected', token_times_s: [], output_tokens: 0, first_scheduled_s: NaN, finish_s: arrival_s });

describe('summary statistics', () => {
  it('gives hand-checked percentiles over finished requests', () => {
    const ttfts = [1.0, 0.3, 0.1, 0.4, 0.2];
    const s = run(ttfts.map((ttft, i) => timed(i, i, ttft, 0.05)));
    expect(s.overall.ttft_s.count).toBe(5);
    expect(s.overall.ttft_s.mean).toBeCloseTo(0.4, 9);
    expect(s.overall.ttft_s.p50).toBeCloseTo(0.3, 9);
    expect(s.overall.ttft_s.p90).toBeCloseTo(0.76, 9);
    expect(s.overall.ttft_s.p99).toBeCloseTo(0.976, 9);
    expect(s.overall.ttft_s.max).toBeCloseTo(1.0, 9);
    expect(s.overall.tpot_s.p50).toBeCloseTo(0.05, 9);
    // Queueing delay is first scheduled − arrival; `timed` schedules on arrival.
    expect(s.overall.queueing_delay_s.max).toBe(0);
  });

  it('pools every gap of every request for ITL', () => {
    // Gaps 0.1, 0.2 and 0.4, 0.3 → pooled [0.1, 0.2, 0.3, 0.4]: p50 = 0.25.
    const s = run([outcome(), outcome({ request_id: 1, token_times_s: [2, 2.4, 2.7], finish_s: 2.7 })]);
    expect(s.overall.itl_s.count).toBe(4);
    expect(s.overall.itl_s.p50).toBeCloseTo(0.25, 9);
    expect(s.overall.itl_s.max).toBeCloseTo(0.4, 9);
  });

  it('measures throughput, makespan and cost over finished requests', () => {
    // Arrivals at 1 and 2; last finish 1 + 0.5 + 0.5 = 3 → makespan 2 s.
    const s = run([timed(0, 1, 0.1, 0.1), timed(1, 2, 0.5, 0.5), rejected(2, 1.5)]);
    expect(s.makespan_s).toBeCloseTo(2, 12);
    expect(s.overall.throughput.requests_per_s).toBeCloseTo(1, 12);
    expect(s.overall.throughput.output_tokens_per_s).toBeCloseTo(2, 12);
    expect(s.overall.throughput.total_tokens_per_s).toBeCloseTo(102, 12);
    expect(s.cost.gpu_hours).toBeCloseTo((4 * 2) / 3600, 15);
    expect(s.cost.usd_per_million_output_tokens).toBeCloseTo(((8 / 3600) * 3.6 * 1e6) / 4, 6);
    expect(s.cost.usd_per_million_total_tokens).toBeCloseTo(((8 / 3600) * 3.6 * 1e6) / 204, 6);
  });

  it('lets the caller override the makespan', () => {
    const s = run([timed(0, 1, 0.1, 0.1)], {}, { ...CTX, makespan_s: 10 });
    expect(s.makespan_s).toBe(10);
    expect(s.overall.throughput.requests_per_s).toBeCloseTo(0.1, 12);
  });

  it('reports an empty run with nulls and no NaN anywhere in the JSON', () => {
    const s = run([]);
    expect(s.makespan_s).toBeNull();
    expect(s.overall.ttft_s.p99).toBeNull();
    expect(s.overall.throughput.requests_per_s).toBeNull();
    expect(s.overall.slo.attainment).toBeNull();
    expect(s.cost.usd_per_million_output_tokens).toBeNull();
    expect(summaryJson(s)).not.toMatch(/NaN|Infinity/);
    expect(formatSummaryTable(s)).toMatch(/requests\s+0 /);
  });
});

describe('SLO attainment and goodput', () => {
  it('counts rejected and timed-out requests as misses', () => {
    const timedOut = outcome({ request_id: 3, arrival_s: 3, status: 'timed_out', token_times_s: [3.05], output_tokens: 1, finish_s: 9 });
    // Requests 0 (ttft 0.1) meets; 1 (ttft 0.3) misses; 2 rejected; 3 timed out despite a fast first token.
    const s = run([timed(0, 0, 0.1, 0.01), timed(1, 1, 0.3, 0.01), rejected(2, 2), timedOut], { slo: { ttft_ms: 200 } });
    expect(s.overall.requests).toEqual({ total: 4, finished: 2, rejected: 1, timed_out: 1, measured: 4 });
    expect(s.overall.slo.met).toBe(1);
    expect(s.overall.slo.attainment).toBe(0.25);
    expect(s.overall.slo.goodput_req_per_s).toBeCloseTo(1 / 9, 12);
    // Latency statistics are over finished requests only.
    expect(s.overall.ttft_s.count).toBe(2);
    expect(s.slo_targets).toEqual({ ttft_ms: 200, tpot_ms: null, e2e_ms: null });
  });

  it('requires every given target, and lets a 1-token request meet TPOT', () => {
    const one = outcome({ request_id: 2, arrival_s: 2, token_times_s: [2.1], output_tokens: 1, first_scheduled_s: 2, finish_s: 2.1 });
    const s = run([timed(0, 0, 0.1, 0.01), timed(1, 1, 0.1, 0.09), one], { slo: { ttft_ms: 200, tpot_ms: 50, e2e_ms: 150 } });
    // 0: e2e 0.11 ok; 1: tpot 90 ms misses; 2: no TPOT, e2e 0.1 → meets.
    expect(s.overall.slo.met).toBe(2);
    const strictE2e = run([timed(0, 0, 0.1, 0.01), one], { slo: { e2e_ms: 105 } });
    expect(strictE2e.overall.slo.met).toBe(1);
  });

  it('treats every finished request as meeting when no SLO is set', () => {
    const s = run([timed(0, 0, 5, 5), rejected(1, 1)]);
    expect(s.overall.slo.attainment).toBe(0.5);
  });
});

describe('warmup', () => {
  it('excludes early arrivals from latency stats and SLO figures but not from totals', () => {
    // Arrival 0 is warm-up (ttft 9 s, would dominate); arrivals 10 and 11 are measured.
    const outcomes = [timed(0, 0, 9, 0.5), timed(1, 10, 0.1, 0.01), timed(2, 11, 0.3, 0.01)];
    const s = run(outcomes, { warmup_s: 10, slo: { ttft_ms: 200 } });
    expect(s.warmup_s).toBe(10);
    expect(s.overall.requests.total).toBe(3);
    expect(s.overall.requests.measured).toBe(2);
    expect(s.overall.ttft_s.count).toBe(2);
    expect(s.overall.ttft_s.max).toBeCloseTo(0.3, 9);
    expect(s.overall.itl_s.count).toBe(2);
    expect(s.overall.slo.attainment).toBe(0.5);
    // Throughput keeps every finished request over the whole makespan (0 → 11.31).
    expect(s.makespan_s).toBeCloseTo(11.31, 9);
    expect(s.overall.throughput.requests_per_s).toBeCloseTo(3 / 11.31, 9);
    // Goodput: 1 request over end of run − first measured arrival.
    expect(s.measured_window_s).toBeCloseTo(1.31, 9);
    expect(s.overall.slo.goodput_req_per_s).toBeCloseTo(1 / 1.31, 9);
  });
});

describe('per-replica summaries', () => {
  it('are indexed from 0, exclude requests rejected before routing, and add up to overall', () => {
    const outcomes = [timed(0, 0, 0.1, 0.01, 0), timed(1, 1, 0.3, 0.02, 0), timed(2, 2, 0.5, 0.04, 1), rejected(3, 3, -1), rejected(4, 3, 1)];
    const s = run(outcomes, { replicas: 2, slo: { ttft_ms: 400 } });
    expect(s.per_replica).toHaveLength(2);
    const [r0, r1] = s.per_replica;
    expect(r0.requests).toEqual({ total: 2, finished: 2, rejected: 0, timed_out: 0, measured: 2 });
    expect(r1.requests).toEqual({ total: 2, finished: 1, rejected: 1, timed_out: 0, measured: 2 });
    expect(s.overall.requests.total).toBe(5);
    expect(r0.ttft_s.p50).toBeCloseTo(0.2, 9);
    expect(r1.ttft_s.p50).toBeCloseTo(0.5, 9);
    expect(s.overall.ttft_s.p50).toBeCloseTo(0.3, 9);
    expect([r0.itl_s.count, r0.itl_s.max, r1.itl_s.count, r1.itl_s.max]).toEqual([2, expect.closeTo(0.02, 9), 1, expect.closeTo(0.04, 9)]);
    expect(s.overall.itl_s.p50).toBeCloseTo(0.02, 9);
    expect(r0.slo.attainment).toBe(1);
    expect(r1.slo.attainment).toBe(0);
    expect(s.overall.slo.attainment).toBeCloseTo(2 / 5, 12);
    expect((r0.throughput.requests_per_s ?? 0) + (r1.throughput.requests_per_s ?? 0)).toBeCloseTo(s.overall.throughput.requests_per_s ?? -1, 12);
  });
});

describe('summary.json and table', () => {
  it('passes ctx extras through and keeps a stable key order', () => {
    const ctx: FinishContext = {
      ...CTX,
      kv: { mean_utilization: 0.5, max_utilization: 0.9, blocks_total: 1000 },
      scenario: { seed: 7, model: 'x' },
      simulator: { wall_s: 1.5, events: 3000, events_per_s: 2000 },
      notes: ['latency: roofline for attention'],
      latency: { model: 'roofline', sources: ['modelled'] },
    };
    const s = run([timed(0, 0, 0.1, 0.01), outcome({ request_id: 1, cached_tokens: 50, preemptions: 2 })], { slo: { ttft_ms: 200 } }, ctx);
    const json = JSON.parse(summaryJson(s));
    expect(Object.keys(json)).toEqual([
      'makespan_s', 'warmup_s', 'measured_window_s', 'slo_targets', 'overall', 'per_replica', 'kv', 'cost', 'simulator', 'notes', 'latency', 'scenario',
    ]);
    expect(Object.keys(json.overall)).toEqual([
      'requests', 'tokens', 'throughput', 'ttft_s', 'tpot_s', 'itl_s', 'e2e_s', 'queueing_delay_s', 'slo', 'preemptions', 'prefix_cache',
    ]);
    expect(Object.keys(json.overall.ttft_s)).toEqual(['count', 'mean', 'p50', 'p90', 'p95', 'p99', 'max']);
    expect(json.kv).toEqual(ctx.kv);
    expect(json.scenario).toEqual({ seed: 7, model: 'x' });
    expect(json.latency).toEqual({ model: 'roofline', sources: ['modelled'] });
    expect(json.overall.preemptions).toBe(2);
    expect(json.overall.prefix_cache.hit_rate).toBeCloseTo(50 / 200, 12);

    const table = formatSummaryTable(s);
    expect(table).toMatch(/TTFT\s+300\.0\s/); // p50 of 0.1 and 0.5 s, in ms
    expect(table).toMatch(/KV use\s+mean 50\.0 %\s+max 90\.0 %/);
    expect(table).toMatch(/preemptions\s+2/);
    expect(table).toMatch(/TTFT ≤ 200 ms: 50\.0 % attained/);
  });

  it('derives KV utilization from iterations when the engine gives none', () => {
    const sink = new MetricsSink({ dir: undefined, writeTokens: false, replicas: 1, warmup_s: 0, slo: {} });
    sink.recordIteration(0, 0, 1, 1, 0, 10, 0, 20, 100, 0, 1, 0, 0);
    sink.recordIteration(0, 1, 4, 0, 1, 0, 1, 60, 100, 0, 1, 0, 0);
    const s = sink.finish(CTX);
    // Duration-weighted: (0.2 × 1 + 0.6 × 3) / 4.
    expect(s.kv).toMatchObject({ source: 'iterations', max_utilization: 0.6 });
    expect(s.kv?.mean_utilization).toBeCloseTo(0.5, 12);
  });
});
