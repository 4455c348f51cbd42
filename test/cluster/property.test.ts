import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectInvariants, run, scenario } from '../helpers.js';

/**
 * Random small configurations, including hostile ones (pools barely larger than one sequence,
 * budgets smaller than a prompt, one-token prompts and outputs, bursts, closed loops, several
 * replicas): every run must keep the engine's invariants and account for every request.
 */
describe('engine invariants on random configurations', () => {
  it('hold for every generated scenario', () => {
    const config = fc.record({
      seed: fc.integer({ min: 0, max: 1000 }),
      block_size: fc.constantFrom(16, 32, 64),
      max_model_len: fc.integer({ min: 64, max: 2048 }),
      extra_blocks: fc.integer({ min: 1, max: 200 }),
      max_num_seqs: fc.integer({ min: 1, max: 64 }),
      budget_extra: fc.integer({ min: 0, max: 4096 }),
      chunked: fc.boolean(),
      cuda_graphs: fc.boolean(),
      replicas: fc.integer({ min: 1, max: 3 }),
      router: fc.constantFrom('round-robin', 'least-outstanding', 'random'),
      loop: fc.constantFrom('poisson', 'burst', 'closed'),
      max_input: fc.integer({ min: 1, max: 2500 }),
      max_output: fc.integer({ min: 1, max: 300 }),
      requests: fc.integer({ min: 1, max: 60 }),
    });
    fc.assert(
      fc.property(config, (c) => {
        // Enough blocks for one max-length sequence (plus vLLM's null block), then a few more.
        const blocks = Math.ceil(c.max_model_len / c.block_size) + 1 + c.extra_blocks;
        const budget = c.chunked ? c.max_num_seqs + c.budget_extra : Math.max(c.max_model_len, c.max_num_seqs) + c.budget_extra;
        const workload =
          c.loop === 'closed'
            ? { concurrency: 3 }
            : { arrival: c.loop === 'burst' ? { process: 'burst' } : { process: 'poisson', rate_per_s: 50 } };
        const observed = run(
          scenario({
            seed: c.seed,
            cluster: { replicas: c.replicas, router: c.router },
            engine: {
              block_size: c.block_size,
              max_model_len: c.max_model_len,
              num_gpu_blocks_override: blocks,
              max_num_seqs: c.max_num_seqs,
              max_num_batched_tokens: budget,
              enable_chunked_prefill: c.chunked,
              cuda_graphs: c.cuda_graphs,
            },
            workload: {
              ...workload,
              input_tokens: { dist: 'uniform', min: 1, max: c.max_input },
              output_tokens: { dist: 'uniform', min: 1, max: c.max_output },
              num_requests: c.requests,
            },
          }),
        );
        expectInvariants(observed);
        expect(observed.result.totals.requests).toBe(c.requests);
        // Finished requests fit in max_model_len; a rejected one is rejected on arrival, unserved.
        for (const o of observed.outcomes) {
          if (o.status === 'finished') expect(o.input_tokens + o.output_tokens).toBeLessThanOrEqual(c.max_model_len);
          else expect(o.token_times_s.length).toBe(0);
        }
      }),
      { numRuns: 150, seed: 20261122 },
    );
  });
});
