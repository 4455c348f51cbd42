import { describe, expect, it } from 'vitest';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { GapPool } from '../../sim/metrics/gapPool.js';
import { StepStamps } from '../../sim/metrics/stepStamps.js';
import { applyStep, handOff } from '../../sim/scheduler/commons.js';
import { Sequence } from '../../sim/scheduler/sequence.js';

function seq(prompt: number, output: number): Sequence {
  return new Sequence({ id: 0, arrival_s: 0, input_tokens: prompt, output_tokens: output }, 0);
}

/** A scheduler that only counts the calls: the step application is under test, not a policy. */
function counter() {
  return { calls: 0, afterStep(): void { this.calls++; } };
}

/** Runs one step of `s` with `drafts` draft tokens after the verified one, `accepted` of them accepted. */
function speculate(kv: BlockManager, s: Sequence, drafts: number, accepted: number, time_s: number, step: number, finished: Sequence[]): void {
  const n = 1 + drafts;
  // Only the verified token is written before verification: drafts stay out of the prefix cache.
  expect(kv.allocateSlots(s, s.computed_tokens + n, false, s.computed_tokens + 1)).toBe(true);
  s.scheduled_tokens = n;
  s.draft_tokens = drafts;
  s.accepted_drafts = accepted;
  applyStep(kv, counter(), [s], time_s, step, finished);
}

/** Seam 8c (issue 14): a step may emit more than one token per sequence (speculative decoding). */
describe('applyStep with draft tokens', () => {
  it('a step with 2 accepted drafts emits 3 tokens, stamps each, and the last step stops at output_tokens', () => {
    const kv = new BlockManager(10, 16);
    const s = seq(10, 5);
    const finished: Sequence[] = [];
    kv.allocateSlots(s, 10);
    s.scheduled_tokens = 10;
    const sched = counter();
    applyStep(kv, sched, [s], 1, 0, finished);
    expect([s.generated_tokens, s.computed_tokens, sched.calls]).toEqual([1, 10, 1]);

    speculate(kv, s, 2, 2, 2, 1, finished);
    expect(s.generated_tokens).toBe(4);
    expect(Array.from(s.tokens.times_s.subarray(0, 4))).toEqual([1, 2, 2, 2]);
    expect(Array.from(s.tokens.steps.subarray(0, 4))).toEqual([0, 1, 1, 1]);
    // As after a plain decode, the last emitted token's KV is the one not computed yet.
    expect([s.computed_tokens, s.known_tokens, s.draft_tokens, s.accepted_drafts]).toEqual([13, 14, 0, 0]);
    expect(finished).toEqual([]);

    // 3 more would be accepted, but 1 token remains: it ends there, never past output_tokens.
    speculate(kv, s, 2, 2, 3, 2, finished);
    expect([s.generated_tokens, s.finished]).toEqual([5, true]);
    expect(Array.from(s.tokens.times_s)).toEqual([1, 2, 2, 2, 3]);
    expect(finished).toEqual([s]);
    expect(kv.used_blocks).toBe(0);
  });

  it('rejected drafts give their slots back: 3 drafts after a 30-token prompt, none accepted, frees the third block', () => {
    const kv = new BlockManager(10, 16);
    const s = seq(30, 10);
    const finished: Sequence[] = [];
    kv.allocateSlots(s, 30);
    s.scheduled_tokens = 30;
    applyStep(kv, counter(), [s], 1, 0, finished);
    // Verified token 30 plus drafts 31…33: 34 slots, 3 blocks.
    expect(kv.allocateSlots(s, 34, false, 31)).toBe(true);
    expect(kv.used_blocks).toBe(3);
    s.scheduled_tokens = 4;
    s.draft_tokens = 3;
    s.accepted_drafts = 0;
    applyStep(kv, counter(), [s], 2, 1, finished);
    expect([s.generated_tokens, s.computed_tokens, s.kv.block_count, kv.used_blocks]).toEqual([2, 31, 2, 2]);
    expect(kv.unused_slots).toBe(32 - 31);
  });

  it('without drafts a step emits one token, as before the seam', () => {
    const kv = new BlockManager(10, 16);
    const s = seq(10, 3);
    kv.allocateSlots(s, 10);
    s.scheduled_tokens = 10;
    applyStep(kv, counter(), [s], 1, 0, []);
    kv.allocateSlots(s, 11);
    s.scheduled_tokens = 1;
    applyStep(kv, counter(), [s], 2, 1, []);
    expect([s.generated_tokens, s.computed_tokens]).toEqual([2, 11]);
  });

  it('refuses drafts during a prompt pass and an accepted count above the drafts', () => {
    const kv = new BlockManager(10, 16);
    const s = seq(40, 3);
    kv.allocateSlots(s, 20);
    s.scheduled_tokens = 20;
    s.draft_tokens = 2;
    expect(() => applyStep(kv, counter(), [s], 1, 0, [])).toThrow(/before its prompt pass ends/);
    const t = seq(10, 3);
    kv.allocateSlots(t, 12);
    t.scheduled_tokens = 12;
    t.draft_tokens = 2;
    t.accepted_drafts = 3;
    expect(() => applyStep(kv, counter(), [t], 1, 0, [])).toThrow(/3 of 2 draft tokens/);
  });
});

