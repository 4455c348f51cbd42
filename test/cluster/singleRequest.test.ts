import { describe, expect, it } from 'vitest';
import { addDecode, addPrefillChunk, emptyBatch } from '../../sim/latency/batch.js';
import { expectInvariants, run, scenario } from '../helpers.js';

describe('a single request alone', () => {
  const prompt = 3000;
  const output = 6;
  const input = scenario({
    engine: { max_num_batched_tokens: 1024, frontend_input_ms: 3, frontend_output_ms: 0.5 },
    workload: {
      arrival: { process: 'burst' },
      input_tokens: { dist: 'fixed', value: prompt },
      output_tokens: { dist: 'fixed', value: output },
      num_requests: 1,
    },
  });
  const observed = run(input);
  const [o] = observed.outcomes;
  const latency = observed.result.latency;

  it('TTFT = frontend overheads + the sum of its prefill-chunk step times', () => {
    // 3000 tokens in chunks of 1024, 1024, 952; only the last chunk samples a token.
    const chunks: [number, number, boolean][] = [
      [1024, 0, false],
      [1024, 1024, false],
      [952, 2048, true],
    ];
    const prefill_s = chunks.reduce((sum, [q, cached, emits]) => {
      const b = emptyBatch();
      addPrefillChunk(b, q, cached, emits);
      return sum + latency.iterationTime_s(b);
    }, 0);
    expect(o.status).toBe('finished');
    expect((o.token_times_s as number[])[0] - o.arrival_s).toBeCloseTo(0.003 + prefill_s + 0.0005, 12);
    expect(o.first_scheduled_s - o.arrival_s).toBeCloseTo(0.003, 12);
  });

  it('gap i = the decode step time at context prompt + i', () => {
    const times = o.token_times_s as number[];
    expect(times.length).toBe(output);
    for (let i = 1; i < output; i++) {
      const b = emptyBatch();
      addDecode(b, prompt + i);
      expect(times[i] - times[i - 1]).toBeCloseTo(latency.iterationTime_s(b), 12);
    }
  });

  it('keeps the invariants and counts exactly prompt + output − 1 computed tokens', () => {
    expectInvariants(observed);
    expect(observed.result.totals.prefill_tokens).toBe(prompt);
    expect(observed.result.totals.decode_tokens).toBe(output - 1);
    expect(observed.result.totals.steps).toBe(3 + output - 1);
  });
});
