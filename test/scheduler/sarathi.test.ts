import { describe, expect, it } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import type { SchedulerLimits } from '../../sim/scheduler/scheduler.js';
import { Sequence } from '../../sim/scheduler/sequence.js';
import { SARATHI, VllmV0Scheduler } from '../../sim/scheduler/vllmV0.js';
import { applyPlan, flat } from './helpers.js';

/** Sarathi-Serve's stall-free batching (V0's `stall-free` policy), driven step by step with hand-computed expectations. */

const LIMITS: SchedulerLimits = {
  max_num_seqs: 256,
  max_num_batched_tokens: 512,
  enable_chunked_prefill: true,
  preemption: 'auto',
  scheduling_policy: 'fcfs',
  max_model_len: 8192,
  orca_reservation: 'max',
  max_batch_size: 256,
  batch_timeout_s: 0,
};

function seq(id: number, prompt: number, output = 10): Sequence {
  return new Sequence({ id, arrival_s: 0, input_tokens: prompt, output_tokens: output }, 0);
}

function setup(blocks: number, limits: Partial<SchedulerLimits> = {}, swap_blocks = 0) {
  const kv = new BlockManager(blocks, 16, { swap_blocks });
  const sched = new VllmV0Scheduler(kv, { ...LIMITS, ...limits }, 'stall-free');
  return { kv, sched };
}

interface Ran {
  /** [request id, scheduled tokens] in plan order. */
  ran: number[][];
  prefill_tokens: number;
  decode_tokens: number;
  preempted: number;
  swap_out: number;
}

/** Forms one step and applies it as the replica does (advance, emit, free finished, afterStep). */
function step(kv: BlockManager, sched: VllmV0Scheduler, now_s = 0): Ran {
  const plan = sched.schedule(now_s);
  const out: Ran = {
    ran: plan.scheduled.map((s) => [s.id, s.scheduled_tokens]),
    prefill_tokens: plan.batch.prefill_tokens,
    decode_tokens: plan.batch.decode_tokens,
    preempted: plan.preempted,
    swap_out: plan.swap_out_blocks,
  };
  applyPlan(kv, sched, plan, now_s + 1);
  return out;
}

