import { describe, expect, it } from 'vitest';
import { MetricsSink, type MetricsSinkOptions } from '../../sim/metrics/sink.js';
import { summaryJson, type FinishContext, type Summary } from '../../sim/metrics/summary.js';
import { formatSummaryTable } from '../../sim/metrics/table.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import { iteration, outcome, timed } from './helpers.js';

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
    expect(s.overall.requests).toEqual({ total: 4, finished: 2, rejected: 1, timed_out: 1, failed: 0, measured: 4 });
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
    expect(r0.requests).toEqual({ total: 2, finished: 2, rejected: 0, timed_out: 0, failed: 0, measured: 2 });
    expect(r1.requests).toEqual({ total: 2, finished: 1, rejected: 1, timed_out: 0, failed: 0, measured: 2 });
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

describe('overall statistics over several replicas', () => {
  it('add every sample in record order, replica by replica, and select the pooled percentiles exactly', () => {
    // Values whose float sum depends on the order they are added in.
    let x = 12345;
    const next = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 3;
    const outcomes = Array.from({ length: 120 }, (_, i) => timed(i, i, 0.1 + next() * (i % 5 === 0 ? 1e6 : 1), 0.01 + next() / 100, i % 3));
    const s = run(outcomes, { replicas: 3 });
    const byReplica = [0, 1, 2].map((r) => outcomes.filter((o) => o.replica === r).map((o) => (o.token_times_s[0] as number) - o.arrival_s));
    let sum = 0;
    for (const v of byReplica.flat()) sum += v;
    expect(s.overall.ttft_s.mean).toBe(sum / 120);
    const sorted = byReplica.flat().sort((a, b) => a - b);
    const h = 119 * 0.9;
    expect(s.overall.ttft_s.p90).toBe(sorted[Math.floor(h)] + (h - Math.floor(h)) * (sorted[Math.floor(h) + 1] - sorted[Math.floor(h)]));
    expect(s.per_replica.map((r) => r.ttft_s.count)).toEqual([40, 40, 40]);
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
      'makespan_s', 'warmup_s', 'measured_window_s', 'slo_targets', 'overall', 'per_replica', 'per_priority', 'kv', 'cost', 'events', 'uncertainty', 'simulator', 'notes', 'latency', 'scenario',
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

  it('prints the cost as GPUs × hours = GPU-hours × rate, each figure once', () => {
    // 4 GPUs over a 900 s makespan: 0.25 h each, 1 GPU-h, at $3.60 per GPU-hour.
    const s = run([timed(0, 0, 0.1, 0.01)], {}, { ...CTX, makespan_s: 900 });
    expect(s.cost.gpu_hours).toBeCloseTo(1, 12);
    expect(formatSummaryTable(s)).toMatch(/cost\s+4 GPUs × 0\.250 h = 1\.000 GPU-h × \$3\.60\/GPU-h = \$3\.60 /);
  });

  it('derives KV utilization from iterations when the engine gives none', () => {
    const sink = new MetricsSink({ dir: undefined, writeTokens: false, replicas: 1, warmup_s: 0, slo: {} });
    sink.recordIteration(iteration({ replica: 0, start_s: 0, end_s: 1, prefill_seqs: 1, prefill_tokens: 10, kv_blocks_used: 20, kv_blocks_total: 100, running: 1 }));
    sink.recordIteration(iteration({ replica: 0, start_s: 1, end_s: 4, decode_seqs: 1, decode_tokens: 1, kv_blocks_used: 60, kv_blocks_total: 100, running: 1 }));
    const s = sink.finish(CTX);
    // Duration-weighted: (0.2 × 1 + 0.6 × 3) / 4.
    expect(s.kv).toMatchObject({ source: 'iterations', max_utilization: 0.6 });
    expect(s.kv?.mean_utilization).toBeCloseTo(0.5, 12);
  });
});

describe('parallel samples', () => {
  it('count output tokens once per sample returned, input tokens once per request', () => {
    // Request 0 returns 3 samples of 2 tokens (best of 4); request 1 one sample of 2. Makespan 2 s.
    const s = run([{ ...timed(0, 1, 0.1, 0.1), samples: 3, sequences: 4 }, timed(1, 2, 0.5, 0.5)]);
    expect(s.overall.tokens).toEqual({ input: 200, output: 2 * 3 + 2 });
    expect(s.overall.throughput.output_tokens_per_s).toBeCloseTo(8 / 2, 12);
    expect(s.overall.throughput.total_tokens_per_s).toBeCloseTo(208 / 2, 12);
    expect(s.cost.usd_per_million_output_tokens).toBeCloseTo(((8 / 3600) * 3.6 * 1e6) / 8, 6);
    // TPOT stays per sample stream: (0.2 − 0.1) ÷ (2 − 1) for both.
    expect(s.overall.tpot_s.max).toBeCloseTo(0.5, 12);
    expect(s.overall.tpot_s.p50).toBeCloseTo(0.3, 12);
  });

  it('make every generated sequence a prefix-cache lookup, over requests scheduled at least once', () => {
    const s = run([
      outcome({ request_id: 0, input_tokens: 100, samples: 2, sequences: 4, cached_tokens: 150 }),
      outcome({ request_id: 1, input_tokens: 200, cached_tokens: 50 }),
      // Scheduled, then timed out: its lookups count.
      outcome({ request_id: 2, input_tokens: 10, sequences: 2, cached_tokens: 4, status: 'timed_out', finish_s: 9 }),
      // Never scheduled: no lookup at all.
      rejected(3, 1, 0),
    ]);
    // (150 + 50 + 4) ÷ (100 × 4 + 200 + 10 × 2).
    expect(s.overall.prefix_cache).toEqual({ hit_rate: 204 / 620, cached_tokens: 204, input_tokens: 620 });
  });
});

describe('per-priority summaries', () => {
  const p = (o: RequestOutcome, priority: number): RequestOutcome => ({ ...o, priority });

  it('give one entry per priority seen, ascending, with warmup, SLO and pooled ITL per class', () => {
    const outcomes = [
      p(timed(0, 10, 0.1, 0.01, 0), 0),
      p(timed(1, 11, 0.3, 0.02, 1), 0),
      p(rejected(2, 12), 0),
      p(timed(3, 10.5, 1.0, 0.05, 1), 5),
      // Warm-up: counted, but not in latency statistics or SLO figures.
      p(timed(4, 0, 9, 0.5, 0), 5),
      p(outcome({ request_id: 5, replica: 0, arrival_s: 12, status: 'timed_out', token_times_s: [12.2, 12.3], output_tokens: 2, first_scheduled_s: 12, finish_s: 13 }), 5),
      p(timed(6, 11, 0.2, 0.04, 0), 1),
    ];
    const s = run(outcomes, { replicas: 2, warmup_s: 10, slo: { ttft_ms: 500 } });
    expect(s.per_priority.map((g) => g.priority)).toEqual([0, 1, 5]);
    const [p0, p1, p5] = s.per_priority;
    expect(p0.requests).toEqual({ total: 3, finished: 2, rejected: 1, timed_out: 0, failed: 0, measured: 3 });
    expect(p5.requests).toEqual({ total: 3, finished: 2, rejected: 0, timed_out: 1, failed: 0, measured: 2 });
    expect(p0.ttft_s).toMatchObject({ count: 2, p50: expect.closeTo(0.2, 9), max: expect.closeTo(0.3, 9) });
    expect(p5.ttft_s).toMatchObject({ count: 1, max: expect.closeTo(1.0, 9) });
    expect(p5.e2e_s.max).toBeCloseTo(1.05, 9);
    expect(p1.queueing_delay_s.count).toBe(1);
    // p0: 0.1 and 0.3 s meet 500 ms, the rejection misses; p5: 1.0 s misses, the time-out misses.
    expect([p0.slo.met, p0.slo.attainment]).toEqual([2, 2 / 3]);
    expect([p5.slo.met, p5.slo.attainment]).toEqual([0, 0]);
    expect(p1.slo.attainment).toBe(1);
    // ITL gaps gathered per class across both replicas' pools: p0 0.01 (r0) and 0.02 (r1); p5 only 0.05 (r1).
    expect([p0.itl_s.count, p0.itl_s.p50, p0.itl_s.max]).toEqual([2, expect.closeTo(0.015, 9), expect.closeTo(0.02, 9)]);
    expect([p5.itl_s.count, p5.itl_s.max]).toEqual([1, expect.closeTo(0.05, 9)]);
    expect([p1.itl_s.count, p1.itl_s.max]).toEqual([1, expect.closeTo(0.04, 9)]);
    // The pools' own statistics are unaffected by the gathering.
    expect([s.overall.itl_s.count, s.overall.itl_s.max]).toEqual([4, expect.closeTo(0.05, 9)]);
    expect(s.per_replica[1].itl_s.count).toBe(2);
    // Classes partition the requests: counts and throughputs add up to overall.
    const total = (f: (g: Summary['overall']) => number) => s.per_priority.reduce((acc, g) => acc + f(g), 0);
    expect(total((g) => g.requests.total)).toBe(s.overall.requests.total);
    expect(total((g) => g.slo.met)).toBe(s.overall.slo.met);
    expect(total((g) => g.throughput.requests_per_s ?? 0)).toBeCloseTo(s.overall.throughput.requests_per_s ?? -1, 12);

    const table = formatSummaryTable(s);
    expect(table).toMatch(/per priority\s+requests\s+TTFT p50\s+TTFT p99\s+SLO/);
    expect(table).toMatch(/\n {2}0 {10}\s+3\s+200\.0\s+298\.0\s+66\.7 %/);
    expect(table).toMatch(/\n {2}5 {10}\s+3\s+1,000\.0\s+1,000\.0\s+0\.0 %/);
  });

  it('give a single entry equal to overall when every request has one priority', () => {
    const s = run([timed(0, 0, 0.1, 0.01), timed(1, 1, 0.3, 0.02), rejected(2, 2)], { slo: { ttft_ms: 200 } });
    expect(s.per_priority).toEqual([{ priority: 0, ...s.overall }]);
    expect(formatSummaryTable(s)).not.toMatch(/per priority/);
    expect(run([]).per_priority).toEqual([]);
  });

  it('reuse the overall percentiles for a lone class only when both cover the same requests', () => {
    const pools = [
      { name: 'a', model: 'm', gpu: 'g', usd_per_gpu_hour: 1, shadow: false },
      { name: 's', model: 'm', gpu: 'g', usd_per_gpu_hour: 1, shadow: true },
    ];
    // A client request on the shadow pool's replica is its class's but not overall's; a mirrored
    // copy on the client pool's replica is overall's but not the class's: two TTFTs each.
    const outcomes = [timed(0, 0, 0.1, 0.01, 0), timed(1, 1, 0.2, 0.01, 1), { ...timed(2, 2, 0.4, 0.01, 0), shadow: true }];
    const s = run(outcomes, { replicas: 2, pools, replica_pools: [0, 1] });
    expect([s.overall.ttft_s.count, s.overall.ttft_s.p50]).toEqual([2, expect.closeTo(0.25, 12)]);
    expect(s.per_priority).toHaveLength(1);
    expect(s.per_priority[0].ttft_s).toMatchObject({ count: 2, p50: expect.closeTo(0.15, 12), max: expect.closeTo(0.2, 12) });
    // Without such rows the lone class's figures are overall's, the mean summed in the class's
    // (recording) order: 0.1 + 0.2 + 0.3 = 0.6000000000000001, where overall sums replica 0's
    // 0.2 + 0.3 before replica 1's 0.1 = 0.6.
    const plain = run([timed(0, 0, 0.1, 0.01, 1), timed(1, 0, 0.2, 0.01, 0), timed(2, 0, 0.3, 0.01, 0)], { replicas: 2 });
    expect(plain.overall.ttft_s.mean).toBe(0.6 / 3);
    expect(plain.per_priority[0].ttft_s).toEqual({ ...plain.overall.ttft_s, mean: (0.1 + 0.2 + 0.3) / 3 });
    expect(plain.per_priority[0].ttft_s.mean).not.toBe(plain.overall.ttft_s.mean);
  });
});

describe('KV figures from iterations', () => {
  function kvRun(block_size?: number): Summary {
    const sink = new MetricsSink({ dir: undefined, writeTokens: false, replicas: 1, warmup_s: 0, slo: {}, block_size });
    // used, total, …, cached, swapped, unused slots, swap in, swap out, evicted.
    sink.recordIteration(iteration({ replica: 0, start_s: 0, end_s: 1, prefill_seqs: 1, prefill_tokens: 10, kv_blocks_used: 20, kv_blocks_total: 100, running: 1, kv_blocks_cached: 10, kv_slots_unused: 40, swap_out_blocks: 4, kv_blocks_evicted: 1 }));
    sink.recordIteration(iteration({ replica: 0, start_s: 1, end_s: 4, decode_seqs: 1, decode_tokens: 1, kv_blocks_used: 60, kv_blocks_total: 100, running: 1, swapped: 1, kv_blocks_cached: 2, kv_blocks_swapped: 4, kv_slots_unused: 96, swap_in_blocks: 4, kv_blocks_evicted: 2 }));
    // Holds no block: its fragmentation is undefined and skipped.
    sink.recordIteration(iteration({ replica: 0, start_s: 4, end_s: 5, kv_blocks_total: 100, kv_blocks_cached: 30 }));
    return sink.finish({ ...CTX, kv: { block_size: 16, usable_blocks: 100 } });
  }

  it('weights means by iteration duration and totals the moves', () => {
    const kv = kvRun(16).kv as Record<string, number>;
    expect(Object.keys(kv)).toEqual([
      'source', 'mean_utilization', 'max_utilization', 'cached_blocks_mean', 'cached_blocks_max', 'swapped_blocks_mean', 'swapped_blocks_max',
      'fragmentation_mean', 'fragmentation_max', 'swap_in_blocks', 'swap_out_blocks', 'evicted_blocks', 'block_size', 'usable_blocks',
    ]);
    // (0.2 × 1 + 0.6 × 3 + 0 × 1) ÷ 5.
    expect(kv.mean_utilization).toBeCloseTo(0.4, 12);
    expect(kv.max_utilization).toBe(0.6);
    // (10 × 1 + 2 × 3 + 30 × 1) ÷ 5 and (0 + 4 × 3 + 0) ÷ 5.
    expect(kv.cached_blocks_mean).toBeCloseTo(9.2, 12);
    expect(kv.cached_blocks_max).toBe(30);
    expect(kv.swapped_blocks_mean).toBeCloseTo(2.4, 12);
    expect(kv.swapped_blocks_max).toBe(4);
    // 40 ÷ (20 × 16) = 0.125 for 1 s, 96 ÷ (60 × 16) = 0.1 for 3 s; the empty iteration is skipped.
    expect(kv.fragmentation_mean).toBeCloseTo((0.125 * 1 + 0.1 * 3) / 4, 12);
    expect(kv.fragmentation_max).toBe(0.125);
    expect([kv.swap_in_blocks, kv.swap_out_blocks, kv.evicted_blocks]).toEqual([4, 4, 3]);
    expect([kv.block_size, kv.usable_blocks]).toEqual([16, 100]);
  });

  it('leaves fragmentation null without a block size', () => {
    const kv = kvRun().kv as Record<string, unknown>;
    expect([kv.fragmentation_mean, kv.fragmentation_max]).toEqual([null, null]);
    expect(kv.cached_blocks_mean).toBeCloseTo(9.2, 12);
  });

  it('shows fragmentation, the prefix cache and swap in the table', () => {
    const s = kvRun(16);
    const table = formatSummaryTable(s);
    expect(table).toMatch(/KV use\s+mean 40\.0 %\s+max 60\.0 %\s+fragmentation mean 10\.6 % max 12\.5 %/);
    expect(table).toMatch(/prefix cache hits - of 0 prompt tokens looked up\s+cached blocks mean 9\.2 max 30\s+evicted 3 blocks/);
    expect(table).toMatch(/swap\s+in 4 blocks\s+out 4 blocks\s+swapped mean 2\.4 max 4 blocks/);
    // Without caching or swap activity those lines stay out.
    const plain = formatSummaryTable(run([timed(0, 0, 0.1, 0.01)]));
    expect(plain).not.toMatch(/prefix cache|swap /);
  });

  it('shows the hit rate on its own line once a request hits', () => {
    const table = formatSummaryTable(run([outcome({ cached_tokens: 50, sequences: 2, samples: 2 })]));
    expect(table).toMatch(/prefix cache hits 25\.0 % of 200 prompt tokens looked up/);
  });
});
