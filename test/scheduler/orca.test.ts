import { describe, expect, it } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { ORCA, OrcaScheduler } from '../../sim/scheduler/orca.js';
import { nextPowerOfTwo, reservedTokens } from '../../sim/scheduler/requestLevel.js';
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
  orca_reservation: 'max',
  max_batch_size: 256,
  batch_timeout_s: 0,
};

function seq(id: number, prompt: number, output: number, max_tokens?: number): Sequence {
  return new Sequence({ id, arrival_s: 0, input_tokens: prompt, output_tokens: output, max_tokens }, 0);
}

function setup(blocks: number, limits: Partial<SchedulerLimits> = {}) {
  const kv = new BlockManager(blocks, 16);
  const sched = new OrcaScheduler(kv, { ...LIMITS, ...limits });
  return { kv, sched };
}

/** Forms and applies one step the way the replica does; returns [id, scheduled tokens] pairs. */
function step(kv: BlockManager, sched: OrcaScheduler, now_s = 0): number[][] {
  const plan = sched.schedule(now_s);
  expect(plan.preempted).toBe(0);
  const ran = plan.scheduled.map((s) => [s.id, s.scheduled_tokens]);
  applyPlan(kv, sched, plan);
  return ran;
}

describe('Orca reservations', () => {
  it('reserves max (max_tokens, else max_model_len), pow2 or oracle tokens', () => {
    const limits = (r: SchedulerLimits['orca_reservation']) => ({ ...LIMITS, orca_reservation: r });
    expect(reservedTokens(seq(0, 100, 20), limits('max'))).toBe(1024);
    expect(reservedTokens(seq(0, 100, 20, 50), limits('max'))).toBe(150);
    expect(reservedTokens(seq(0, 1000, 20, 50), limits('max'))).toBe(1024); // max_tokens beyond the model
    expect(reservedTokens(seq(0, 100, 20), limits('pow2'))).toBe(132);
    expect(reservedTokens(seq(0, 100, 16), limits('pow2'))).toBe(116);
    expect(reservedTokens(seq(0, 100, 20, 25), limits('pow2'))).toBe(125); // capped at max
    expect(reservedTokens(seq(0, 100, 20), limits('oracle'))).toBe(120);
    expect([1, 2, 3, 16, 17].map(nextPowerOfTwo)).toEqual([1, 2, 4, 16, 32]);
  });

  it('allocates the whole reservation at admission and nothing more while decoding', () => {
    for (const [r, blocks] of [['max', 64], ['pow2', 9], ['oracle', 8]] as const) {
      const { kv, sched } = setup(1000, { orca_reservation: r });
      const a = seq(0, 100, 20);
      sched.enqueue(a);
      step(kv, sched);
      expect(a.kv.block_count).toBe(blocks); // ceil(1024 | 132 | 120 / 16)
      for (let i = 1; i < 19; i++) step(kv, sched);
      expect(a.kv.block_count).toBe(blocks);
      step(kv, sched); // 20th token
      expect(kv.used_blocks).toBe(0);
    }
  });

  it('a 200-block pool admits exactly 3 max, 22 pow2 or 25 oracle reservations', () => {
    for (const [r, k] of [['max', 3], ['pow2', 22], ['oracle', 25]] as const) {
      const { kv, sched } = setup(200, { orca_reservation: r });
      for (let i = 0; i < 30; i++) sched.enqueue(seq(i, 100, 20));
      expect(step(kv, sched).length).toBe(k);
      expect(sched.running_count).toBe(k);
      expect(sched.waiting_count).toBe(30 - k);
    }
  });

  it('admits the next requests as soon as reservations are released', () => {
    const { kv, sched } = setup(200);
    for (let i = 0; i < 6; i++) sched.enqueue(seq(i, 100, 20));
    expect(step(kv, sched).map(([id]) => id)).toEqual([0, 1, 2]);
    for (let i = 1; i < 20; i++) expect(step(kv, sched).map(([id]) => id)).toEqual([0, 1, 2]);
    expect(kv.used_blocks).toBe(0);
    expect(step(kv, sched)).toEqual([[3, 100], [4, 100], [5, 100]]);
  });

  it('the head of the queue blocks smaller requests behind it', () => {
    const { kv, sched } = setup(70);
    [seq(0, 100, 5), seq(1, 100, 5), seq(2, 16, 5, 16)].forEach((s) => sched.enqueue(s));
    expect(step(kv, sched)).toEqual([[0, 100]]);
    // 6 blocks are free: request 2 would fit (2 blocks) but waits behind request 1 (64).
    expect(step(kv, sched)).toEqual([[0, 1]]);
    expect(sched.waiting_count).toBe(2);
  });
});

