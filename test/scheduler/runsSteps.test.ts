import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { applyStep } from '../../sim/scheduler/commons.js';
import { RunningList } from '../../sim/scheduler/runningList.js';
import { planIsEmpty, type StepPlan } from '../../sim/scheduler/scheduler.js';
import { Sequence } from '../../sim/scheduler/sequence.js';
import { VllmV1Scheduler } from '../../sim/scheduler/vllmV1.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { scenario, suiteDir } from '../helpers.js';
import { arbitraryConfig } from './randomConfigs.js';
import { sameOffAndOn } from './sameOutputs.js';

/**
 * A step of decode runs alone, formed without V1's pass (`runsStepNext`, `runsStep`), must be the
 * step the pass would form: the same plan, the same pool, the same token stamps, and every output
 * byte for byte the same with it off (INFERSIM_DECODE_RUN_STEPS=0).
 */

function v1(blocks: number, budget: number, prefix_caching: boolean) {
  const kv = new BlockManager(blocks, 16, { prefix_caching });
  const limits = { max_num_batched_tokens: budget, max_num_seqs: 64, enable_chunked_prefill: true, preemption: 'recompute' as const, scheduling_policy: 'fcfs' as const, max_model_len: 1 << 20, orca_reservation: 'max' as const, max_batch_size: 64, batch_timeout_s: 0, decode_runs: true, decode_runs_from: 1 };
  return { kv, sched: new VllmV1Scheduler(kv, limits) };
}

type Arrival = { at_step: number; input_tokens: number; output_tokens: number; session?: number };

/**
 * Steps `arrivals` through a V1 scheduler by hand, each step's tokens stamped 1000 + its number;
 * with `runSteps`, a step that `runsStepNext` foresees is formed by `runsStep`. Per step: the
 * plan's shape and the pool; at the end, each sequence's token steps.
 */
function play(arrivals: Arrival[], blocks: number, budget: number, prefix_caching: boolean, runSteps: boolean) {
  const { kv, sched } = v1(blocks, budget, prefix_caching);
  const seqs = arrivals.map((a, id) => new Sequence({ id, arrival_s: a.at_step, input_tokens: a.input_tokens, output_tokens: a.output_tokens, ...(a.session === undefined ? {} : { session: a.session }) }, 0));
  const finished: Sequence[] = [];
  const seen: string[] = [];
  let fast = 0;
  // `step` numbers the steps that ran, as a replica numbers them; `t` is the pass's time.
  let step = 0;
  let plan: StepPlan | undefined;
  for (let t = 0; finished.length < seqs.length && t < 3000; t++) {
    for (const [i, a] of arrivals.entries()) if (a.at_step === t) sched.enqueue(seqs[i]);
    if (plan === undefined) plan = sched.schedule(t);
    if (planIsEmpty(plan)) {
      plan = undefined;
      continue;
    }
    const b = plan.batch;
    seen.push(`${t}: ${plan.scheduled.map((s) => `${s.id}+${s.scheduled_tokens}`).join(',')} runs ${plan.lazy_decodes ?? 0} batch ${b.decode_seqs}/${b.decode_context_tokens}/${b.prefill_tokens} pool ${kv.free_blocks}/${kv.cached_blocks}/${kv.unused_slots}`);
    // The next pass's arrivals are enqueued before it: runsStepNext reads the queue as the step in flight left it.
    const arriving = arrivals.some((a) => a.at_step === t + 1);
    if (runSteps && !arriving && sched.runsStepNext()) {
      plan = sched.runsStep(1000 + t, step);
      fast++;
    } else {
      applyStep(kv, sched, plan.scheduled, 1000 + t, step, finished);
      plan = undefined;
    }
    step++;
  }
  return { seen, fast, finished: finished.map((s) => s.id), tokens: seqs.map((s) => Array.from(s.tokens.steps)), pool: [kv.free_blocks, kv.cached_blocks, kv.unused_slots] };
}

