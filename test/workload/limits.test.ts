import { describe, expect, it } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import type { WorkloadSpec } from '../../sim/scenario/types.js';
import { createRequestStream } from '../../sim/workload/index.js';
import { drain, driveStream, errorOf, tempFile } from './helpers.js';

const fixed = (value: number) => ({ dist: 'fixed' as const, value });
const base: WorkloadSpec = {
  arrival: { process: 'poisson', rate_per_s: 5 },
  input_tokens: { dist: 'uniform', min: 10, max: 500 },
  output_tokens: { dist: 'uniform', min: 1, max: 100 },
  num_requests: 1000,
};

describe('n, best_of, max_tokens', () => {
  it('are copied onto every request', () => {
    const requests = drain(createRequestStream({ ...base, n: 2, best_of: 3, max_tokens: 4096 }, 1));
    expect(requests.every((r) => r.n === 2 && r.best_of === 3 && r.max_tokens === 4096)).toBe(true);
  });

  it('stay undefined when absent; info has no cut count then', () => {
    const stream = createRequestStream(base, 1);
    const [r] = drain(stream);
    expect(r.n).toBeUndefined();
    expect(r.best_of).toBeUndefined();
    expect(r.max_tokens).toBeUndefined();
    expect(stream.info).not.toHaveProperty('max_tokens_cut_rows');
    const withN = createRequestStream({ ...base, n: 3 }, 1).next()!;
    expect([withN.n, withN.best_of, withN.max_tokens]).toEqual([3, undefined, undefined]);
  });

  it('max_tokens cuts longer outputs and counts the cuts', () => {
    const plain = drain(createRequestStream(base, 7));
    const stream = createRequestStream({ ...base, max_tokens: 40 }, 7);
    expect(stream.info.max_tokens_cut_rows).toBe(0);
    const cut = drain(stream);
    expect(cut.map((r) => r.output_tokens)).toEqual(plain.map((r) => Math.min(40, r.output_tokens)));
    expect(cut.map((r) => r.input_tokens)).toEqual(plain.map((r) => r.input_tokens));
    const expected = plain.filter((r) => r.output_tokens > 40).length;
    expect(expected).toBeGreaterThan(500); // uniform 1..100: 60 % are longer
    expect(stream.info.max_tokens_cut_rows).toBe(expected);
  });

  it('max_tokens with a trace', () => {
    const path = tempFile('m.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,11,5\n1,22,50\n2,33,9\n');
    const stream = createRequestStream({ trace: { path, format: 'vidur' }, max_tokens: 9 }, 1);
    expect(drain(stream).map((r) => r.output_tokens)).toEqual([5, 9, 9]);
    expect(stream.info.max_tokens_cut_rows).toBe(1);
  });

  it('sessions: the next prompt carries the answer as cut', () => {
    const spec: WorkloadSpec = {
      input_tokens: fixed(100),
      output_tokens: fixed(300),
      max_tokens: 20,
      concurrency: 1,
      num_requests: 2,
      sessions: { turns: fixed(2), think_time_s: 0 },
    };
    const stream = createRequestStream(spec, 1);
    const requests = driveStream(stream, () => 1).map((d) => d.request);
    expect(requests.map((r) => [r.input_tokens, r.output_tokens])).toEqual([
      [100, 20],
      [220, 20],
    ]);
    expect(stream.info.max_tokens_cut_rows).toBe(2);
  });

  it('best_of < n is an error', () => {
    const error = errorOf(() => createRequestStream({ ...base, n: 4, best_of: 2 }, 1));
    expect(error).toBeInstanceOf(InfersimError);
    expect(error.message).toBe('workload.best_of: must be ≥ workload.n (4), got 2');
    expect(() => createRequestStream({ ...base, n: 4, best_of: 4 }, 1)).not.toThrow();
    expect(() => createRequestStream({ ...base, best_of: 3 }, 1)).not.toThrow();
  });

  it('timeout_s is the engine’s business: accepted, nothing on the requests', () => {
    const [r] = drain(createRequestStream({ ...base, num_requests: 1, timeout_s: 2.5 }, 1));
    expect(Object.keys(r).sort()).toEqual(['arrival_s', 'id', 'input_tokens', 'output_tokens']);
    expect(errorOf(() => createRequestStream({ ...base, timeout_s: 0 }, 1)).message).toBe('workload.timeout_s: must be a number > 0, got 0');
  });
});
