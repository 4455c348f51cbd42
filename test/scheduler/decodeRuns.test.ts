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
  it('one sequence (prompt 10, 40 tokens, blocks of 16): one run from its second decode to the step before its last token', () => {
    const { kv, sched } = v1(100, 512, true);
    const seq = new Sequence({ id: 0, arrival_s: 0, input_tokens: 10, output_tokens: 40 }, 0);
    sched.enqueue(seq);
    const lazy: number[] = [];
    const contexts: number[] = [];
    const unused: number[] = [];
    const finished: Sequence[] = [];
    for (let step = 0; step < 40; step++) {
      const plan = sched.schedule(step);
      lazy.push(plan.lazy_decodes);
      contexts.push(plan.batch.decode_context_tokens);
      unused.push(kv.unused_slots);
      applyStep(kv, sched, plan.scheduled, 100 + step, step, finished);
      if (step === 9) {
        // In a run from step 2: its counts are those of the run's start (after step 1).
        expect([seq.computed_tokens, seq.generated_tokens]).toEqual([11, 2]);
      }
    }
    // Step 0: the prompt (10 tokens, token 1 emitted); step 1: the decode of token 11 (stepped, it
    // keeps its block's fill lazily); steps 2–38 in one run, across the blocks that tokens 16 and
    // 32 fill and those that tokens 17 and 33 open; step 39: the last token, stepped.
    expect(lazy).toEqual([0, 0, ...Array(37).fill(1), 0]);
    expect(contexts).toEqual(Array.from({ length: 40 }, (_, step) => (step === 0 ? 0 : 10 + step)));
    // Unused slots fall by one a step, and rise by 15 with each new block (16 slots, one written).
    expect(unused.slice(0, 10)).toEqual([6, 5, 4, 3, 2, 1, 0, 15, 14, 13]);
    expect(unused.slice(22, 26)).toEqual([0, 15, 14, 13]);
    expect(unused[39]).toBe(15);
    // Finished: its tokens are stamped as if stepped one by one (token k by step k), its blocks freed.
    expect(finished).toEqual([seq]);
    const { times_s, steps } = seq.tokens;
    expect(Array.from(times_s)).toEqual(Array.from({ length: 40 }, (_, k) => 100 + k));
    expect(Array.from(steps)).toEqual(Array.from({ length: 40 }, (_, k) => k));
    expect([seq.computed_tokens, kv.free_blocks, kv.unused_slots]).toEqual([49, 100, 0]);
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

  it('on random valid V1 configurations (tight pools, budgets, prefix caching, samples, time-outs, sessions, failures)', () => {
    let withRuns = 0;
    fc.assert(
      fc.property(arbitraryConfig(['vllm']), fc.option(fc.double({ min: 0.01, max: 1, noNaN: true }), { nil: undefined }), (c, fault_s) => {
        // Half the draws lose replica 0 for a second at fault_s, with runs (and their KV events) in flight.
        const faults = fault_s === undefined ? {} : { cold_start: { storage: 'local_nvme' }, faults: [{ at_s: fault_s, replica: 0, down_s: 1 }] };
        const input = scenario({ seed: c.seed, cluster: { ...c.cluster, max_retries: 1 }, engine: c.engine, workload: c.workload, output: { tokens: true }, ...faults });
        if (sameBothWays(input) > 0) withRuns++;
      }),
      { numRuns: 80, seed: 22 },
    );
    // Enough draws must have exercised runs (short outputs, priority queues and LoRA-free pools often do not), or this compares nothing new.
    expect(withRuns).toBeGreaterThan(10);
  });
});
