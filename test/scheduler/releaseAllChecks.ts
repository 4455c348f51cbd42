import fc from 'fast-check';
import { expect, it } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import type { OrcaReservation, PreemptionMode } from '../../sim/scenario/types.js';
import { SCHEDULERS } from '../../sim/scheduler/registry.js';
import type { ReplicaScheduler, SchedulerLimits } from '../../sim/scheduler/scheduler.js';
import { Sequence } from '../../sim/scheduler/sequence.js';
import { applyPlan } from './helpers.js';
import { capsOf } from './traitChecks.js';

/**
 * `releaseAll` (a replica failure) on a scheduler driven directly, step by step, with no cluster
 * around it: whatever state the policy is in (running, waiting, swapped, a step scheduled but not
 * applied), every unfinished sequence leaves it exactly once, its KV is gone from both pools, its
 * progress is left for the caller to account, and the scheduler still serves a new request.
 */

const BLOCK = 16;
const MAX_MODEL_LEN = 512;

const arbitraryRequest = fc.record({
  prompt: fc.integer({ min: 1, max: 200 }),
  output: fc.integer({ min: 1, max: 100 }),
  samples: fc.integer({ min: 1, max: 3 }),
  priority: fc.nat(2),
  shared_prefix: fc.boolean(),
  /** The step before which it is enqueued; past the last step, it is enqueued after it (it waits). */
  arrives: fc.nat(40),
});

const arbitraryCase = fc.record({
  requests: fc.array(arbitraryRequest, { minLength: 1, maxLength: 12 }),
  steps: fc.nat(150),
  /** The last step is scheduled but not applied when the replica fails. */
  in_flight: fc.boolean(),
  // At least one max_model_len reservation (32 blocks), so a reserving policy can always admit its head.
  blocks: fc.integer({ min: 33, max: 80 }),
  swap_blocks: fc.constantFrom(0, 8, 64),
  preemption: fc.constantFrom<PreemptionMode>('swap', 'auto', 'recompute'),
  chunked: fc.boolean(),
  budget: fc.integer({ min: 16, max: MAX_MODEL_LEN }),
  priority: fc.boolean(),
  prefix_caching: fc.boolean(),
  reservation: fc.constantFrom<OrcaReservation>('max', 'pow2', 'oracle'),
  batch_timeout_s: fc.constantFrom(0, 2),
});

// Half the draws unbiased: fast-check's bias towards small values (few steps, short requests)
// would rarely fill a pool enough to preempt, let alone swap.
const anyCase = fc.oneof(arbitraryCase, fc.noBias(arbitraryCase));

type Case = typeof arbitraryCase extends fc.Arbitrary<infer T> ? T : never;
type DrawnRequest = Case['requests'][number];

/** The limits of a drawn case, kept to what the policy's traits allow. */
function limitsFor(name: string, c: Case): SchedulerLimits {
  const traits = SCHEDULERS[name].traits;
  const caps = capsOf(name);
  const chunked = traits.chunking.rule === 'optional' ? c.chunked : traits.chunking.rule === 'always';
  return {
    max_num_seqs: 8,
    // Whole prompts (re-prefilled with their outputs after a recompute) must fit an unchunked budget.
    max_num_batched_tokens: chunked ? c.budget : MAX_MODEL_LEN,
    enable_chunked_prefill: chunked,
    preemption: caps.swap ? c.preemption : traits.preemption.default,
    scheduling_policy: caps.priority && c.priority ? 'priority' : 'fcfs',
    max_model_len: MAX_MODEL_LEN,
    orca_reservation: c.reservation,
    max_batch_size: 4,
    batch_timeout_s: c.batch_timeout_s,
  };
}

