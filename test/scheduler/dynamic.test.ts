import { describe, expect, it } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { DYNAMIC, DynamicScheduler } from '../../sim/scheduler/dynamic.js';
import type { SchedulerLimits } from '../../sim/scheduler/scheduler.js';
import { Sequence } from '../../sim/scheduler/sequence.js';
import { applyPlan } from './helpers.js';

const LIMITS: SchedulerLimits = {
  max_num_seqs: 256,
  max_num_batched_tokens: 8192,
  enable_chunked_prefill: false,
  preemption: 'recompute',
  scheduling_policy: 'fcfs',
  max_model_len: 1024,
  orca_reservation: 'oracle',
  max_batch_size: 3,
  batch_timeout_s: 0.5,
};

/** A request that reached the engine at `enqueued_s` (the engine stamps it on admission). */
function seq(id: number, enqueued_s: number, prompt = 10, output = 2): Sequence {
  const s = new Sequence({ id, arrival_s: enqueued_s, input_tokens: prompt, output_tokens: output }, 0);
  s.enqueued_s = enqueued_s;
  return s;
}

function setup(limits: Partial<SchedulerLimits> = {}) {
  const kv = new BlockManager(1000, 16);
  return { kv, sched: new DynamicScheduler(kv, { ...LIMITS, ...limits }) };
}

/** Forms and applies one step the way the replica does; returns the scheduled ids. */
function step(kv: BlockManager, sched: DynamicScheduler, now_s: number): number[] {
  const plan = sched.schedule(now_s);
  const ran = plan.scheduled.map((s) => s.id);
  applyPlan(kv, sched, plan);
  return ran;
}

describe('dynamic batching', () => {
  it('waits for the oldest request’s time-out, asking to be woken then', () => {
    const { kv, sched } = setup();
    sched.enqueue(seq(0, 1));
    let plan = sched.schedule(1);
    expect(plan.scheduled).toEqual([]);
    expect(plan.wake_at_s).toBe(1.5);
    sched.enqueue(seq(1, 1.2));
    plan = sched.schedule(1.2);
    expect(plan.scheduled).toEqual([]);
    expect(plan.wake_at_s).toBe(1.5); // still the oldest's deadline
    expect(step(kv, sched, 1.5)).toEqual([0, 1]);
    expect(sched.schedule(1.6).wake_at_s).toBeNaN();
  });

  it('dispatches at once when max_batch_size requests wait', () => {
    const { kv, sched } = setup();
    sched.enqueue(seq(0, 0));
    expect(sched.schedule(0).scheduled).toEqual([]);
    sched.enqueue(seq(1, 0.1));
    sched.enqueue(seq(2, 0.1));
    sched.enqueue(seq(3, 0.1));
    expect(step(kv, sched, 0.1)).toEqual([0, 1, 2]);
    expect(sched.waiting_count).toBe(1);
  });

  it('with a zero time-out dispatches whatever waits, like static batching', () => {
    const { kv, sched } = setup({ batch_timeout_s: 0 });
    sched.enqueue(seq(0, 3));
    expect(step(kv, sched, 3)).toEqual([0]);
  });

  it('counts the wait from when a request reached the engine, even while a batch was running', () => {
    const { kv, sched } = setup({ max_batch_size: 2, batch_timeout_s: 0.5 });
    sched.enqueue(seq(0, 0, 10, 3));
    sched.enqueue(seq(1, 0, 10, 3));
    expect(step(kv, sched, 0)).toEqual([0, 1]);
    sched.enqueue(seq(2, 0.1)); // arrives during the batch
    expect(step(kv, sched, 1)).toEqual([0, 1]);
    expect(step(kv, sched, 2)).toEqual([0, 1]); // the batch ends
    // Request 2 has waited since 0.1, longer than its 0.5 s time-out: it goes at once.
    expect(step(kv, sched, 3)).toEqual([2]);
  });

  it('cancelWaiting withdraws a waiting request; the next oldest sets the deadline', () => {
    const { kv, sched } = setup();
    const [a, b] = [seq(0, 0), seq(1, 0.4)];
    sched.enqueue(a);
    sched.enqueue(b);
    expect(sched.schedule(0.4).wake_at_s).toBe(0.5);
    expect(sched.cancelWaiting(a)).toBe(true);
    expect(sched.cancelWaiting(a)).toBe(false);
    expect(sched.schedule(0.5).wake_at_s).toBe(0.9);
    expect(step(kv, sched, 0.9)).toEqual([1]);
    expect(sched.cancelWaiting(b)).toBe(false);
  });

  it('has a factory for the registry', () => {
    expect(DYNAMIC.samples).toBe('separate');
    expect(DYNAMIC.create(new BlockManager(10, 16), LIMITS)).toBeInstanceOf(DynamicScheduler);
  });
});
