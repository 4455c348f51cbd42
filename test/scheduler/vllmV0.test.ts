import { describe, expect, it } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import type { SchedulerLimits } from '../../sim/scheduler/scheduler.js';
import { Sequence } from '../../sim/scheduler/sequence.js';
import { V0_WATERMARK, VLLM_V0, VllmV0Scheduler } from '../../sim/scheduler/vllmV0.js';
import { applyPlan, flat } from './helpers.js';

/** vLLM V0's default scheduler (`prefill-first`), driven step by step with hand-computed expectations. */

const LIMITS: SchedulerLimits = {
  max_num_seqs: 256,
  max_num_batched_tokens: 4096,
  enable_chunked_prefill: false,
  preemption: 'auto',
  scheduling_policy: 'fcfs',
  max_model_len: 4096,
  orca_reservation: 'max',
  max_batch_size: 256,
  batch_timeout_s: 0,
};

function seq(id: number, prompt: number, output = 10, extra: { priority?: number; arrival_s?: number } = {}): Sequence {
  return new Sequence({ id, arrival_s: extra.arrival_s ?? 0, input_tokens: prompt, output_tokens: output, priority: extra.priority }, 0);
}

/** A request with several samples: the leader, in its own group, forks `forks` siblings after its prompt pass. */
function grouped(s: Sequence, forks = 0): Sequence {
  s.group = { sequences: [s], remaining: 1, started: false };
  s.pending_forks = forks;
  return s;
}

function setup(blocks: number, limits: Partial<SchedulerLimits> = {}, swap_blocks = 0) {
  const kv = new BlockManager(blocks, 16, { swap_blocks });
  const sched = new VllmV0Scheduler(kv, { ...LIMITS, ...limits }, 'prefill-first');
  return { kv, sched };
}

interface Ran {
  /** [request id, sample, scheduled tokens] in plan order. */
  ran: number[][];
  prefill_tokens: number;
  decode_tokens: number;
  preempted: number;
  swap_in: number;
  swap_out: number;
}

/**
 * Forms one step at `now_s` and applies it as the replica does: computed += scheduled, a token
 * when every known token is computed, a finished sequence's blocks freed, then `afterStep`.
 */
function step(kv: BlockManager, sched: VllmV0Scheduler, now_s = 0): Ran {
  const plan = sched.schedule(now_s);
  const out: Ran = {
    ran: plan.scheduled.map((s) => [s.id, s.sample, s.scheduled_tokens]),
    prefill_tokens: plan.batch.prefill_tokens,
    decode_tokens: plan.batch.decode_tokens,
    preempted: plan.preempted,
    swap_in: plan.swap_in_blocks,
    swap_out: plan.swap_out_blocks,
  };
  applyPlan(kv, sched, plan, now_s + 1);
  return out;
}

