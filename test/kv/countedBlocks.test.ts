import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { CacheKeys, type TokenIdentity } from '../../sim/kv/blockKeys.js';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { KvState } from '../../sim/kv/kvState.js';

function holder(identity: Partial<TokenIdentity> = {}) {
  return { kv: new KvState(new CacheKeys({ id: 0, sample: 0, prompt_tokens: 1000, ...identity })), computed_tokens: 0 };
}
type Holder = ReturnType<typeof holder>;

function counts(kv: BlockManager) {
  return { used: kv.used_blocks, free: kv.free_blocks, cached: kv.cached_blocks, evicted: kv.evicted_blocks, unused: kv.unused_slots };
}

/** Decodes `h` one token a step up to `tokens`. */
function decodeTo(kv: BlockManager, h: Holder, tokens: number): void {
  while (h.computed_tokens < tokens) {
    expect(kv.allocateSlots(h, h.computed_tokens + 1)).toBe(true);
    h.computed_tokens++;
  }
}

describe('counted KV blocks (a holder\'s private blocks, without ids)', () => {
  it('are taken, filled, registered and released with the counts named blocks would have', () => {
    const kv = new BlockManager(10, 16, { prefix_caching: true });
    const a = holder({ id: 1 });
    expect(kv.allocateSlots(a, 40)).toBe(true);
    a.computed_tokens = 40;
    // 3 blocks, none named; 2 full ones registered; 48 − 40 slots unused.
    expect([a.kv.block_count, a.kv.blocks.length, a.kv.keys.registered_blocks]).toEqual([3, 0, 2]);
    expect(counts(kv)).toEqual({ used: 3, free: 7, cached: 0, evicted: 0, unused: 8 });
    decodeTo(kv, a, 50);
    // The 48th token filled block 3 (registered); the 49th took a fourth.
    expect([a.kv.block_count, a.kv.blocks.length, a.kv.keys.registered_blocks]).toEqual([4, 0, 3]);
    expect(counts(kv)).toEqual({ used: 4, free: 6, cached: 0, evicted: 0, unused: 64 - 50 });
    kv.free(a);
    // Released for good: its 3 registered private blocks still count as cached until reused.
    expect(counts(kv)).toEqual({ used: 0, free: 10, cached: 3, evicted: 0, unused: 0 });
    // The queue is in release order: 6 never-used blocks first, then a's, tail first (unregistered, then registered).
    const b = holder({ id: 2 });
    expect(kv.allocateSlots(b, 16 * 8)).toBe(true);
    expect(counts(kv)).toEqual({ used: 8, free: 2, cached: 2, evicted: 1, unused: 0 });
    expect(kv.allocateSlots(holder({ id: 3 }), 32)).toBe(true);
    expect(counts(kv)).toEqual({ used: 10, free: 0, cached: 0, evicted: 3, unused: 0 });
  });

  it('get ids when a fork shares them, and the child writes its own copy of the shared last block', () => {
    const kv = new BlockManager(10, 4, { prefix_caching: true });
    const parent = holder({ id: 5, prompt_tokens: 6 });
    expect(kv.allocateSlots(parent, 6)).toBe(true);
    parent.computed_tokens = 6;
    expect(parent.kv.blocks.length).toBe(0);
    const child = holder({ id: 5, sample: 1, prompt_tokens: 6 });
    kv.fork(parent, child);
    child.computed_tokens = 6;
    expect(parent.kv.blocks.length).toBe(2);
    expect(child.kv.blocks).toEqual(parent.kv.blocks);
    expect(new Set(parent.kv.blocks).size).toBe(2);
    // The child's 7th token lands in the shared, half-filled block: a copy.
    expect(kv.allocateSlots(child, 7)).toBe(true);
    expect(kv.copied_blocks).toBe(1);
    expect(child.kv.blocks[1]).not.toBe(parent.kv.blocks[1]);
    expect(counts(kv).used).toBe(3);
    kv.free(child);
    kv.free(parent);
    expect(counts(kv)).toMatchObject({ used: 0, free: 10, unused: 0 });
  });

  it('get ids when a recompute preemption must find them again, and are hit where they were', () => {
    const kv = new BlockManager(8, 4, { prefix_caching: true });
    const a = holder({ id: 7, prompt_tokens: 12 });
    expect(kv.allocateSlots(a, 12)).toBe(true);
    a.computed_tokens = 12;
    kv.free(a, true);
    a.computed_tokens = 0;
    // Its two full blocks before the last token are still cached: found again.
    expect(kv.lookupPrefix(a, 12)).toBe(8);
    expect(kv.allocateSlots(a, 12, true)).toBe(true);
    expect(counts(kv)).toMatchObject({ used: 3, unused: 0 });
    kv.free(a);
    expect(counts(kv)).toMatchObject({ used: 0, free: 8, unused: 0 });
  });

  // A holder whose private entries are written (as after a fork or a recompute preemption) has
  // its blocks named; one that has none written yet has them counted. Nothing else tells the two
  // apart, so they must give the same counts after every operation: the named path is the oracle
  // for the counted one.
  it('match named blocks operation by operation (random prompts, decodes, preemptions, swaps, rollbacks, finishes)', () => {
    for (let seed = 0; seed < 60; seed++) {
      const rng = seedrandom(`counted-${seed}`);
      const int = (n: number) => Math.floor(rng() * n);
      const B = 1 + int(6);
      const options = { prefix_caching: true, swap_blocks: 12 };
      const named = new BlockManager(24, B, options);
      const counted = new BlockManager(24, B, options);
      let next = 1;
      const fresh = () => {
        const id = next++;
        const prompt_tokens = 2 + int(30);
        const n = holder({ id, prompt_tokens });
        n.kv.keys.private_entries = true;
        return { n, c: holder({ id, prompt_tokens }), prompt_tokens, swapped: false };
      };
      const pairs = Array.from({ length: 3 }, fresh);
      let countedSeen = 0;
      for (let op = 0; op < 250; op++) {
        const i = int(pairs.length);
        const p = pairs[i];
        const both = <T>(f: (kv: BlockManager, h: Holder) => T): T => {
          const r = f(named, p.n);
          expect(f(counted, p.c), `seed ${seed} op ${op}`).toEqual(r);
          return r;
        };
        const roll = rng();
        if (p.swapped) {
          if (both((kv, h) => kv.swapIn([h])) >= 0) p.swapped = false;
        } else if (p.n.kv.block_count === 0) {
          // (Re)admission: the whole prompt, after a lookup for what is still cached.
          both((kv, h) => kv.lookupPrefix(h, p.prompt_tokens));
          if (both((kv, h) => kv.allocateSlots(h, p.prompt_tokens, true))) for (const h of [p.n, p.c]) h.computed_tokens = p.prompt_tokens;
        } else if (roll < 0.6) {
          if (both((kv, h) => kv.allocateSlots(h, h.computed_tokens + 1))) for (const h of [p.n, p.c]) h.computed_tokens++;
        } else if (roll < 0.7) {
          both((kv, h) => kv.free(h, true));
          for (const h of [p.n, p.c]) h.computed_tokens = 0;
        } else if (roll < 0.78) {
          if (both((kv, h) => kv.swapOut([h])) >= 0) p.swapped = true;
        } else if (roll < 0.86 && p.n.computed_tokens > p.prompt_tokens) {
          const kept = p.prompt_tokens + int(p.n.computed_tokens - p.prompt_tokens);
          both((kv, h) => kv.rollback(h, kept));
          for (const h of [p.n, p.c]) h.computed_tokens = kept;
        } else if (roll < 0.95) {
          both((kv, h) => kv.free(h));
          pairs[i] = fresh();
        }
        expect(counts(counted), `seed ${seed} op ${op}`).toEqual(counts(named));
        expect(p.c.kv.block_count).toBe(p.n.kv.block_count);
        expect(p.n.kv.blocks.length).toBe(p.n.kv.block_count);
        countedSeen = Math.max(countedSeen, p.c.kv.counted_blocks);
      }
      // The counted path was taken (else this compares the named path with itself).
      expect(countedSeen).toBeGreaterThan(0);
      for (const p of pairs) {
        if (p.swapped) {
          named.dropSwapped([p.n]);
          counted.dropSwapped([p.c]);
        } else {
          named.free(p.n);
          counted.free(p.c);
        }
      }
      expect(counts(counted)).toEqual(counts(named));
      expect(counts(counted)).toMatchObject({ used: 0, free: 24, unused: 0 });
    }
  });
});
