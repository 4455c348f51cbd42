import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SCHEDULERS } from '../../sim/scheduler/registry.js';
import { expectInvariants, run, scenario } from '../helpers.js';
import { capsOf } from './traitChecks.js';

/** The smallest multiple of `m` that is ≥ n. */
const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/** What a generated configuration may set (valid combinations only, per sim/setup/engine.ts). */
const rawConfig = (names: readonly string[]) =>
  fc.record({
    scheduler: fc.constantFrom(...names),
    seed: fc.integer({ min: 0, max: 1000 }),
    block_choice: fc.nat(2),
    max_model_len: fc.integer({ min: 64, max: 2048 }),
    // Often a pool barely larger than one max-length sequence, where preemption and swaps happen.
    extra_blocks: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 200 })),
    max_num_seqs: fc.integer({ min: 1, max: 32 }),
    budget_extra: fc.integer({ min: 0, max: 2048 }),
    chunked: fc.boolean(),
    n: fc.integer({ min: 1, max: 3 }),
    best_of_extra: fc.integer({ min: 0, max: 1 }),
    priority: fc.boolean(),
    prefix_caching: fc.boolean(),
    preemption: fc.constantFrom('auto', 'recompute', 'swap'),
    swap_space_gb: fc.constantFrom(0, 0.005, 0.05, 1),
    reservation: fc.constantFrom('max', 'pow2', 'oracle'),
    batch_timeout_ms: fc.constantFrom(0, 5, 50),
    timeout_s: fc.option(fc.double({ min: 0.01, max: 2, noNaN: true }), { nil: undefined, freq: 2 }),
    max_queue_len: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined, freq: 3 }),
    loop: fc.constantFrom('poisson', 'burst', 'closed'),
    input_share: fc.double({ min: 0.01, max: 1, noNaN: true }),
    output_share: fc.double({ min: 0.001, max: 0.5, noNaN: true }),
    requests: fc.integer({ min: 1, max: 40 }),
    replicas: fc.integer({ min: 1, max: 2 }),
    shared_prefix: fc.boolean(),
    sessions: fc.boolean(),
  });

type RawConfig = ReturnType<typeof rawConfig> extends fc.Arbitrary<infer T> ? T : never;

/** A drawn configuration as a valid scenario of its policy: only the keys its traits accept. */
function toScenario(c: RawConfig) {
  const caps = capsOf(c.scheduler);
  const traits = SCHEDULERS[c.scheduler].traits;
  const multiple = traits.block_size.multiple;
  const block_size = [roundUp(16, multiple), roundUp(32, multiple), multiple][c.block_choice];
  const chunking = traits.chunking.rule === 'optional' ? c.chunked : traits.chunking.rule === 'always';
  const budget = chunking ? c.max_num_seqs + c.budget_extra : Math.max(c.max_model_len, c.max_num_seqs) + c.budget_extra;
  const samples = forksOf(c.scheduler)
    // Fork schedulers run every sample of a request at once: resolve refuses more than max_num_seqs.
    ? { n: Math.min(c.n, c.max_num_seqs), best_of: Math.min(c.n + c.best_of_extra, c.max_num_seqs) }
    : { n: c.n, best_of: c.n + c.best_of_extra };
  const need = Math.ceil(c.max_model_len / block_size);
  // One max-length sequence plus the null block, plus the 1 % watermark the V0 policies keep free
  // at admission (resolve refuses a max_model_len that fits only without it).
  const blocks = need + 1 + Math.ceil(need / 50) + c.extra_blocks;
  const engine: Record<string, unknown> = {
    scheduler: c.scheduler, block_size, max_model_len: c.max_model_len, num_gpu_blocks_override: blocks,
    max_num_seqs: c.max_num_seqs, max_num_batched_tokens: budget,
  };
  if (traits.chunking.rule === 'optional') engine.enable_chunked_prefill = c.chunked;
  if (caps.paged) engine.enable_prefix_caching = c.prefix_caching;
  if (caps.swap) {
    engine.preemption = c.preemption;
    if (c.preemption !== 'recompute') engine.swap_space_gb = c.swap_space_gb;
  }
  if (traits.keys.includes('orca_reservation')) engine.orca_reservation = c.reservation;
  if (caps.request_level) engine.max_batch_size = c.max_num_seqs;
  if (traits.keys.includes('batch_timeout_ms')) engine.batch_timeout_ms = c.batch_timeout_ms;
  if (c.max_queue_len !== undefined) engine.max_queue_len = c.max_queue_len;
  const arrival =
    c.loop === 'closed' ? { concurrency: 3 } : { arrival: c.loop === 'burst' ? { process: 'burst' } : { process: 'poisson', rate_per_s: 50 } };
  const workload: Record<string, unknown> = {
    ...arrival,
    // Mostly prompts that fit; the longest (with their outputs) are rejected at arrival.
    input_tokens: { dist: 'uniform', min: 1, max: Math.max(1, Math.round(c.input_share * c.max_model_len)) },
    output_tokens: { dist: 'uniform', min: 1, max: Math.max(1, Math.round(c.output_share * c.max_model_len)) },
    num_requests: c.requests,
    ...samples,
  };
  if (c.priority && caps.priority) workload.priority = { classes: [{ priority: 0, weight: 1 }, { priority: 3, weight: 1 }] };
  if (c.timeout_s !== undefined) workload.timeout_s = c.timeout_s;
  if (c.shared_prefix) workload.prefix = { groups: 2, tokens: Math.ceil(c.max_model_len / 4), fraction: 0.5 };
  if (c.sessions) workload.sessions = { turns: { dist: 'uniform', min: 1, max: 3 }, think_time_s: 0.01 };
  return { seed: c.seed, cluster: { replicas: c.replicas }, engine, workload, requests: c.requests, max_model_len: c.max_model_len };
}

// Half the draws unbiased: fast-check's bias towards extremes (one-token prompts, tiny lengths)
// would otherwise rarely fill a pool enough to preempt.
export const arbitraryConfig = (names: readonly string[]) => fc.oneof(rawConfig(names), fc.noBias(rawConfig(names))).map(toScenario);

function forksOf(name: string): boolean {
  return SCHEDULERS[name].samples === 'fork';
}

/** Random valid configurations of the named policies, each run to the end keeping the invariants. */
export function randomConfigurations(names: readonly string[], params: { numRuns: number; seed: number }): void {
  it(`keeps the invariants on random valid configurations of ${names.join(', ')}`, () => {
    fc.assert(
      fc.property(arbitraryConfig(names), (c) => {
        const observed = run(scenario({ seed: c.seed, cluster: c.cluster, engine: c.engine, workload: c.workload }));
        expectInvariants(observed);
        expect(observed.result.totals.requests).toBe(c.requests);
        for (const o of observed.outcomes) {
          if (o.status === 'finished') expect(o.input_tokens + o.output_tokens).toBeLessThanOrEqual(c.max_model_len);
        }
      }),
      params,
    );
  });
}