describe('vLLM V0 prefill-first steps', () => {
  it('runs whole prompts in a prefill-only step whenever one is admissible, and decodes otherwise', () => {
    const { kv, sched } = setup(1000);
    const [a, b, c] = [seq(0, 100, 5), seq(1, 200, 5), seq(2, 50, 5)];
    sched.enqueue(a);
    sched.enqueue(b);
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 100], [1, 0, 200]], prefill_tokens: 300, decode_tokens: 0 });
    sched.enqueue(c);
    // C is admissible: the step is C's prompt alone; A and B do not decode in it.
    expect(step(kv, sched)).toMatchObject({ ran: [[2, 0, 50]], prefill_tokens: 50, decode_tokens: 0 });
    expect([a.generated_tokens, b.generated_tokens, c.generated_tokens]).toEqual([1, 1, 1]);
    // Nothing waits: every running sequence decodes one token.
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 1], [1, 0, 1], [2, 0, 1]], prefill_tokens: 0, decode_tokens: 3 });
  });

  it('admits whole prompts only, FCFS, while they fit the token budget and max_num_seqs', () => {
    const { kv, sched } = setup(1000, { max_num_batched_tokens: 250 });
    [seq(0, 100), seq(1, 200), seq(2, 10)].forEach((s) => sched.enqueue(s));
    // 100 + 200 > 250: B waits (it is never chunked), and C may not pass it.
    expect(step(kv, sched).ran).toEqual([[0, 0, 100]]);
    // B fits alone: a prefill-only step, A does not decode; then C (10 ≤ 250 − 200) joins B's step.
    expect(step(kv, sched).ran).toEqual([[1, 0, 200], [2, 0, 10]]);
    expect(step(kv, sched).ran).toEqual([[0, 0, 1], [1, 0, 1], [2, 0, 1]]);

    const seats = setup(1000, { max_num_seqs: 2 });
    [seq(0, 10), seq(1, 10), seq(2, 10)].forEach((s) => seats.sched.enqueue(s));
    expect(step(seats.kv, seats.sched).ran).toEqual([[0, 0, 10], [1, 0, 10]]);
    expect(seats.sched.waiting_count).toBe(1);
  });

  it('keeps the 1 % watermark free at admission: with 200 blocks, a prompt needing free − 1 blocks waits', () => {
    expect(Math.floor(V0_WATERMARK * 200)).toBe(2);
    for (const [blocks, admitted] of [[99, false], [98, true]] as const) {
      const { kv, sched } = setup(200);
      const x = seq(0, 1600, 10); // 100 blocks
      sched.enqueue(x);
      step(kv, sched);
      expect(kv.free_blocks).toBe(100);
      sched.enqueue(seq(1, blocks * 16));
      // 100 − 99 = 1 < 2 keeps the prompt waiting (X decodes instead); 100 − 98 = 2 admits it.
      const ran = step(kv, sched).ran;
      expect(ran).toEqual(admitted ? [[1, 0, blocks * 16]] : [[0, 0, 1]]);
      expect(sched.waiting_count).toBe(admitted ? 0 : 1);
      expect(kv.free_blocks).toBe(admitted ? 2 : 99); // X's first decode took its 101st block
    }
  });

  it('an empty 200-block pool admits a 198-block prompt but not a 199-block one', () => {
    for (const [blocks, admitted] of [[199, false], [198, true]] as const) {
      const { kv, sched } = setup(200);
      sched.enqueue(seq(0, blocks * 16));
      expect(step(kv, sched).ran).toEqual(admitted ? [[0, 0, blocks * 16]] : []);
    }
  });
});