describe('a sequence moves between replicas', () => {
  it('hand-off without its KV: blocks leave the old pool, its tokens will be recomputed, the replica changes', () => {
    const from = new BlockManager(10, 16, { prefix_caching: true });
    const s = seq(40, 5);
    from.allocateSlots(s, 40);
    s.computed_tokens = 40;
    s.stampToken(1);
    expect(() => s.moveTo(1)).toThrow(/while holding KV on replica 0/);
    handOff(s, from, 1, false);
    expect([s.replica, from.used_blocks, s.computed_tokens, s.prefill_end, s.acct.discarded_tokens]).toEqual([1, 0, 0, 41, 40]);
    expect(s.keys.released_blocks).toEqual([]);
  });

  it('hand-off with its KV keeps its computed tokens for the destination to allocate', () => {
    const from = new BlockManager(10, 16);
    const to = new BlockManager(10, 16);
    const s = seq(40, 5);
    from.allocateSlots(s, 40);
    s.computed_tokens = 40;
    handOff(s, from, 3, true);
    expect([s.replica, s.computed_tokens, from.used_blocks]).toEqual([3, 40, 0]);
    expect(to.receive(s)).toBe(true);
    expect([to.used_blocks, to.unused_slots, s.kv.block_count]).toEqual([3, 48 - 40, 3]);
    // The next decode writes into the received blocks like any other.
    expect(to.allocateSlots(s, 41)).toBe(true);
    expect([to.used_blocks, to.unused_slots]).toEqual([3, 48 - 41]);
  });

  // Step numbers are per replica: step 4 of the old one and step 5 of the new one are not consecutive.
  it('forgets which steps emitted its earlier tokens, so its gaps pool against the new replica exactly', () => {
    const from = new BlockManager(10, 16);
    const s = seq(10, 4);
    from.allocateSlots(s, 11);
    s.stampToken(0.3, 3);
    s.stampToken(0.4, 4);
    handOff(s, from, 1, true);
    expect(Array.from(s.tokens.steps.subarray(0, 2))).toEqual([-1, -1]);
    expect(Array.from(s.tokens.times_s.subarray(0, 2))).toEqual([0.3, 0.4]);
    // The new replica's stamps: step k at 1 + k/8 (exact binary fractions).
    const stamps = new StepStamps();
    for (let k = 0; k <= 6; k++) stamps.push(k, 1 + k / 8);
    s.stampToken(stamps.at(5), 5);
    s.stampToken(stamps.at(6), 6);
    const pool = new GapPool(stamps);
    pool.add(s.tokens.times_s, s.tokens.steps, 4);
    const [perStep, ...values] = pool.samples() as [{ values: Float64Array; weights: Int32Array }, ...Float64Array[]];
    expect([Array.from(perStep.values), Array.from(perStep.weights)]).toEqual([[1 / 8], [1]]);
    expect(values.flatMap((v) => Array.from(v))).toEqual([0.4 - 0.3, 1 + 5 / 8 - 0.4]);
    expect(pool.length).toBe(3);
  });
});
