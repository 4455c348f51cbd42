import { describe, expect, it } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { ORCA } from '../../sim/scheduler/orca.js';
import type { ReplicaScheduler, SchedulerFactory, SchedulerLimits } from '../../sim/scheduler/scheduler.js';
import { Sequence } from '../../sim/scheduler/sequence.js';
import { STATIC, StaticScheduler } from '../../sim/scheduler/static.js';
import { applyPlan } from './helpers.js';

const LIMITS: SchedulerLimits = {
  max_num_seqs: 256,
  max_num_batched_tokens: 100,
  enable_chunked_prefill: false,
  preemption: 'recompute',
  scheduling_policy: 'fcfs',
  max_model_len: 1024,
  orca_reservation: 'max',
  max_batch_size: 4,
  batch_timeout_s: 0,
};

function seq(id: number, prompt: number, output: number, max_tokens?: number): Sequence {
  return new Sequence({ id, arrival_s: 0, input_tokens: prompt, output_tokens: output, max_tokens }, 0);
}

function setup(blocks: number, limits: Partial<SchedulerLimits> = {}, factory: SchedulerFactory = STATIC) {
  const kv = new BlockManager(blocks, 16);
  return { kv, sched: factory.create(kv, { ...LIMITS, ...limits }) };
}

/** Forms and applies one step the way the replica does; returns [id, scheduled tokens] pairs. */
function step(kv: BlockManager, sched: ReplicaScheduler, now_s = 0): number[][] {
  const plan = sched.schedule(now_s);
  expect(plan.preempted).toBe(0);
  const ran = plan.scheduled.map((s) => [s.id, s.scheduled_tokens]);
  applyPlan(kv, sched, plan);
  return ran;
}

describe('static batching', () => {
  it('prefills up to max_batch_size whole prompts in one step, with no token budget', () => {
    const { kv, sched } = setup(1000, { orca_reservation: 'oracle' });
    for (let i = 0; i < 5; i++) sched.enqueue(seq(i, 80, 3));
    const plan = sched.schedule(2);
    expect(plan.scheduled.map((s) => [s.id, s.scheduled_tokens])).toEqual([[0, 80], [1, 80], [2, 80], [3, 80]]);
    expect(plan.batch).toMatchObject({ prefill_seqs: 4, prefill_tokens: 320, decode_seqs: 0, emitting_seqs: 4 });
    expect(plan.scheduled.every((s) => s.first_scheduled_s === 2 && s.kv.block_count === 6)).toBe(true); // ceil(83 / 16)
    expect(sched.waiting_count).toBe(1);
    expect(kv.used_blocks).toBe(24);
  });

  it('decodes the batch until its last request finishes; finished slots are padding rows, nobody joins', () => {
    const { kv, sched } = setup(1000);
    sched.enqueue(seq(0, 10, 2));
    sched.enqueue(seq(1, 10, 4));
    expect(step(kv, sched)).toEqual([[0, 10], [1, 10]]);
    sched.enqueue(seq(2, 10, 1));
    const plan = sched.schedule(1);
    expect(plan.batch).toMatchObject({ decode_seqs: 2, decode_context_tokens: 22, prefill_seqs: 0 });
    expect(plan.padding_seqs).toBe(0);
    step(kv, sched); // applies the plan above: request 0 finishes with 11 tokens in its KV
    // Request 0's row is still computed (context 12, then 13), but it is no sequence's work.
    const padded = sched.schedule(2);
    expect(padded.padding_seqs).toBe(1);
    expect(padded.batch).toMatchObject({ decode_seqs: 2, decode_context_tokens: 12 + 12 });
    expect(step(kv, sched)).toEqual([[1, 1]]);
    expect([sched.running_count, sched.waiting_count]).toEqual([1, 1]);
    expect(step(kv, sched)).toEqual([[1, 1]]); // request 1's 4th token
    expect(step(kv, sched)).toEqual([[2, 10]]);
    expect(kv.used_blocks).toBe(0);
  });

  it('Orca admits a late request at the next iteration; static only after the whole batch', () => {
    const firstScheduled = (factory: SchedulerFactory): number => {
      const { kv, sched } = setup(1000, {}, factory);
      sched.enqueue(seq(0, 10, 2));
      sched.enqueue(seq(1, 10, 4));
      step(kv, sched, 0);
      const late = seq(2, 10, 1);
      sched.enqueue(late);
      for (let t = 1; t < 6; t++) step(kv, sched, t);
      return late.first_scheduled_s;
    };
    expect(firstScheduled(ORCA)).toBe(1);
    expect(firstScheduled(STATIC)).toBe(4);
  });

  it('forms a batch only of reservations that fit, and holds freed memory until the batch ends', () => {
    const { kv, sched } = setup(130); // two max reservations of 64 blocks
    [seq(0, 100, 2), seq(1, 100, 5), seq(2, 100, 1)].forEach((s) => sched.enqueue(s));
    expect(step(kv, sched)).toEqual([[0, 100], [1, 100]]);
    step(kv, sched); // request 0 finishes: 64 blocks free, request 2 would fit
    expect(kv.free_blocks).toBe(66);
    for (let i = 0; i < 3; i++) expect(step(kv, sched)).toEqual([[1, 1]]);
    expect(step(kv, sched)).toEqual([[2, 100]]);
  });

  it('cancelWaiting withdraws only never-scheduled waiting requests', () => {
    const { kv, sched } = setup(1000, { max_batch_size: 1 });
    const [a, b] = [seq(0, 10, 2), seq(1, 10, 2)];
    sched.enqueue(a);
    sched.enqueue(b);
    step(kv, sched);
    expect(sched.cancelWaiting(a)).toBe(false);
    expect(sched.cancelWaiting(b)).toBe(true);
    step(kv, sched);
    expect(sched.schedule(9).scheduled).toEqual([]);
    expect([sched.waiting_count, sched.running_count, sched.swapped_count]).toEqual([0, 0, 0]);
  });

  it('has a factory for the registry', () => {
    expect(STATIC.samples).toBe('separate');
    expect(STATIC.create(new BlockManager(10, 16), LIMITS)).toBeInstanceOf(StaticScheduler);
  });
});