describe('vLLM V0 preemption', () => {
  /** A (32 tokens, 2 blocks) and B (16 tokens, 1 block) fill a 3-block pool; A's first decode needs a 3rd block. */
  function full(swap_blocks: number, limits: Partial<SchedulerLimits> = {}, bGroup = false, aOutput = 3) {
    const { kv, sched } = setup(3, limits, swap_blocks);
    const a = seq(0, 32, aOutput);
    const b = bGroup ? grouped(seq(1, 16, 5)) : seq(1, 16, 5);
    sched.enqueue(a);
    sched.enqueue(b);
    expect(step(kv, sched).ran).toEqual([[0, 0, 32], [1, 0, 16]]);
    expect(kv.free_blocks).toBe(0);
    return { kv, sched, a, b };
  }

  it('preempts the last running sequence by recompute when it is a single-sample request (even with swap space)', () => {
    const { kv, sched, a, b } = full(10);
    const s = step(kv, sched);
    expect(s).toMatchObject({ ran: [[0, 0, 1]], preempted: 1, swap_out: 0 });
    expect(a.kv.block_count).toBe(3);
    expect(flat(b)).toMatchObject({ kv_blocks: 0, swapped_blocks: 0, computed_tokens: 0, preemptions: 1, discarded_tokens: 16, prefill_end: 17 });
    expect([sched.waiting_count, sched.running_count, sched.swapped_count]).toEqual([1, 1, 0]);
    // A finishes (3rd token), then B re-prefills its prompt and its first token: 17 tokens.
    expect(step(kv, sched).ran).toEqual([[0, 0, 1]]);
    expect(kv.used_blocks).toBe(0);
    expect(step(kv, sched)).toMatchObject({ ran: [[1, 0, 17]], prefill_tokens: 17, decode_tokens: 0 });
    expect(b.generated_tokens).toBe(2);
  });

  it('cancelWaiting (a time-out) withdraws a never-scheduled sequence, not a preempted one', () => {
    const { kv, sched, b } = full(10);
    const c = seq(2, 5);
    sched.enqueue(c);
    step(kv, sched); // B preempted by recompute: waiting again, but it was scheduled once
    expect(sched.waiting_count).toBe(2);
    expect(sched.cancelWaiting(b)).toBe(false);
    expect(sched.cancelWaiting(c)).toBe(true);
    expect(sched.cancelWaiting(c)).toBe(false);
    expect(sched.waiting_count).toBe(1);
  });

  it('auto recomputes a request with a single running sample, as V0 does (get_max_num_running_seqs() == 1)', () => {
    const { kv, sched, b } = full(10, {}, true);
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 1]], preempted: 1, swap_out: 0 });
    expect(flat(b)).toMatchObject({ swapped_blocks: 0, computed_tokens: 0, discarded_tokens: 16 });
  });

  it('auto swaps a request whose samples run together, as one unit: shared blocks move once and stay shared', () => {
    const { kv, sched } = setup(6, {}, 10);
    const a = seq(0, 32, 20);
    const leader = grouped(seq(1, 40, 20), 1);
    sched.enqueue(a);
    sched.enqueue(leader);
    expect(step(kv, sched).ran).toEqual([[0, 0, 32], [1, 0, 40]]); // 2 + 3 blocks
    const child = sched['running'][2] as Sequence; // forked after the prompt pass, next to its parent
    expect([child.id, child.sample]).toEqual([1, 1]);
    // A's 33rd token takes the last block; the pair's 41st tokens need a copy of their shared
    // partial block: nothing left, so the last running request — the pair — is swapped out whole.
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 1]], preempted: 1, swap_out: 3 });
    expect([sched.running_count, sched.swapped_count, kv.swapped_blocks]).toEqual([1, 2, 3]);
    expect(flat(leader)).toMatchObject({ computed_tokens: 40, discarded_tokens: 0, preemptions: 1 });
    expect(flat(child)).toMatchObject({ computed_tokens: 40, discarded_tokens: 0, preemptions: 0 });
    while (a.generated_tokens < a.output_tokens) step(kv, sched);
    expect(kv.used_blocks).toBe(0);
    // Back in together: 3 blocks over PCIe; the shared full blocks are shared again, and the
    // first writer of the partial block copies it.
    expect(step(kv, sched)).toMatchObject({ ran: [[1, 0, 1], [1, 1, 1]], swap_in: 3 });
    expect(leader.kv.blocks.slice(0, 2)).toEqual(child.kv.blocks.slice(0, 2));
    expect(kv.used_blocks).toBe(4);
    expect([leader.acct.recomputed_tokens, child.acct.recomputed_tokens]).toEqual([0, 0]);
  });

  it('swaps every victim under preemption swap, single-sample ones included', () => {
    const { kv, sched, b } = full(10, { preemption: 'swap' });
    expect(step(kv, sched)).toMatchObject({ preempted: 1, swap_out: 1 });
    expect(flat(b)).toMatchObject({ swapped_blocks: 1, computed_tokens: 16 });
    expect(sched.swapped_count).toBe(1);
  });

  it('falls back to recompute when the CPU pool cannot take the victim', () => {
    for (const preemption of ['auto', 'swap'] as const) {
      const { kv, sched, b } = full(0, { preemption }, true);
      expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 1]], preempted: 1, swap_out: 0 });
      expect(flat(b)).toMatchObject({ swapped_blocks: 0, computed_tokens: 0, discarded_tokens: 16, prefill_end: 17 });
      expect([sched.waiting_count, sched.swapped_count]).toEqual([1, 0]);
    }
    // A CPU pool already holding a swapped sequence has no room for a second one.
    const { kv, sched } = setup(5, { preemption: 'swap' }, 2);
    const [a, b, c] = [seq(0, 32, 20), seq(1, 16, 20), seq(2, 32, 20)];
    [a, b, c].forEach((x) => sched.enqueue(x));
    expect(step(kv, sched).ran).toEqual([[0, 0, 32], [1, 0, 16], [2, 0, 32]]); // 2 + 1 + 2 = 5 blocks
    // A's 33rd token needs a 3rd block: C (the tail, 2 blocks) is swapped out and fills the
    // 2-block CPU pool; A and B (17th token) each take one of C's blocks.
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 1], [1, 0, 1]], preempted: 1, swap_out: 2 });
    expect([kv.free_blocks, kv.swap_free_blocks]).toEqual([0, 0]);
    // Tokens 34…48 of A and 18…32 of B fit their blocks; C cannot come back (no free block).
    for (let i = 0; i < 15; i++) expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 1], [1, 0, 1]], preempted: 0, swap_in: 0 });
    expect([a.computed_tokens, b.computed_tokens]).toEqual([48, 32]);
    // A's 49th token needs a 4th block: B (now the tail) cannot be swapped (CPU pool full) and is recomputed.
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 1]], preempted: 1, swap_out: 0 });
    expect(flat(b)).toMatchObject({ swapped_blocks: 0, kv_blocks: 0, computed_tokens: 0, discarded_tokens: 32, preemptions: 1 });
    expect(flat(c)).toMatchObject({ swapped_blocks: 2, computed_tokens: 32, preemptions: 1 });
    expect([sched.waiting_count, sched.running_count, sched.swapped_count]).toEqual([1, 1, 1]);
  });

  it('resumes a swapped sequence by swap-in, without recompute, and admits nothing new while one is swapped out', () => {
    const { kv, sched, b } = full(10, { preemption: 'swap' }, true);
    step(kv, sched); // B swapped out
    const c = seq(2, 5, 5);
    sched.enqueue(c);
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 1]], swap_in: 0 }); // A's last token; C cannot fit anyway
    expect(kv.free_blocks).toBe(3);
    // B comes back (1 block + 1 for its next token) and decodes its 17th token; C (1 block) would fit but waits.
    expect(step(kv, sched)).toMatchObject({ ran: [[1, 0, 1]], swap_in: 1, swap_out: 0, prefill_tokens: 0, decode_tokens: 1 });
    expect(flat(b)).toMatchObject({ swapped_blocks: 0, kv_blocks: 2, computed_tokens: 17, generated_tokens: 2, discarded_tokens: 0, recomputed_tokens: 0 });
    expect([sched.waiting_count, sched.swapped_count, kv.swapped_blocks]).toEqual([1, 0, 0]);
    // Nothing swapped any more: C's prompt gets a prefill-only step.
    expect(step(kv, sched).ran).toEqual([[2, 0, 5]]);
  });

  it('under the priority policy, a higher-priority prompt that cannot be admitted preempts lower-priority work at once', () => {
    const { kv, sched } = setup(100, { scheduling_policy: 'priority', max_num_batched_tokens: 2048 });
    const low = seq(0, 1200, 200, { priority: 5 });
    sched.enqueue(low);
    expect(step(kv, sched).ran).toEqual([[0, 0, 1200]]); // 75 blocks
    const high = seq(1, 800, 5, { priority: 0, arrival_s: 1 });
    sched.enqueue(high); // needs 50 blocks, 25 are free
    // No prefill fits, so V0's priority preemption recomputes the low-priority request…
    expect(step(kv, sched)).toMatchObject({ ran: [], preempted: 1 });
    expect(flat(low)).toMatchObject({ computed_tokens: 0, preemptions: 1 });
    // …and the high-priority prompt is admitted in the next step.
    expect(step(kv, sched).ran).toEqual([[1, 0, 800]]);
  });

  it('priority preemption never evicts work of equal or higher priority', () => {
    const { kv, sched } = setup(100, { scheduling_policy: 'priority', max_num_batched_tokens: 2048 });
    sched.enqueue(seq(0, 1200, 200, { priority: 0 }));
    step(kv, sched);
    sched.enqueue(seq(1, 800, 5, { priority: 0, arrival_s: 1 }));
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 1]], preempted: 0 });
  });

  it('under the priority policy, preempts the lowest-priority running sequence even when it arrived first', () => {
    const { kv, sched } = setup(3, { scheduling_policy: 'priority' });
    const low = seq(0, 16, 5, { priority: 5, arrival_s: 0 });
    const high = seq(1, 32, 5, { priority: 0, arrival_s: 1 });
    sched.enqueue(low);
    sched.enqueue(high);
    expect(step(kv, sched).ran).toEqual([[1, 0, 32], [0, 0, 16]]);
    expect(step(kv, sched)).toMatchObject({ ran: [[1, 0, 1]], preempted: 1 });
    expect(low.acct.preemptions).toBe(1);
    expect(high.kv.block_count).toBe(3);
  });
});

