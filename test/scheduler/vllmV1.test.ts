import { describe, expect, it } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { VllmV1Scheduler } from '../../sim/scheduler/vllmV1.js';
import { Sequence } from '../../sim/scheduler/sequence.js';
import { applyPlan, flat } from './helpers.js';

function seq(id: number, prompt: number, output = 10): Sequence {
  return new Sequence({ id, arrival_s: 0, input_tokens: prompt, output_tokens: output }, 0);
}


function setup(blocks: number, budget: number, maxSeqs = 256, chunked = true) {
  const kv = new BlockManager(blocks, 16);
  const sched = new VllmV1Scheduler(kv, {
    max_num_batched_tokens: budget,
    max_num_seqs: maxSeqs,
    enable_chunked_prefill: chunked,
    preemption: 'recompute',
    scheduling_policy: 'fcfs',
    max_model_len: 1 << 20,
    orca_reservation: 'max',
    max_batch_size: maxSeqs,
    batch_timeout_s: 0,
  });
  return { kv, sched };
}

describe('vLLM V1 scheduler', () => {
  it('shares one token budget: running first, then waiting FCFS, chunking the prompt that overflows', () => {
    const { kv, sched } = setup(1000, 100);
    const [a, b, c] = [seq(0, 60), seq(1, 60), seq(2, 30)];
    [a, b, c].forEach((s) => sched.enqueue(s));
    let plan = sched.schedule(0);
    expect(plan.scheduled.map((s) => [s.id, s.scheduled_tokens])).toEqual([[0, 60], [1, 40]]);
    expect(plan.batch).toMatchObject({ prefill_seqs: 2, prefill_tokens: 100, decode_seqs: 0, emitting_seqs: 1 });
    applyPlan(kv, sched, plan);
    plan = sched.schedule(1);
    // A decodes (1 token), B finishes its prompt (20), C is admitted with the rest of the budget.
    expect(plan.scheduled.map((s) => [s.id, s.scheduled_tokens])).toEqual([[0, 1], [1, 20], [2, 30]]);
    expect(plan.batch).toMatchObject({ decode_seqs: 1, decode_context_tokens: 61, prefill_seqs: 2, prefill_tokens: 50, emitting_seqs: 3 });
    // B's chunk: 20 new tokens after 40 cached → 20·(40 + 21/2) pairs; C: 30·(0 + 31/2).
    expect(plan.batch.prefill_attention_pairs).toBe(20 * (40 + 10.5) + 30 * 15.5);
  });

  it('allocates ceil((computed + new) / block_size) blocks at scheduling time', () => {
    const { kv, sched } = setup(1000, 100);
    const a = seq(0, 60);
    sched.enqueue(a);
    let plan = sched.schedule(0);
    expect(a.kv.block_count).toBe(4); // ceil(60 / 16)
    applyPlan(kv, sched, plan);
    for (let step = 0; step < 4; step++) {
      plan = sched.schedule(step + 1);
      expect(a.kv.block_count).toBe(Math.ceil((60 + step + 1) / 16));
      applyPlan(kv, sched, plan);
    }
    expect(kv.used_blocks).toBe(a.kv.block_count);
  });

  it('preempts the tail of the running list when an earlier request needs a block', () => {
    const { kv, sched } = setup(3, 100);
    const [a, b] = [seq(0, 32), seq(1, 16)];
    sched.enqueue(a);
    sched.enqueue(b);
    applyPlan(kv, sched, sched.schedule(0)); // A: 2 blocks, B: 1 block, pool empty
    expect(kv.free_blocks).toBe(0);
    sched.enqueue(seq(2, 5)); // must not be admitted in a step that preempted
    const plan = sched.schedule(1);
    expect(plan.preempted).toBe(1);
    expect(plan.scheduled.map((s) => s.id)).toEqual([0]);
    expect(a.kv.block_count).toBe(3);
    expect(flat(b)).toMatchObject({ kv_blocks: 0, computed_tokens: 0, preemptions: 1, discarded_tokens: 16, prefill_end: 17 });
    expect(sched.waiting_count).toBe(2);
    expect(sched.running_count).toBe(1);
  });

  it('preempts the requester itself when it is the tail', () => {
    const { kv, sched } = setup(3, 100);
    const [a, b] = [seq(0, 20), seq(1, 16)];
    sched.enqueue(a);
    sched.enqueue(b);
    applyPlan(kv, sched, sched.schedule(0)); // A 2 blocks (room for 32 tokens), B 1 block
    // A's decode fits in its blocks; B needs a 2nd block, none is free, and B is the tail.
    const plan = sched.schedule(1);
    expect(plan.preempted).toBe(1);
    expect(plan.scheduled.map((s) => s.id)).toEqual([0]);
    expect(flat(b)).toMatchObject({ preemptions: 1, kv_blocks: 0, computed_tokens: 0 });
    expect(kv.free_blocks).toBe(1);
    // B needs 2 blocks for its 17 tokens: with 1 free it waits, and A is not preempted for it.
    applyPlan(kv, sched, plan);
    const next = sched.schedule(2);
    expect(next.scheduled.map((s) => s.id)).toEqual([0]);
    expect(next.preempted).toBe(0);
    expect(sched.waiting_count).toBe(1);
  });

  it('recomputes prompt + generated tokens after a preemption and emits the next token', () => {
    const { kv, sched } = setup(100, 1000);
    const b = seq(1, 32);
    sched.enqueue(b);
    applyPlan(kv, sched, sched.schedule(0));
    applyPlan(kv, sched, sched.schedule(1)); // one decode: 2 tokens generated, 33 computed
    expect(b.generated_tokens).toBe(2);
    // Reset the way a recompute preemption does (the preemption itself is tested above).
    b.computed_tokens = 0;
    b.prefill_end = b.known_tokens;
    const plan = sched.schedule(2);
    expect(plan.scheduled[0].scheduled_tokens).toBe(34);
    expect(plan.batch).toMatchObject({ prefill_tokens: 34, decode_tokens: 0, emitting_seqs: 1 });
  });

  it('admits no more than max_num_seqs running requests', () => {
    const { sched } = setup(1000, 1000, 2);
    [seq(0, 10), seq(1, 10), seq(2, 10)].forEach((s) => sched.enqueue(s));
    const plan = sched.schedule(0);
    expect(plan.scheduled.length).toBe(2);
    expect(sched.waiting_count).toBe(1);
  });

  it('without chunked prefill, stops admission at a prompt larger than the remaining budget', () => {
    const { sched } = setup(1000, 100, 256, false);
    [seq(0, 60), seq(1, 60), seq(2, 10)].forEach((s) => sched.enqueue(s));
    const plan = sched.schedule(0);
    expect(plan.scheduled.map((s) => s.id)).toEqual([0]);
  });

  it('a waiting request that lacks blocks preempts nobody and stops admission', () => {
    const { kv, sched } = setup(3, 1000);
    const a = seq(0, 40);
    sched.enqueue(a);
    applyPlan(kv, sched, sched.schedule(0)); // 3 blocks
    sched.enqueue(seq(1, 10));
    sched.enqueue(seq(2, 10));
    const plan = sched.schedule(1); // A's decode fits in its 3rd block (41 ≤ 48)
    expect(plan.scheduled.map((s) => s.id)).toEqual([0]);
    expect(plan.preempted).toBe(0);
    expect(kv.free_blocks).toBe(0);
    expect(sched.waiting_count).toBe(2);
  });
});