describe('Orca scheduling', () => {
  it('is iteration-level: a request that arrives mid-flight joins the next iteration', () => {
    const { kv, sched } = setup(1000);
    const a = seq(0, 32, 3);
    sched.enqueue(a);
    expect(step(kv, sched)).toEqual([[0, 32]]);
    sched.enqueue(seq(1, 20, 2));
    const plan = sched.schedule(1);
    expect(plan.scheduled.map((s) => [s.id, s.scheduled_tokens])).toEqual([[0, 1], [1, 20]]);
    expect(plan.batch).toMatchObject({
      decode_seqs: 1, decode_context_tokens: 33, prefill_seqs: 1, prefill_tokens: 20, emitting_seqs: 2,
      prefill_attention_pairs: 20 * 10.5,
    });
    expect(plan.scheduled[1].first_scheduled_s).toBe(1);
    expect(plan.wake_at_s).toBeNaN();
  });

  it('prefills whole prompts under the per-iteration token cap, decodes first', () => {
    const { kv, sched } = setup(1000, { max_num_batched_tokens: 100 });
    [seq(0, 60, 5), seq(1, 60, 5), seq(2, 30, 5)].forEach((s) => sched.enqueue(s));
    // B (60 + 60 > 100) stops admission; C would fit but may not pass B.
    expect(step(kv, sched)).toEqual([[0, 60]]);
    // 1 decode + 60 + 30 = 91 ≤ 100.
    expect(step(kv, sched)).toEqual([[0, 1], [1, 60], [2, 30]]);
  });

  it('runs a prompt longer than the cap alone, once the iteration would otherwise be empty', () => {
    const { kv, sched } = setup(1000, { max_num_batched_tokens: 100 });
    [seq(0, 20, 2), seq(1, 150, 2)].forEach((s) => sched.enqueue(s));
    expect(step(kv, sched)).toEqual([[0, 20]]);
    expect(step(kv, sched)).toEqual([[0, 1]]); // 1 + 150 > 100; request 0 finishes
    expect(step(kv, sched)).toEqual([[1, 150]]);
  });

  it('counts one token per decode against the cap', () => {
    const { kv, sched } = setup(1000, { max_num_batched_tokens: 100 });
    [seq(0, 20, 5), seq(1, 99, 5), seq(2, 99, 5)].forEach((s) => sched.enqueue(s));
    expect(step(kv, sched)).toEqual([[0, 20]]);
    expect(step(kv, sched)).toEqual([[0, 1], [1, 99]]); // exactly 100
    expect(step(kv, sched)).toEqual([[0, 1], [1, 1]]); // 2 + 99 > 100
  });

  it('admits at most max_num_seqs requests', () => {
    const { kv, sched } = setup(1000, { max_num_seqs: 2, orca_reservation: 'oracle' });
    [seq(0, 10, 1), seq(1, 10, 3), seq(2, 10, 3)].forEach((s) => sched.enqueue(s));
    expect(step(kv, sched)).toEqual([[0, 10], [1, 10]]);
    expect(step(kv, sched)).toEqual([[1, 1], [2, 10]]); // request 0 left after its only token
  });

  it('cancelWaiting withdraws only never-scheduled waiting requests', () => {
    const { kv, sched } = setup(1000, { max_num_seqs: 1 });
    const [a, b, c] = [seq(0, 10, 3), seq(1, 10, 3), seq(2, 10, 3)];
    [a, b, c].forEach((s) => sched.enqueue(s));
    step(kv, sched);
    expect(sched.cancelWaiting(a)).toBe(false);
    expect(sched.cancelWaiting(b)).toBe(true);
    expect(sched.cancelWaiting(b)).toBe(false);
    expect(sched.waiting_count).toBe(1);
    step(kv, sched);
    step(kv, sched);
    expect(step(kv, sched)).toEqual([[2, 10]]);
    expect([sched.swapped_count, b.kv.block_count]).toEqual([0, 0]);
  });

  it('has a factory for the registry', () => {
    expect(ORCA.samples).toBe('separate');
    expect(ORCA.create(new BlockManager(10, 16), LIMITS)).toBeInstanceOf(OrcaScheduler);
  });
});
