import { describe, expect, it } from 'vitest';
import type { WorkloadSpec } from '../../sim/scenario/types.js';
import { createRequestStream } from '../../sim/workload/index.js';
import { drain, tempFile } from './helpers.js';

const lengths: WorkloadSpec = { input_tokens: { dist: 'fixed', value: 100 }, output_tokens: { dist: 'fixed', value: 10 } };

describe('closed loop (concurrency)', () => {
  it('releases N at t = 0, then one per completion at the completion time', () => {
    const stream = createRequestStream({ ...lengths, concurrency: 3, num_requests: 5 }, 1);
    expect(stream.info.loop).toBe('closed');
    expect(drain(stream).map((r) => [r.id, r.arrival_s])).toEqual([[0, 0], [1, 0], [2, 0]]);
    expect(stream.next()).toBeUndefined();
    expect(stream.exhausted()).toBe(false);
    expect(stream.onFinished(1, 2.5)).toBe(1);
    expect(stream.onFinished(0, 3)).toBe(1);
    expect(stream.exhausted()).toBe(false);
    expect(stream.next()).toMatchObject({ id: 3, arrival_s: 2.5 });
    expect(stream.next()).toMatchObject({ id: 4, arrival_s: 3 });
    expect(stream.exhausted()).toBe(true);
    expect(stream.onFinished(2, 4)).toBe(0);
    expect(stream.next()).toBeUndefined();
  });

  it('releases only min(N, total) at the start', () => {
    const stream = createRequestStream({ ...lengths, concurrency: 10, num_requests: 4 }, 1);
    expect(drain(stream)).toHaveLength(4);
    expect(stream.exhausted()).toBe(true);
  });

  it('duration_s: a completion at or after it releases nothing more', () => {
    const stream = createRequestStream({ ...lengths, concurrency: 2, duration_s: 10 }, 1);
    expect(drain(stream)).toHaveLength(2);
    expect(stream.onFinished(0, 9.5)).toBe(1);
    expect(stream.next()).toMatchObject({ id: 2, arrival_s: 9.5 });
    expect(stream.onFinished(1, 10)).toBe(0);
    expect(stream.next()).toBeUndefined();
    expect(stream.exhausted()).toBe(true);
  });

  it('an unknown or repeated completion, or time running backwards, is a bug and throws', () => {
    const stream = createRequestStream({ ...lengths, concurrency: 2, num_requests: 10 }, 1);
    drain(stream);
    expect(() => stream.onFinished(7, 1)).toThrow(/request 7 finished but is not in flight/);
    stream.onFinished(0, 5);
    expect(() => stream.onFinished(0, 6)).toThrow(/not in flight/);
    expect(() => stream.onFinished(1, 4)).toThrow(/before an earlier one/);
  });

  it('with a trace: the trace’s lengths in order, its timestamps ignored', () => {
    const path = tempFile('v.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,11,1\n50,22,2\n90,33,3\n');
    const stream = createRequestStream({ trace: { path, format: 'vidur' }, concurrency: 2 }, 1);
    expect(drain(stream).map((r) => [r.arrival_s, r.input_tokens, r.output_tokens])).toEqual([[0, 11, 1], [0, 22, 2]]);
    stream.onFinished(0, 1.25);
    expect(stream.next()).toMatchObject({ id: 2, arrival_s: 1.25, input_tokens: 33, output_tokens: 3 });
    expect(stream.exhausted()).toBe(true);
  });
});