/** A request's sequences as the gateway makes them: a leader that forks its samples later, or one sequence per sample. */
function sequencesOf(name: string, r: DrawnRequest, id: number): Sequence[] {
  const request = {
    id, arrival_s: 0, input_tokens: r.prompt, output_tokens: r.output, priority: r.priority, n: r.samples,
    ...(r.shared_prefix && r.prompt > 48 ? { prefix_group: 0, prefix_tokens: 48 } : {}),
  };
  const leader = new Sequence(request, 0);
  if (r.samples === 1) return [leader];
  leader.group = { sequences: [leader], remaining: 1, started: false };
  if (SCHEDULERS[name].samples === 'fork') {
    leader.pending_forks = r.samples - 1;
    return [leader];
  }
  for (let k = 1; k < r.samples; k++) {
    const sample = new Sequence(request, 0, k);
    sample.group = leader.group;
    leader.group.sequences.push(sample);
    leader.group.remaining++;
  }
  return leader.group.sequences.slice();
}

/** What one case reached before the failure, so that the run as a whole can show it tested each state. */
interface Reached {
  running: number;
  waiting: number;
  swapped: number;
  finished: number;
  in_flight: boolean;
}

/** Enqueues a sequence as the replica does, stamped with the time it reached the engine. */
function enqueue(sched: ReplicaScheduler, seq: Sequence, now_s: number): void {
  seq.enqueued_s = now_s;
  sched.enqueue(seq);
}

/** Drives `name` through a drawn case, fails it, checks what releaseAll did; returns what the case reached. */
function failAfterSteps(name: string, c: Case): Reached {
  const caps = capsOf(name);
  const limits = limitsFor(name, c);
  const kv = new BlockManager(c.blocks, BLOCK, { prefix_caching: caps.paged && c.prefix_caching, swap_blocks: caps.swap ? c.swap_blocks : 0 });
  const sched = SCHEDULERS[name].create(kv, limits);
  const requests = c.requests.map((r, id) => sequencesOf(name, r, id));
  let finished = 0;
  let in_flight = false;
  let now_s = 0;
  const arrive = (due: (arrives: number) => boolean) => {
    requests.forEach((seqs, id) => {
      if (due(c.requests[id].arrives)) for (const s of seqs) enqueue(sched, s, now_s);
    });
  };
  for (let step = 0; step < c.steps; step++, now_s++) {
    arrive((arrives) => arrives === step);
    const plan = sched.schedule(now_s);
    if (step === c.steps - 1 && c.in_flight && plan.scheduled.length > 0) in_flight = true;
    else finished += applyPlan(kv, sched, plan, now_s + 0.5, step).length;
  }
  arrive((arrives) => arrives >= c.steps);
  const reached = { running: sched.running_count, waiting: sched.waiting_count, swapped: sched.swapped_count, finished, in_flight };

  // A request's group lists its forked samples too; only unfinished sequences are still held.
  const everyone = requests.flatMap((seqs) => seqs[0].group?.sequences ?? seqs);
  const held = everyone.filter((s) => !s.finished);
  const progress = (s: Sequence) => [s.computed_tokens, s.scheduled_tokens, s.generated_tokens, s.acct.preemptions, s.acct.discarded_tokens];
  const before = held.map(progress);
  const lost: Sequence[] = [];
  sched.releaseAll(lost);

  const key = (s: Sequence) => `${s.id}.${s.sample}`;
  expect(new Set(lost).size).toBe(lost.length);
  expect(lost.map(key).sort()).toEqual(held.map(key).sort());
  expect(lost.every((s) => held.includes(s))).toBe(true);
  expect(held.map(progress)).toEqual(before);
  expect(lost.filter((s) => s.kv.holds_kv).map(key)).toEqual([]);
  expect([sched.waiting_count, sched.running_count, sched.swapped_count]).toEqual([0, 0, 0]);
  expect([kv.used_blocks, kv.swapped_blocks, kv.free_blocks]).toEqual([0, 0, c.blocks]);
  servesAgain(kv, sched, limits, now_s + 1);
  return reached;
}

