import { describe, expect, it } from 'vitest';
import { MetricsSink } from '../../sim/metrics/sink.js';
import { outcome } from './helpers.js';

const sinkOf = (replicas: number) => new MetricsSink({ dir: undefined, writeTokens: false, replicas, warmup_s: 0, slo: {} });

/** A finished request on `replica` from `arrival_s` to `finish_s`, three tokens, priority `priority`. */
const served = (request_id: number, replica: number, arrival_s: number, finish_s: number, priority = 0) =>
  outcome({ request_id, replica, arrival_s, first_scheduled_s: arrival_s, token_times_s: [finish_s - 0.2, finish_s - 0.1, finish_s], finish_s, priority });

describe('replicas added and retired during a run (seam 8a, metrics side)', () => {
  it('integrates GPU-hours over each lifetime and gives every replica that served an entry', () => {
    // A 40 s run (first arrival 0, last finish 40) on 2 replicas of 2 GPUs: replica 2 joins at
    // 10 s, replica 1 leaves at 30 s. GPU-seconds: 2 × 40 + 2 × 30 (1: 0 → 30) + 2 × 30 (2: 10 → 40) = 200.
    const sink = sinkOf(2);
    sink.recordRequest(served(0, 1, 0, 25));
    expect(sink.addReplica(10, 2)).toBe(2);
    expect(sink.replicas).toBe(3);
    sink.recordStepStamp(2, 0, 12.5);
    sink.recordRequest(served(1, 2, 12, 20));
    sink.retireReplica(1, 30);
    sink.recordRequest(served(2, 0, 1, 40));
    const s = sink.finish({ gpus: 4, usd_per_gpu_hour: 3.6 });

    expect(s.makespan_s).toBe(40);
    expect(s.cost.gpu_hours).toBeCloseTo(200 / 3600, 15);
    expect(s.cost.usd_total).toBeCloseTo((200 / 3600) * 3.6, 15);
    // Every GPU that served: 4 from the start, 2 added.
    expect(s.cost.gpus).toBe(6);
    expect(s.per_replica.map(({ replica, start_s, end_s, gpu_hours, requests }) => ({ replica, start_s, end_s, gpu_hours, total: requests.total }))).toEqual([
      { replica: 0, start_s: null, end_s: null, gpu_hours: (2 * 40) / 3600, total: 1 },
      { replica: 1, start_s: null, end_s: 30, gpu_hours: (2 * 30) / 3600, total: 1 },
      { replica: 2, start_s: 10, end_s: null, gpu_hours: (2 * 30) / 3600, total: 1 },
    ]);
    expect(s.per_replica.reduce((sum, r) => sum + (r.gpu_hours as number), 0)).toBeCloseTo(s.cost.gpu_hours as number, 15);
    expect(s.overall.requests.total).toBe(3);
  });

  it('leaves a fixed fleet as it was: no lifetime fields, GPU-hours as gpus × makespan ÷ 3600 to the bit', () => {
    const sink = sinkOf(2);
    sink.recordRequest(served(0, 0, 0.1, 7.3));
    sink.recordRequest(served(1, 1, 0.2, 3.9));
    const s = sink.finish({ gpus: 6, usd_per_gpu_hour: 2.5 });
    expect(s.cost.gpu_hours).toBe((6 * (7.3 - 0.1)) / 3600);
    expect(s.cost.gpus).toBe(6);
    expect(Object.keys(s.per_replica[0]).slice(0, 2)).toEqual(['replica', 'requests']);
  });

  it("keeps per-priority ITL complete when a replica joins before and after a second class appears", () => {
    const sink = sinkOf(1);
    sink.recordRequest(served(0, 0, 0, 2));
    sink.addReplica(1, 1);
    sink.recordRequest(served(1, 1, 1, 3));
    // The second class: the first one's gaps so far are copied from every replica's pool, the added one's too.
    sink.recordRequest(served(2, 0, 2, 4, 1));
    sink.addReplica(3, 1);
    sink.recordRequest(served(3, 2, 3, 5, 0));
    sink.recordRequest(served(4, 2, 3, 6, 1));
    const s = sink.finish({ gpus: 1, usd_per_gpu_hour: 1 });
    expect(s.overall.itl_s.count).toBe(10);
    expect(s.per_priority.map((p) => [p.priority, p.itl_s.count])).toEqual([[0, 6], [1, 4]]);
  });

  it('refuses what cannot be: an unknown replica, a second retirement, retiring before joining', () => {
    const sink = sinkOf(1);
    expect(() => sink.recordRequest(served(0, 1, 0, 1))).toThrow(/replica 1 outside 0\.\.0/);
    const added = sink.addReplica(5, 2);
    expect(() => sink.retireReplica(added, 4)).toThrow(/before it was added/);
    expect(() => sink.retireReplica(2, 6)).toThrow(/no such replica/);
    expect(() => sink.addReplica(6, 0)).toThrow(/positive integer/);
    sink.retireReplica(0, 6);
    expect(() => sink.retireReplica(0, 7)).toThrow(/retired twice/);
  });
});
