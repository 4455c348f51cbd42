import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { DecodeRuns } from '../../sim/scheduler/decodeRuns.js';
import { applyStep } from '../../sim/scheduler/commons.js';
import { Sequence } from '../../sim/scheduler/sequence.js';
import { VllmV1Scheduler } from '../../sim/scheduler/vllmV1.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { run, scenario, suiteDir } from '../helpers.js';
import { arbitraryConfig } from './randomConfigs.js';

/**
 * Decode runs (sim/scheduler/decodeRuns.ts) change how V1 steps plain decodes, never what it
 * decides: every output must be the same byte for byte with them off (INFERSIM_DECODE_RUNS=0).
 */

function v1(blocks: number, budget: number, decode_runs: boolean) {
  const kv = new BlockManager(blocks, 16);
  const limits = { max_num_batched_tokens: budget, max_num_seqs: 64, enable_chunked_prefill: true, preemption: 'recompute' as const, scheduling_policy: 'fcfs' as const, max_model_len: 1 << 20, orca_reservation: 'max' as const, max_batch_size: 64, batch_timeout_s: 0, decode_runs };
  return { kv, sched: new VllmV1Scheduler(kv, limits) };
}

describe('decode runs, stepped by hand', () => {
  it('one sequence (prompt 10, 40 tokens, blocks of 16): a run covers tokens 12 to 15, then the block boundary is stepped', () => {
    const { kv, sched } = v1(100, 512, true);
    const seq = new Sequence({ id: 0, arrival_s: 0, input_tokens: 10, output_tokens: 40 }, 0);
    sched.enqueue(seq);
    const lazy: number[] = [];
    const contexts: number[] = [];
    const unused: number[] = [];
    for (let step = 0; step < 10; step++) {
      const plan = sched.schedule(step);
      lazy.push(plan.lazy_decodes);
      contexts.push(plan.batch.decode_context_tokens);
      unused.push(kv.unused_slots);
      applyStep(kv, sched, plan.scheduled, 100 + step, step, []);
    }
    // Step 0: the prompt (10 tokens, token 1 emitted); step 1: the decode of token 11 (stepped,
    // it enters the lazily kept block up to token 15); steps 2–5: tokens 12–15 in a run; step 6:
    // token 16 fills the block (stepped); step 7: token 17 takes a new block, whose next tokens
    // are kept lazily; steps 8 and 9: a new run.
    expect(lazy).toEqual([0, 0, 1, 1, 1, 1, 0, 0, 1, 1]);
    expect(contexts).toEqual([0, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    // One block of 16 slots, then a second one: unused slots fall by one a step either way.
    expect(unused).toEqual([6, 5, 4, 3, 2, 1, 0, 15, 14, 13]);
    // In a run from step 8, its counts are those of the run's start (after step 7).
    expect(seq.computed_tokens).toBe(17);
    expect(seq.generated_tokens).toBe(8);
    // The run of steps 2–5 ended at step 6: its tokens are stamped as if stepped one by one (token k by step k).
    const { times_s, steps } = seq.tokens;
    expect(Array.from(times_s.slice(0, 8))).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
    expect(Array.from(steps.slice(0, 8))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a failure mid-run leaves the sequence as if it had been stepped one by one, its token in flight scheduled', () => {
    const states = [false, true].map((decode_runs) => {
      const { kv, sched } = v1(100, 512, decode_runs);
      const seq = new Sequence({ id: 0, arrival_s: 0, input_tokens: 10, output_tokens: 40 }, 0);
      sched.enqueue(seq);
      for (let step = 0; step < 4; step++) applyStep(kv, sched, sched.schedule(step).scheduled, step, step, []);
      sched.schedule(4); // formed, never applied: the replica fails during it
      const unused = kv.unused_slots;
      sched.releaseAll([]);
      return { computed: seq.computed_tokens, generated: seq.generated_tokens, scheduled: seq.scheduled_tokens, unused, free: kv.free_blocks, steps: Array.from(seq.tokens.steps) };
    });
    expect(states[1]).toEqual(states[0]);
    expect(states[0]).toMatchObject({ computed: 13, generated: 4, scheduled: 1, free: 100 });
  });
});

describe('decode runs change no output (INFERSIM_DECODE_RUNS=0 against the default)', () => {
  const dir = suiteDir();
  afterEach(() => {
    delete process.env.INFERSIM_DECODE_RUNS;
    vi.restoreAllMocks();
  });
  let count = 0;

  /** Runs `input` with runs off and on; every file written and every outcome must agree. Returns the steps that had runs. */
  function sameBothWays(input: ScenarioInput): number {
    const out = [join(dir, `off-${count}`), join(dir, `on-${count}`)];
    count++;
    process.env.INFERSIM_DECODE_RUNS = '0';
    const off = run(input, out[0]);
    delete process.env.INFERSIM_DECODE_RUNS;
    const spy = vi.spyOn(DecodeRuns.prototype, 'addToBatch');
    const on = run(input, out[1]);
    const stepsWithRuns = spy.mock.calls.length;
    spy.mockRestore();
    expect(on.outcomes).toEqual(off.outcomes);
    expect(on.result.totals).toEqual(off.result.totals);
    const files = readdirSync(out[0]).filter((f) => f.endsWith('.arrow'));
    expect(files).toContain('iterations.arrow');
    expect(readdirSync(out[1]).filter((f) => f.endsWith('.arrow'))).toEqual(files);
    for (const f of files) expect(readFileSync(join(out[1], f)).equals(readFileSync(join(out[0], f))), f).toBe(true);
    return stepsWithRuns;
  }

  it('on a steady load, where most decode tokens go in runs', () => {
    const steps = sameBothWays(scenario({ workload: { arrival: { process: 'poisson', rate_per_s: 30 }, input_tokens: { dist: 'uniform', min: 50, max: 1500 }, output_tokens: { dist: 'uniform', min: 1, max: 400 }, num_requests: 300 }, output: { tokens: true } }));
    expect(steps).toBeGreaterThan(1000);
  });

  it('with a replica failing under load, its runs cut short', () => {
    const steps = sameBothWays(
      scenario({
        cluster: { replicas: 2, router: 'round-robin', max_retries: 1 },
        cold_start: { storage: 'local_nvme' },
        faults: [{ at_s: 3, replica: 1, down_s: 5 }],
        workload: { arrival: { process: 'poisson', rate_per_s: 40 }, input_tokens: { dist: 'uniform', min: 50, max: 800 }, output_tokens: { dist: 'uniform', min: 50, max: 400 }, num_requests: 300 },
        output: { tokens: true },
      }),
    );
    expect(steps).toBeGreaterThan(100);
  });

  it('on random valid V1 configurations (tight pools, budgets, prefix caching, samples, time-outs, sessions)', () => {
    let withRuns = 0;
    fc.assert(
      fc.property(arbitraryConfig(['vllm']), (c) => {
        if (sameBothWays(scenario({ seed: c.seed, cluster: c.cluster, engine: c.engine, workload: c.workload, output: { tokens: true } })) > 0) withRuns++;
      }),
      { numRuns: 80, seed: 22 },
    );
    // Enough draws must have exercised runs (short outputs, priority queues and LoRA-free pools often do not), or this compares nothing new.
    expect(withRuns).toBeGreaterThan(10);
  });
});