describe('vLLM V0 samples: copy-on-write forks', () => {
  it.each([
    // 40 tokens: the last block is partly filled and shared, so each of 3 of the 4 writers copies it.
    [40, 3, 3],
    // 32 tokens: full blocks; every sequence's 33rd token opens a block of its own, nothing is copied.
    [32, 2, 0],
  ])('a %i-token prompt with 3 pending forks: one prompt pass, then 4 sequences sharing its %i blocks', (prompt, blocks, copies) => {
    const { kv, sched } = setup(100);
    const leader = grouped(seq(0, prompt, 5), 3);
    sched.enqueue(leader);
    expect(step(kv, sched, 0)).toMatchObject({ ran: [[0, 0, prompt]], prefill_tokens: prompt });
    expect(sched.running_count).toBe(4);
    expect(leader.pending_forks).toBe(0);
    const group = leader.group!;
    expect([group.sequences.length, group.remaining]).toEqual([4, 4]);
    expect(kv.used_blocks).toBe(blocks);
    for (const child of group.sequences.slice(1)) {
      expect(child.kv.blocks).toEqual(leader.kv.blocks);
      expect(flat(child)).toMatchObject({ computed_tokens: prompt, generated_tokens: 1, prompt_shared_tokens: prompt, reused_tokens: prompt });
      expect(child.tokens.times_s[0]).toBe(leader.tokens.times_s[0]);
    }
    // First decode: every sample writes its own 2nd token.
    expect(step(kv, sched)).toMatchObject({ ran: [[0, 0, 1], [0, 1, 1], [0, 2, 1], [0, 3, 1]], decode_tokens: 4, prefill_tokens: 0 });
    expect(kv.copied_blocks).toBe(copies);
    expect(kv.used_blocks).toBe(blocks + (copies > 0 ? copies : 4));
  });

  it('counts the samples still to fork against max_num_seqs at admission', () => {
    const tight = setup(100, { max_num_seqs: 3 });
    tight.sched.enqueue(grouped(seq(0, 40), 3));
    expect(step(tight.kv, tight.sched).ran).toEqual([]); // 1 + 3 > 3
    const room = setup(100, { max_num_seqs: 4 });
    room.sched.enqueue(grouped(seq(0, 40), 3));
    expect(step(room.kv, room.sched).ran).toEqual([[0, 0, 40]]);
  });

  // Regression: admission once checked running.length + 1 + pending_forks, omitting the forks still
  // pending on leaders admitted earlier (in the same step, or in flight under sarathi): three
  // leaders with one fork each passed (0+2, 1+2, 2+2 ≤ 4) and became 6 running sequences. vLLM V0
  // counts a group in its prompt stage as best_of sequences (SequenceGroup.get_max_num_running_seqs).
  it('counts the forks still pending on admitted leaders too: max_num_seqs 4 admits two 2-sample requests, not three', () => {
    const { kv, sched } = setup(100, { max_num_seqs: 4 });
    for (let i = 0; i < 3; i++) sched.enqueue(grouped(seq(i, 20), 1));
    expect(step(kv, sched).ran).toEqual([[0, 0, 20], [1, 0, 20]]);
    expect([sched.running_count, sched.waiting_count]).toEqual([4, 1]);
  });

  it('has a factory for the registry that forks samples', () => {
    expect(VLLM_V0.samples).toBe('fork');
    expect(VLLM_V0.create(new BlockManager(10, 16), LIMITS)).toBeInstanceOf(VllmV0Scheduler);
  });
});
