import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../sim/cluster/simulate.js';
import { Deque } from '../../sim/engine/deque.js';
import type { BlockManager } from '../../sim/kv/blockManager.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import { cancelWaiting, dropFinished, releaseRunning, releaseWaiting } from '../../sim/scheduler/commons.js';
import { registerScheduler, schedulerNames } from '../../sim/scheduler/registry.js';
import { addDecodeToken, addWholePrompt, reservedTokens } from '../../sim/scheduler/requestLevel.js';
import { emptyPlan, resetPlan, type ReplicaScheduler, type SchedulerFactory, type SchedulerLimits, type StepPlan } from '../../sim/scheduler/scheduler.js';
import type { Sequence } from '../../sim/scheduler/sequence.js';
import { reservedTraits, stepBudget, V0_DEFAULTS } from '../../sim/scheduler/traits.js';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { expectInvariants, scenario } from '../helpers.js';
import { randomConfigurations, schedulerConformance } from './conformanceSuite.js';

/*
 * Adding a scheduler touches no other module: a toy policy written here, registered at run time,
 * passes the same conformance suite as the built-ins and runs a simulation end to end.
 */

/**
 * Prefill-first FCFS with reserved KV: a step either admits waiting prompts, whole and in arrival
 * order, while seats, the token budget and each one's whole KV reservation allow (the head blocks
 * the queue), or, when none can be admitted, decodes every running sequence. Never preempts.
 */
class PrefillFirstToy implements ReplicaScheduler {
  private readonly waiting = new Deque<Sequence>();
  private readonly running: Sequence[] = [];
  private readonly plan: StepPlan = emptyPlan();

  constructor(
    private readonly kv: BlockManager,
    private readonly limits: SchedulerLimits,
  ) {}

  get waiting_count(): number {
    return this.waiting.size;
  }
  get running_count(): number {
    return this.running.length;
  }
  get swapped_count(): number {
    return 0;
  }

  enqueue(seq: Sequence): void {
    this.waiting.pushBack(seq);
  }

  schedule(now_s: number): StepPlan {
    const plan = this.plan;
    resetPlan(plan);
    let tokens = 0;
    while (this.waiting.size > 0 && this.running.length < this.limits.max_num_seqs) {
      const seq = this.waiting.peekFront() as Sequence;
      if (tokens + seq.known_tokens - seq.computed_tokens > this.limits.max_num_batched_tokens) break;
      if (!this.kv.reserve(seq, reservedTokens(seq, this.limits), seq.known_tokens)) break;
      this.waiting.popFront();
      this.running.push(seq);
      tokens += addWholePrompt(plan, seq, now_s);
    }
    if (plan.scheduled.length > 0) return plan;
    for (const seq of this.running) addDecodeToken(plan, this.kv, seq);
    return plan;
  }

  afterStep(): void {
    dropFinished(this.running);
  }

  cancelWaiting(seq: Sequence): boolean {
    return cancelWaiting(this.waiting, seq);
  }

  releaseAll(lost: Sequence[]): void {
    releaseRunning(this.kv, this.running, lost);
    releaseWaiting(this.kv, () => this.waiting.popFront(), lost);
  }
}

const TOY: SchedulerFactory = {
  name: 'toy-prefill-first',
  create: (kv, limits) => new PrefillFirstToy(kv, limits),
  samples: 'separate',
  traits: reservedTraits([]),
  defaults: (ctx) => stepBudget(V0_DEFAULTS, ctx),
  emulates: 'a toy: prefill-first FCFS steps, whole prompts, KV reserved at admission',
};

registerScheduler(TOY);

describe('a scheduler registered at run time', () => {
  it('is named by the registry and accepted by the scenario schema', () => {
    expect(schedulerNames()).toContain(TOY.name);
    expect(schedulerNames().slice(0, 6)).toEqual(['vllm', 'vllm-v0', 'sarathi', 'orca', 'static', 'dynamic']);
    const input = parseScenarioObject({ model: 'llama-3.1-8b', hardware: { gpu: 'h100-sxm' }, engine: { scheduler: TOY.name }, workload: { num_requests: 1 } });
    expect(input.engine?.scheduler).toBe(TOY.name);
    // An unknown name is still refused, and the message lists the registered ones.
    expect(() => parseScenarioObject({ model: 'llama-3.1-8b', hardware: { gpu: 'h100-sxm' }, engine: { scheduler: 'toy' }, workload: { num_requests: 1 } })).toThrow(
      `engine.scheduler: must be one of vllm, vllm-v0, sarathi, orca, static, dynamic, ${TOY.name}`,
    );
  });

  it('cannot replace a registered name', () => {
    expect(() => registerScheduler({ ...TOY })).toThrow(`a scheduler named '${TOY.name}' is already registered`);
  });

  it('runs a simulation end to end (runSimulation on a scenario naming it)', () => {
    const input = parseScenarioObject(
      scenario({ engine: { scheduler: TOY.name, max_model_len: 4096, num_gpu_blocks_override: 1100 }, workload: { arrival: { process: 'poisson', rate_per_s: 30 }, input_tokens: { dist: 'uniform', min: 16, max: 1500 }, output_tokens: { dist: 'uniform', min: 1, max: 200 }, num_requests: 100 } }),
    );
    const setup = resolveScenario(input);
    expect(setup.scenario.emulates).toBe(TOY.emulates);
    const outcomes: RequestOutcome[] = [];
    const result = runSimulation(setup, { onRequest: (o) => outcomes.push({ ...o, token_times_s: Array.from(o.token_times_s) }) });
    expectInvariants({ result, outcomes });
    expect(result.totals.finished).toBe(100);
    expect(result.totals.preemptions).toBe(0);
    expect(result.setup.scenario.engine.scheduler).toBe(TOY.name);
  });
});

schedulerConformance(TOY.name);

describe('the toy on random valid configurations', () => {
  randomConfigurations([TOY.name], { numRuns: 60, seed: 20261202 });
});