describe('a step of decode runs alone, formed without the pass', () => {
  it('one sequence (prompt 10, 40 tokens): steps 3–38 are foreseen, each the step the pass forms', () => {
    const one = [{ at_step: 0, input_tokens: 10, output_tokens: 40 }];
    const fast = play(one, 100, 512, false, true);
    const slow = play(one, 100, 512, false, false);
    expect({ ...fast, fast: 0 }).toEqual({ ...slow, fast: 0 });
    // Its run spans steps 2–38 (decodeRuns.test.ts). Step 1 is a stepped decode, and step 39 (its
    // last token) ends the run: the steps formed without the pass are 3 to 38.
    expect(fast.fast).toBe(36);
    expect(fast.tokens[0]).toEqual(Array.from({ length: 40 }, (_, k) => k));
  });

  it("a session's runs with KV events, and a request that waits for blocks: the same plans, pool and stamps", () => {
    // Shared session content: B's runs have KV events where its blocks fill; A arrives at step 5 and waits for blocks.
    const arrivals = [
      { at_step: 0, input_tokens: 20, output_tokens: 60, session: 7 },
      { at_step: 5, input_tokens: 10, output_tokens: 30 },
    ];
    for (const blocks of [8, 100]) {
      const fast = play(arrivals, blocks, 512, true, true);
      expect({ ...fast, fast: 0 }).toEqual({ ...play(arrivals, blocks, 512, true, false), fast: 0 });
      expect(fast.finished.sort()).toEqual([0, 1]);
      expect(fast.fast).toBeGreaterThan(10);
    }
  });

  it('on random arrivals, pools and budgets: the same plans, pool and token stamps', () => {
    let used = 0;
    const arrival = fc.record({ at_step: fc.integer({ min: 0, max: 60 }), input_tokens: fc.integer({ min: 1, max: 120 }), output_tokens: fc.integer({ min: 1, max: 90 }), session: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(arrival, { minLength: 1, maxLength: 12 }), fc.integer({ min: 12, max: 80 }), fc.integer({ min: 8, max: 600 }), fc.boolean(), (arrivals, blocks, budget, caching) => {
        const fast = play(arrivals, blocks, budget, caching, true);
        expect({ ...fast, fast: 0 }).toEqual({ ...play(arrivals, blocks, budget, caching, false), fast: 0 });
        used += fast.fast;
      }),
      { numRuns: 150, seed: 23 },
    );
    expect(used).toBeGreaterThan(1000);
  });
});

describe('steps of runs alone change no output (INFERSIM_DECODE_RUN_STEPS=0 against the default)', () => {
  const dir = suiteDir();
  afterEach(() => {
    delete process.env.INFERSIM_DECODE_RUN_STEPS;
    vi.restoreAllMocks();
  });
  let count = 0;

  /** Runs `input` with such steps off and on; every file written and every outcome must agree. Returns the steps formed without the pass. */
  function sameBothWays(input: ScenarioInput): number {
    const out = [join(dir, `off-${count}`), join(dir, `on-${count}`)] as const;
    count++;
    return sameOffAndOn(input, out, 'INFERSIM_DECODE_RUN_STEPS', RunningList.prototype, 'runsStep');
  }

  it('on a steady load', () => {
    const fast = sameBothWays(scenario({ workload: { arrival: { process: 'poisson', rate_per_s: 30 }, input_tokens: { dist: 'uniform', min: 50, max: 1500 }, output_tokens: { dist: 'uniform', min: 1, max: 400 }, num_requests: 300 } }));
    expect(fast).toBeGreaterThan(300);
  });

  it('with two replicas, one failing under load, and time-outs', () => {
    const fast = sameBothWays(
      scenario({
        cluster: { replicas: 2, router: 'round-robin', max_retries: 1 },
        cold_start: { storage: 'local_nvme' },
        faults: [{ at_s: 3, replica: 1, down_s: 5 }],
        workload: { arrival: { process: 'poisson', rate_per_s: 40 }, input_tokens: { dist: 'uniform', min: 50, max: 800 }, output_tokens: { dist: 'uniform', min: 50, max: 400 }, num_requests: 300, timeout_s: 6 },
      }),
    );
    expect(fast).toBeGreaterThan(100);
  });

  it('on random valid V1 configurations (tight pools, budgets, prefix caching, samples, sessions, failures)', () => {
    let exercised = 0;
    fc.assert(
      fc.property(arbitraryConfig(['vllm']), fc.option(fc.double({ min: 0.01, max: 1, noNaN: true }), { nil: undefined }), (c, fault_s) => {
        const faults = fault_s === undefined ? {} : { cold_start: { storage: 'local_nvme' }, faults: [{ at_s: fault_s, replica: 0, down_s: 1 }] };
        if (sameBothWays(scenario({ seed: c.seed, cluster: { ...c.cluster, max_retries: 1 }, engine: c.engine, workload: c.workload, ...faults })) > 0) exercised++;
      }),
      { numRuns: 40, seed: 24 },
    );
    // Enough draws must have formed such steps (short outputs and small lists often do not), or this compares nothing new.
    expect(exercised).toBeGreaterThan(5);
  });
});

