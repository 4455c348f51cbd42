import { describe, expect, it } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import type { WorkloadSpec } from '../../sim/scenario/types.js';
import { createRequestStream } from '../../sim/workload/index.js';
import { drain, errorOf } from './helpers.js';

const base: WorkloadSpec = {
  arrival: { process: 'poisson', rate_per_s: 10 },
  input_tokens: { dist: 'lognormal', mean: 1000, sigma: 0.8 },
  output_tokens: { dist: 'uniform', min: 10, max: 300 },
  num_requests: 500,
};

describe('synthetic request streams', () => {
  it('yields num_requests requests with ids 0..n-1, then reports exhaustion', () => {
    const stream = createRequestStream(base, 42);
    expect(stream.exhausted()).toBe(false);
    const requests = drain(stream);
    expect(requests.map((r) => r.id)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(stream.exhausted()).toBe(true);
    expect(stream.next()).toBeUndefined();
    expect(stream.info).toEqual({ source: 'synthetic', loop: 'open', max_requests: 500, zero_output_rows: 0 });
  });

  it('same seed → same requests; another seed → different ones', () => {
    expect(drain(createRequestStream(base, 42))).toEqual(drain(createRequestStream(base, 42)));
    expect(drain(createRequestStream(base, 42))).not.toEqual(drain(createRequestStream(base, 43)));
  });

  it('each purpose has its own random stream: changing output_tokens changes neither arrivals nor inputs', () => {
    const a = drain(createRequestStream(base, 9));
    const b = drain(createRequestStream({ ...base, output_tokens: { dist: 'lognormal', mean: 50, sigma: 1 } }, 9));
    expect(b.map((r) => r.arrival_s)).toEqual(a.map((r) => r.arrival_s));
    expect(b.map((r) => r.input_tokens)).toEqual(a.map((r) => r.input_tokens));
    expect(b.map((r) => r.output_tokens)).not.toEqual(a.map((r) => r.output_tokens));
    const c = drain(createRequestStream({ ...base, arrival: { process: 'gamma', rate_per_s: 10, cv: 3 } }, 9));
    expect(c.map((r) => r.output_tokens)).toEqual(a.map((r) => r.output_tokens));
    expect(c.map((r) => r.arrival_s)).not.toEqual(a.map((r) => r.arrival_s));
  });

  it('duration_s alone bounds by time: constant 4/s for 10 s gives arrivals 0, 0.25, …, 9.75', () => {
    const spec: WorkloadSpec = { ...base, arrival: { process: 'constant', rate_per_s: 4 }, num_requests: undefined, duration_s: 10 };
    const requests = drain(createRequestStream(spec, 1));
    expect(requests.map((r) => r.arrival_s)).toEqual(Array.from({ length: 40 }, (_, k) => k / 4));
    expect(createRequestStream(spec, 1).info.max_requests).toBeUndefined();
  });

  it('with both bounds the stream stops at whichever comes first', () => {
    const arrival = { process: 'constant', rate_per_s: 1 } as const;
    expect(drain(createRequestStream({ ...base, arrival, num_requests: 3, duration_s: 100 }, 1))).toHaveLength(3);
    expect(drain(createRequestStream({ ...base, arrival, num_requests: 300, duration_s: 5 }, 1))).toHaveLength(5);
  });

  it('is lazy: a stream of a billion requests starts at once', () => {
    const started = performance.now();
    const stream = createRequestStream({ ...base, num_requests: 1e9 }, 1);
    for (let i = 0; i < 1000; i++) stream.next();
    expect(performance.now() - started).toBeLessThan(500);
    expect(stream.exhausted()).toBe(false);
  });

  it('open loop: completions release nothing', () => {
    const stream = createRequestStream({ ...base, num_requests: 2 }, 1);
    const [a, b] = drain(stream);
    expect(stream.onFinished(b.id, 1)).toBe(0);
    expect(stream.onFinished(a.id, 2)).toBe(0);
    expect(stream.exhausted()).toBe(true);
  });

  it('burst: all num_requests at t = 0', () => {
    const requests = drain(createRequestStream({ ...base, arrival: { process: 'burst' }, num_requests: 64 }, 1));
    expect(requests).toHaveLength(64);
    expect(requests.every((r) => r.arrival_s === 0)).toBe(true);
  });
});

describe('workload validation', () => {
  const trace = { path: '/nonexistent.csv', format: 'vidur' } as const;
  it.each<[string, WorkloadSpec, string]>([
    ['trace and lengths', { trace, input_tokens: { dist: 'fixed', value: 1 } }, 'workload.input_tokens: cannot be combined with workload.trace'],
    ['neither trace nor lengths', { arrival: { process: 'burst' }, num_requests: 1 }, 'workload: needs a trace, or input_tokens and output_tokens'],
    ['only input lengths', { input_tokens: { dist: 'fixed', value: 1 }, arrival: { process: 'burst' }, num_requests: 1 }, 'workload.output_tokens: required'],
    ['concurrency with arrival', { ...base, concurrency: 4 }, 'workload.concurrency: cannot be combined with workload.arrival'],
    ['no bound', { ...base, num_requests: undefined }, 'workload.num_requests: a synthetic workload needs num_requests or duration_s'],
    ['no arrival', { ...base, arrival: undefined }, 'workload.arrival: a synthetic workload needs an arrival process'],
    ['burst bounded by time only', { ...base, arrival: { process: 'burst' }, num_requests: undefined, duration_s: 5 }, 'workload.num_requests: required with arrival process "burst"'],
    ['negative rate', { ...base, arrival: { process: 'poisson', rate_per_s: -3 } }, 'workload.arrival.rate_per_s: must be ≥ 1e-9 and ≤ 1e9, got -3'],
    ['a duration that brings over 1e7 requests', { ...base, arrival: { process: 'poisson', rate_per_s: 1e4 }, num_requests: undefined, duration_s: 3600 }, "workload.duration_s: at rate_per_s 10000 it brings about 36,000,000 requests, more than the 1e7 a run can hold (the summary keeps every request's latencies); set workload.num_requests or a shorter duration, got 3600"],
    ['priority weights that overflow', { ...base, priority: { classes: [{ priority: 0, weight: 1e308 }, { priority: 1, weight: 1e308 }] } }, 'workload.priority.classes: the weights must sum to a finite number (they are relative: e.g. 1 and 3 for 25 % and 75 %), got [1e+308,1e+308]'],
    ['fractional num_requests', { ...base, num_requests: 2.5 }, 'workload.num_requests: must be an integer ≥ 1, got 2.5'],
    ['zero concurrency', { ...base, arrival: undefined, concurrency: 0 }, 'workload.concurrency: must be an integer ≥ 1, got 0'],
    ['speedup with arrival', { trace: { ...trace, speedup: 2 }, arrival: { process: 'burst' } }, 'workload.trace.speedup: has no effect'],
    ['columns on a named format', { trace: { ...trace, columns: { input_tokens: 'a', output_tokens: 'b' } } }, 'workload.trace.columns: only used with format csv, jsonl or arrow'],
    ['prefix fraction 0', { ...base, prefix: { groups: 2, tokens: 10, fraction: 0 } }, 'workload.prefix.fraction: must be in (0, 1], got 0'],
    ['prefix groups 0', { ...base, prefix: { groups: 0, tokens: 10, fraction: 1 } }, 'workload.prefix.groups: must be an integer ≥ 1, got 0'],
    ['no priority classes', { ...base, priority: { classes: [] } }, 'workload.priority.classes: must list at least one class'],
    ['zero class weight', { ...base, priority: { classes: [{ priority: 1, weight: 0 }] } }, 'workload.priority.classes[0].weight: must be a number > 0, got 0'],
    ['fractional max_tokens', { ...base, max_tokens: 1.5 }, 'workload.max_tokens: must be an integer ≥ 1, got 1.5'],
    ['uniform min > max', { ...base, output_tokens: { dist: 'uniform', min: 9, max: 2 } }, 'workload.output_tokens.min: must be ≤ max (2), got 9'],
  ])('%s', (_, spec, message) => {
    const error = errorOf(() => createRequestStream(spec, 1));
    expect(error).toBeInstanceOf(InfersimError);
    expect(error.message).toContain(message);
  });
});
