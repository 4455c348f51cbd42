import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { CacheKeys } from '../../sim/kv/blockKeys.js';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { KvState } from '../../sim/kv/kvState.js';

/*
 * The decode fast path keeps the fill of a holder's last block in its KvState while the pool's
 * table lags (KvState.lazy_*). Everything that reads the table (free, swap, fork's copy-on-write,
 * rollback, growth) must see the true fill: these tests read it back through unused_slots, which a
 * stale table would get wrong, against counts made by hand.
 */
const B = 16;

interface Holder {
  readonly kv: KvState;
  computed_tokens: number;
}
const holder = (id: number, sample = 0): Holder => ({ kv: new KvState(new CacheKeys({ id, sample, prompt_tokens: 4 })), computed_tokens: 0 });

/** Decodes `h` one token at a time up to `tokens`, as V1 does (allocate one slot, then the step applies it). */
function decodeTo(kv: BlockManager, h: Holder, tokens: number): void {
  while (h.computed_tokens < tokens) {
    expect(kv.allocateSlots(h, h.computed_tokens + 1)).toBe(true);
    h.computed_tokens++;
  }
}

const slack = (tokens: number): number => Math.ceil(tokens / B) * B - tokens;

describe('lazily kept fill of the last block', () => {
  for (const prefix_caching of [false, true]) {
    it(`decoding token by token leaves ceil(t/16)·16 − t slots unused at every t (prefix caching ${prefix_caching})`, () => {
      const kv = new BlockManager(20, B, { prefix_caching });
      const h = holder(1);
      for (let t = 1; t <= 70; t++) {
        decodeTo(kv, h, t);
        expect(kv.unused_slots).toBe(slack(t));
        expect(kv.used_blocks).toBe(Math.ceil(t / B));
      }
      kv.free(h);
      expect([kv.unused_slots, kv.free_blocks]).toEqual([0, 20]);
    });
  }

  it('a swap out mid-block records the true fill, and the swap in restores it', () => {
    const kv = new BlockManager(20, B, { swap_blocks: 10 });
    const h = holder(1);
    decodeTo(kv, h, 37);
    expect(kv.swapOut([h])).toBe(3);
    expect(kv.unused_slots).toBe(0);
    expect(kv.swapIn([h])).toBe(3);
    // 3 blocks, 37 tokens: 11 unused, as before the swap.
    expect(kv.unused_slots).toBe(11);
    decodeTo(kv, h, 48);
    expect(kv.unused_slots).toBe(0);
  });

  it('a fork after lazy decode steps copies the last block with its true fill', () => {
    const kv = new BlockManager(20, B);
    const parent = holder(1);
    decodeTo(kv, parent, 40);
    const child = holder(1, 1);
    kv.fork(parent, child);
    child.computed_tokens = 40;
    // The parent's next token lands in the shared, partly filled third block: it is copied first.
    decodeTo(kv, parent, 41);
    expect(kv.copied_blocks).toBe(1);
    // Shared block: 16 − 8 unused; the parent's copy holds 9: 7 unused.
    expect(kv.unused_slots).toBe(8 + 7);
    decodeTo(kv, child, 44);
    expect(kv.unused_slots).toBe(4 + 7);
  });

  it('a rollback after lazy steps and drafts keeps exactly the kept tokens', () => {
    const kv = new BlockManager(20, B);
    const h = holder(1);
    decodeTo(kv, h, 38);
    // A verify step: the last token and 3 drafts.
    expect(kv.allocateSlots(h, 42)).toBe(true);
    h.computed_tokens = 39;
    kv.rollback(h, 39);
    expect(kv.unused_slots).toBe(slack(39));
    decodeTo(kv, h, 50);
    expect(kv.unused_slots).toBe(slack(50));
  });

  it('a rollback or a reservation straight after lazy steps sees the true fill', () => {
    const kv = new BlockManager(20, B);
    const h = holder(1);
    decodeTo(kv, h, 38);
    kv.rollback(h, 35);
    h.computed_tokens = 35;
    expect(kv.unused_slots).toBe(slack(35));
    decodeTo(kv, h, 37);
    // Reserve room for 60 tokens (4 blocks), 2 more of them written now.
    expect(kv.reserve(h, 60, 39)).toBe(true);
    h.computed_tokens = 39;
    expect(kv.unused_slots).toBe(64 - 39);
    decodeTo(kv, h, 44);
    expect(kv.unused_slots).toBe(64 - 44);
  });

  it('random decodes, prefill chunks, verify steps, swaps and frees over many holders keep the hand count', () => {
    const rng = seedrandom('lazy-fill');
    const kv = new BlockManager(64, B, { swap_blocks: 64, prefix_caching: true });
    const live: Holder[] = [];
    const swapped: Holder[] = [];
    let next = 1;
    const expected = (): number => live.reduce((acc, h) => acc + slack(h.computed_tokens), 0);
    for (let op = 0; op < 4000; op++) {
      const r = rng();
      const h = live[Math.floor(rng() * live.length)];
      if (r < 0.1 || h === undefined) {
        const fresh = holder(next++);
        const chunk = 1 + Math.floor(rng() * 40);
        if (!kv.allocateSlots(fresh, chunk)) continue;
        fresh.computed_tokens = chunk;
        live.push(fresh);
      } else if (r < 0.75) {
        if (kv.allocateSlots(h, h.computed_tokens + 1)) h.computed_tokens++;
      } else if (r < 0.82) {
        const n = 2 + Math.floor(rng() * 20);
        if (kv.allocateSlots(h, h.computed_tokens + n)) h.computed_tokens += n;
      } else if (r < 0.88) {
        const drafts = 1 + Math.floor(rng() * 4);
        if (kv.allocateSlots(h, h.computed_tokens + 1 + drafts)) {
          h.computed_tokens += 1 + Math.floor(rng() * (drafts + 1));
          kv.rollback(h, h.computed_tokens);
        }
      } else if (r < 0.93) {
        if (kv.swapOut([h]) >= 0) swapped.push(live.splice(live.indexOf(h), 1)[0]);
      } else if (r < 0.96 && swapped.length > 0) {
        const back = swapped[0];
        if (kv.swapIn([back]) >= 0) live.push(swapped.shift() as Holder);
      } else {
        kv.free(h);
        live.splice(live.indexOf(h), 1);
      }
      expect(kv.unused_slots, `after op ${op}`).toBe(expected());
    }
    for (const h of live) kv.free(h);
    for (const h of swapped) kv.dropSwapped([h]);
    expect([kv.unused_slots, kv.free_blocks, kv.swapped_blocks]).toEqual([0, 64, 0]);
  });
});
