import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { DecodeRuns } from '../../sim/scheduler/decodeRuns.js';
import { applyStep } from '../../sim/scheduler/commons.js';
import { Sequence } from '../../sim/scheduler/sequence.js';
import { VllmV1Scheduler } from '../../sim/scheduler/vllmV1.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { scenario, suiteDir } from '../helpers.js';
import { arbitraryConfig } from './randomConfigs.js';
import { sameOffAndOn } from './sameOutputs.js';

/**
 * Decode runs (sim/scheduler/decodeRuns.ts) change how V1 steps plain decodes, never what it
 * decides: every output must be the same byte for byte with them off (INFERSIM_DECODE_RUNS=0).
 */

function v1(blocks: number, budget: number, decode_runs: boolean, prefix_caching = false) {
  const kv = new BlockManager(blocks, 16, { prefix_caching });
  const limits = { max_num_batched_tokens: budget, max_num_seqs: 64, enable_chunked_prefill: true, preemption: 'recompute' as const, scheduling_policy: 'fcfs' as const, max_model_len: 1 << 20, orca_reservation: 'max' as const, max_batch_size: 64, batch_timeout_s: 0, decode_runs, decode_runs_from: 1 };
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
      lazy.push(plan.lazy_decodes ?? 0);
      contexts.push(plan.batch.decode_context_tokens);
      unused.push(kv.unused_slots);
      applyStep(kv, sched, plan.scheduled, 100 + step, step, finished);
      if (step === 9) {
        // In a run from step 2: its counts are those of the run's start (after step 1).
        expect([seq.computed_tokens, seq.generated_tokens]).toEqual([11, 2]);
        // Its token times are written when the run ends: reading them now is refused, not answered stale.
        expect(() => seq.tokens).toThrow(/during a decode run/);
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

  it("a prompt's last token, left alone by a 1-token chunk, is prefilled, not decoded in a run (found in review)", () => {
    const shapes = [false, true].map((decode_runs) => {
      const { kv, sched } = v1(100, 2, decode_runs);
      for (const [id, prompt] of [[0, 1], [1, 3]]) sched.enqueue(new Sequence({ id, arrival_s: 0, input_tokens: prompt, output_tokens: 40 }, 0));
      const seen: string[] = [];
      for (let step = 0; step < 20; step++) {
        const plan = sched.schedule(step);
        seen.push(`${plan.batch.prefill_tokens}p/${plan.batch.decode_tokens}d`);
        applyStep(kv, sched, plan.scheduled, step, step, []);
      }
      return seen;
    });
    // Budget 2: both prompts start (1 + 1 tokens); A decodes beside B's 1-token chunks, the second of which ends B's prompt.
    expect(shapes[0].slice(0, 4)).toEqual(['2p/0d', '1p/1d', '1p/1d', '0p/2d']);
    expect(shapes[1]).toEqual(shapes[0]);
  });

  it('a prompt admitted last is chunked by what budget the runs leave, and the runs go on', () => {
    const traces = [false, true].map((decode_runs) => {
      const { kv, sched } = v1(100, 8, decode_runs);
      sched.enqueue(new Sequence({ id: 0, arrival_s: 0, input_tokens: 4, output_tokens: 40 }, 0));
      const seen: string[] = [];
      const lazy: number[] = [];
      for (let step = 0; step < 12; step++) {
        if (step === 3) sched.enqueue(new Sequence({ id: 1, arrival_s: 0, input_tokens: 40, output_tokens: 5 }, 0));
        const plan = sched.schedule(step);
        seen.push(`${plan.batch.prefill_tokens}p/${plan.batch.decode_tokens}d`);
        lazy.push(plan.lazy_decodes ?? 0);
        applyStep(kv, sched, plan.scheduled, step, step, []);
      }
      return { seen, lazy };
    });
    // Steps 3–8: A decodes (1 token) and B's 40-token prompt takes the other 7 of the budget, 5 more at step 8.
    expect(traces[0].seen).toEqual(['4p/0d', '0p/1d', '0p/1d', '7p/1d', '7p/1d', '7p/1d', '7p/1d', '7p/1d', '5p/1d', '0p/2d', '0p/2d', '0p/2d']);
    expect(traces[1].seen).toEqual(traces[0].seen);
    // With runs, A stays in its run from step 2 through B's prompt; B joins one after its first decode (step 9).
    expect(traces[1].lazy).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2]);
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

describe('runs whose blocks are private take them by count, claim them at their end', () => {
  /**
   * A session turn B (its decode blocks are shared content: KV events) ahead of a private sequence
   * A (its runs take blocks by count) in a pool too small for both: A, last in the list, is
   * preempted mid-run and comes back to its own cached blocks. Per step: free blocks, cached
   * blocks, unused slots.
   */
  function trace(decode_runs: boolean, blocks: number) {
    const { kv, sched } = v1(blocks, 512, decode_runs, true);
    const b = new Sequence({ id: 1, arrival_s: 0, input_tokens: 20, output_tokens: 60, session: 7 }, 0);
    const a = new Sequence({ id: 0, arrival_s: 0, input_tokens: 10, output_tokens: 60 }, 0);
    sched.enqueue(b);
    sched.enqueue(a);
    const seen: string[] = [];
    const finished: Sequence[] = [];
    for (let step = 0; finished.length < 2 && step < 400; step++) {
      const plan = sched.schedule(step);
      seen.push(`${kv.free_blocks}/${kv.cached_blocks}/${kv.unused_slots}`);
      applyStep(kv, sched, plan.scheduled, step, step, finished);
    }
    return { seen, finished: finished.map((s) => s.id), a: Array.from(a.tokens.steps), b: Array.from(b.tokens.steps), preempted: a.acct.preemptions, after: [kv.free_blocks, kv.unused_slots] };
  }

  it('a preemption mid-run: every step counts its pool as stepped decodes do, and the victim finds its own blocks again', () => {
    const on = trace(true, 8);
    const off = trace(false, 8);
    expect(on).toEqual(off);
    // B needs 5 blocks (80 tokens) and A 5 (70): 8 run short, so A is preempted at least once, and both finish.
    expect(on.preempted).toBeGreaterThan(0);
    expect(on.finished).toEqual([1, 0]);
    // Both gone: every block back in the pool (a claimed block left out, or owed twice, would show), no slot left counted.
    expect(on.after).toEqual([8, 0]);
  });

  it('a failure after its run crossed two block boundaries leaves it as if stepped one by one', () => {
    const states = [false, true].map((decode_runs) => {
      const { kv, sched } = v1(100, 512, decode_runs, true);
      const seq = new Sequence({ id: 0, arrival_s: 0, input_tokens: 10, output_tokens: 60 }, 0);
      sched.enqueue(seq);
      const free: number[] = [];
      for (let step = 0; step < 30; step++) {
        applyStep(kv, sched, sched.schedule(step).scheduled, step, step, []);
        free.push(kv.free_blocks);
      }
      // Step 30 writes slot 39; formed, never applied.
      sched.schedule(30);
      const unused = kv.unused_slots;
      sched.releaseAll([]);
      return { free, computed: seq.computed_tokens, scheduled: seq.scheduled_tokens, unused, after: [kv.free_blocks, kv.cached_blocks, kv.unused_slots], steps: Array.from(seq.tokens.steps) };
    });
    expect(states[1]).toEqual(states[0]);
    // Blocks opened by slots 16 and 32 (steps 7 and 23): 99, then 98, then 97 free.
    expect([states[1].free[6], states[1].free[7], states[1].free[22], states[1].free[23]]).toEqual([99, 98, 98, 97]);
    // 40 slots written in 3 blocks (48 slots): 8 unused; its 2 full private blocks stay cached after it leaves.
    expect(states[1]).toMatchObject({ computed: 39, scheduled: 1, unused: 8, after: [100, 2, 0] });
  });
});


describe('decode runs change no output (INFERSIM_DECODE_RUNS=0 against the default)', () => {
  const dir = suiteDir();
  afterEach(() => {
    delete process.env.INFERSIM_DECODE_RUNS;
    delete process.env.INFERSIM_DECODE_RUNS_FROM;
    vi.restoreAllMocks();
  });
  let count = 0;

  /** Runs `input` with runs off and on; every file written and every outcome must agree. Returns the steps that had runs. */
  function sameBothWays(input: ScenarioInput, from?: number): number {
    const out = [join(dir, `off-${count}`), join(dir, `on-${count}`)] as const;
    count++;
    return sameOffAndOn(input, out, 'INFERSIM_DECODE_RUNS', DecodeRuns.prototype, 'addToBatch', from === undefined ? {} : { INFERSIM_DECODE_RUNS_FROM: String(from) });
  }

  it('on a steady load, where most decode tokens go in runs', () => {
    const steps = sameBothWays(scenario({ workload: { arrival: { process: 'poisson', rate_per_s: 30 }, input_tokens: { dist: 'uniform', min: 50, max: 1500 }, output_tokens: { dist: 'uniform', min: 1, max: 400 }, num_requests: 300 } }));
    expect(steps).toBeGreaterThan(1000);
  });

  it('with a small budget and prompts of a few tokens, where chunks of one token end prompts (found in review)', () => {
    const steps = sameBothWays(
      scenario({
        seed: 42,
        engine: { max_num_batched_tokens: 16, max_num_seqs: 16 },
        workload: { arrival: { process: 'poisson', rate_per_s: 400 }, input_tokens: { dist: 'uniform', min: 1, max: 12 }, output_tokens: { dist: 'uniform', min: 2, max: 200 }, num_requests: 600 },
      }),
    );
    expect(steps).toBeGreaterThan(1000);
  });

  it('with a replica failing under load, its runs cut short', () => {
    const steps = sameBothWays(
      scenario({
        cluster: { replicas: 2, router: 'round-robin', max_retries: 1 },
        cold_start: { storage: 'local_nvme' },
        faults: [{ at_s: 3, replica: 1, down_s: 5 }],
        workload: { arrival: { process: 'poisson', rate_per_s: 40 }, input_tokens: { dist: 'uniform', min: 50, max: 800 }, output_tokens: { dist: 'uniform', min: 50, max: 400 }, num_requests: 300 },
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
        const input = scenario({ seed: c.seed, cluster: { ...c.cluster, max_retries: 1 }, engine: c.engine, workload: c.workload, ...faults });
        // Runs from 4 running sequences (dropped below 2), so that the small pools' lists take them up and drop them.
        if (sameBothWays(input, 4) > 0) withRuns++;
      }),
      { numRuns: 80, seed: 22 },
    );
    // Enough draws must have exercised runs (short outputs, priority queues and LoRA-free pools often do not), or this compares nothing new.
    expect(withRuns).toBeGreaterThan(10);
  });
});