/** A new request on the failed scheduler is admitted, decodes and finishes as on a fresh one. */
function servesAgain(kv: BlockManager, sched: ReplicaScheduler, limits: SchedulerLimits, now_s: number): void {
  const fresh = new Sequence({ id: 1000, arrival_s: now_s, input_tokens: 40, output_tokens: 3 }, 0);
  enqueue(sched, fresh, now_s);
  // A dynamic batcher waits out its time-out before dispatching a lone request.
  const plan = sched.schedule(now_s + limits.batch_timeout_s);
  expect(plan.scheduled.length === 1 && plan.scheduled[0] === fresh).toBe(true);
  applyPlan(kv, sched, plan);
  for (let step = 0; step < 5 && !fresh.finished; step++) applyPlan(kv, sched, sched.schedule(now_s + limits.batch_timeout_s + 1 + step));
  expect(fresh.finished).toBe(true);
  expect([sched.running_count, kv.used_blocks]).toEqual([0, 0]);
}

/** The knobs of a hand-built case that its own settings leave open. */
const FIXED: Case = {
  requests: [], steps: 0, in_flight: false, blocks: 3, swap_blocks: 8, preemption: 'swap', chunked: true,
  budget: MAX_MODEL_LEN, priority: false, prefix_caching: false, reservation: 'oracle', batch_timeout_s: 0,
};

/**
 * A fixed swapped state on a 3-block pool: A (2 blocks) and B (1 block) run; A's 33rd token needs
 * a 3rd block, so B is swapped out, while C (1 block) cannot be admitted. The failure hits during
 * A's decode step.
 */
function swappedInFlight(name: string): void {
  const limits = limitsFor(name, FIXED);
  const kv = new BlockManager(FIXED.blocks, BLOCK, { swap_blocks: FIXED.swap_blocks });
  const sched = SCHEDULERS[name].create(kv, limits);
  const [a, b, c] = [32, 16, 8].map((prompt, id) => new Sequence({ id, arrival_s: 0, input_tokens: prompt, output_tokens: 5 }, 0));
  enqueue(sched, a, 0);
  enqueue(sched, b, 0);
  applyPlan(kv, sched, sched.schedule(0));
  enqueue(sched, c, 1);
  const plan = sched.schedule(1);
  expect(plan.scheduled.map((s) => s.id)).toEqual([0]);
  expect(plan.swap_out_blocks).toBe(1);
  expect([sched.running_count, sched.swapped_count, sched.waiting_count, kv.used_blocks, kv.swapped_blocks]).toEqual([1, 1, 1, 3, 1]);
  const lost: Sequence[] = [];
  sched.releaseAll(lost);
  // Running, then swapped, then waiting; A keeps its scheduled token, B its computed (swapped) prompt.
  expect(lost.map((s) => s.id)).toEqual([0, 1, 2]);
  expect(lost.every((s, i) => s === [a, b, c][i])).toBe(true);
  expect([a.scheduled_tokens, a.computed_tokens, b.computed_tokens, b.kv.swapped_blocks, b.kv.swap_record]).toEqual([1, 32, 16, 0, undefined]);
  expect([kv.used_blocks, kv.swapped_blocks, kv.swap_free_blocks]).toEqual([0, 0, FIXED.swap_blocks]);
  servesAgain(kv, sched, limits, 2);
}

/** The releaseAll cases of the conformance suite for one policy. */
export function releaseAllCases(name: string): void {
  const caps = capsOf(name);

  it('releaseAll after random steps: every unfinished sequence lost once, no KV left, still serving', () => {
    const reached: Reached[] = [];
    fc.assert(
      fc.property(anyCase, (c) => {
        reached.push(failAfterSteps(name, c));
      }),
      { numRuns: 40, seed: 20261215 },
    );
    // The draws reached every state the failure must clean up.
    const some = (f: (r: Reached) => boolean) => reached.some(f);
    expect([some((r) => r.in_flight), some((r) => r.running > 0), some((r) => r.waiting > 0), some((r) => r.finished > 0)]).toEqual([true, true, true, true]);
    if (caps.swap) expect(some((r) => r.swapped > 0)).toBe(true);
  });

  if (caps.swap) {
    it('releaseAll with a request swapped out, one in a step in flight and one waiting', () => {
      swappedInFlight(name);
    });
  }
}