describe('Sarathi stall-free batching (budget 512)', () => {
  it('fills the budget with decodes first, then the in-flight prompt\'s next chunk, then new prompts in chunks', () => {
    const { kv, sched } = setup(1000);
    const [a, b, c] = [seq(0, 100), seq(1, 1000), seq(2, 300)];
    sched.enqueue(a);
    sched.enqueue(b);
    // A whole (100), then B's first chunk takes the rest of the budget (412).
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 100], [1, 412]], prefill_tokens: 512, decode_tokens: 0 });
    expect([a.generated_tokens, b.generated_tokens, b.computed_tokens]).toEqual([1, 0, 412]);
    sched.enqueue(c);
    // A decodes (1); B's next chunk takes the other 511; C waits.
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 1], [1, 511]], prefill_tokens: 511, decode_tokens: 1 });
    expect(sched.waiting_count).toBe(1);
    // A decodes, B's last 77 tokens end its prompt, C is admitted whole (300 ≤ 433).
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 1], [1, 77], [2, 300]], prefill_tokens: 377, decode_tokens: 1 });
    expect([b.generated_tokens, c.generated_tokens]).toEqual([1, 1]);
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 1], [1, 1], [2, 1]], prefill_tokens: 0, decode_tokens: 3 });
  });

  it('never makes a decode wait for a long prompt: all 4 decodes run in each of the 10 steps of a 5000-token prompt', () => {
    const { kv, sched } = setup(1000);
    const decoders = [0, 1, 2, 3].map((i) => seq(i, 50, 100));
    decoders.forEach((d) => sched.enqueue(d));
    expect(step(kv, sched).ran).toEqual([[0, 50], [1, 50], [2, 50], [3, 50]]);
    const p = seq(9, 5000, 5);
    sched.enqueue(p);
    // 512 − 4 decodes = 508 prompt tokens a step: 9 chunks of 508, then the last 428.
    const chunks = [...Array<number>(9).fill(508), 428];
    for (const [k, chunk] of chunks.entries()) {
      const s = step(kv, sched, k + 1);
      expect(s.ran).toEqual([[0, 1], [1, 1], [2, 1], [3, 1], [9, chunk]]);
      expect([s.decode_tokens, s.prefill_tokens]).toEqual([4, chunk]);
      expect(p.generated_tokens).toBe(k === chunks.length - 1 ? 1 : 0);
    }
    expect(decoders.map((d) => d.generated_tokens)).toEqual([11, 11, 11, 11]);
    expect(step(kv, sched)).toMatchObject({ decode_tokens: 5, prefill_tokens: 0 });
  });

  it('takes the whole prompt\'s blocks at admission, though it computes the prompt in chunks', () => {
    const { kv, sched } = setup(1000);
    const p = seq(0, 5000, 2);
    sched.enqueue(p);
    expect(step(kv, sched).ran).toEqual([[0, 512]]);
    expect(p.kv.block_count).toBe(313); // ceil(5000 / 16), not ceil(512 / 16) = 32
    expect(kv.used_blocks).toBe(313);
    step(kv, sched);
    expect([p.computed_tokens, p.kv.block_count]).toEqual([1024, 313]);
  });

  it('keeps a prompt waiting when its whole prompt misses the watermark, even if its first chunk would fit', () => {
    const { kv, sched } = setup(100); // watermark: 1 block
    const x = seq(0, 160, 20); // 10 blocks
    sched.enqueue(x);
    step(kv, sched);
    // Decodes come first: X takes its 11th block (token 161), leaving 89. The new prompt needs 89
    // blocks (89 − 89 < 1) and waits, though its first chunk (511 tokens) would need only 32.
    sched.enqueue(seq(1, 1424));
    expect(step(kv, sched).ran).toEqual([[0, 1]]);
    expect(sched.waiting_count).toBe(1);
    expect(kv.free_blocks).toBe(89);

    const { kv: kv2, sched: sched2 } = setup(100);
    sched2.enqueue(seq(0, 160, 20));
    step(kv2, sched2);
    sched2.enqueue(seq(1, 1408)); // 88 blocks: 89 − 88 = 1 ≥ 1
    expect(step(kv2, sched2).ran).toEqual([[0, 1], [1, 511]]);
  });

  it('recomputes (never swaps) a prompt preempted mid-chunking, even one of a multi-sample request', () => {
    // A (32 tokens, 2 blocks) decodes; B (600 tokens, 38 blocks taken at admission) is chunked; the pool has 40 blocks.
    const { kv, sched } = setup(40, {}, 100);
    const a = seq(0, 32, 50);
    const b = seq(1, 600, 5);
    b.group = { sequences: [b], remaining: 1, started: false };
    sched.enqueue(a);
    sched.enqueue(b);
    expect(step(kv, sched).ran).toEqual([[0, 32], [1, 480]]);
    expect(kv.free_blocks).toBe(0);
    // A's 33rd token needs a 3rd block: B, the tail, is preempted; it is in its prompt pass, so it is recomputed.
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 1]], preempted: 1, swap_out: 0 });
    expect(flat(b)).toMatchObject({ kv_blocks: 0, swapped_blocks: 0, computed_tokens: 0, discarded_tokens: 480, preemptions: 1 });
    // Back in the waiting queue, it needs its 38 blocks again: 37 are free, so it waits.
    expect([sched.waiting_count, sched.swapped_count, kv.free_blocks]).toEqual([1, 0, 37]);
  });

  it('swaps out a decoding sample, still admits new prompts while it is out (V0 chunked path), then swaps it back in', () => {
    // A and B (a sample of a multi-sample request) have 32 tokens (2 blocks) each and fill 4 blocks.
    const { kv, sched } = setup(4, { preemption: 'swap' }, 10);
    const a = seq(0, 32, 3);
    const b = seq(1, 32, 5);
    b.group = { sequences: [b], remaining: 1, started: false };
    sched.enqueue(a);
    sched.enqueue(b);
    step(kv, sched);
    // A's 33rd token needs a 3rd block: B is swapped out (2 blocks), A takes one, 1 stays free.
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 1]], preempted: 1, swap_out: 2 });
    expect(flat(b)).toMatchObject({ swapped_blocks: 2, computed_tokens: 32, kv_blocks: 0 });
    expect(kv.free_blocks).toBe(1);
    // C needs 1 block and 1 is free: unlike prefill-first V0, the chunked path admits it although B is swapped out.
    sched.enqueue(seq(2, 5));
    expect(step(kv, sched).ran).toEqual([[0, 1], [2, 5]]); // A's last token and C's prompt
    expect([sched.waiting_count, sched.swapped_count]).toEqual([0, 1]);
    // A's 3 blocks are free: B swaps back in (2 blocks + 1 for its next token) and decodes without recompute.
    const plan = sched.schedule(3);
    expect(plan.swap_in_blocks).toBe(2);
    expect(plan.scheduled.map((x) => [x.id, x.scheduled_tokens])).toEqual([[2, 1], [1, 1]]);
    expect(flat(b)).toMatchObject({ computed_tokens: 32, kv_blocks: 3, discarded_tokens: 0 });
  });

  it('a prompt in flight holds the seats of the samples it will fork (max_num_seqs 4)', () => {
    const { kv, sched } = setup(1000, { max_num_seqs: 4 });
    const leader = seq(0, 1000, 5);
    leader.group = { sequences: [leader], remaining: 1, started: false };
    leader.pending_forks = 2; // 3 samples
    const other = seq(1, 10, 5);
    other.group = { sequences: [other], remaining: 1, started: false };
    other.pending_forks = 1; // 2 samples
    sched.enqueue(leader);
    sched.enqueue(other);
    expect(step(kv, sched).ran).toEqual([[0, 512]]);
    // 24 tokens of budget are left after the leader's last chunk, but 3 + 2 seats > 4: the other request waits.
    expect(step(kv, sched).ran).toEqual([[0, 488]]);
    expect([sched.running_count, sched.waiting_count]).toEqual([3, 1]); // the leader forked its 2 samples
    expect(step(kv, sched).ran).toEqual([[0, 1], [0, 1], [0, 1]]);
    expect(sched.waiting_count).toBe(1);
  });

  it('has a factory for the registry that forks samples', () => {
    expect(SARATHI.samples).toBe('fork');
    expect(SARATHI.create(new BlockManager(10, 16), LIMITS)).toBeInstanceOf(VllmV0Scheduler);
  });
});
