import { describe, expect, it } from 'vitest';
import { CacheKeys, type TokenIdentity } from '../../sim/kv/blockKeys.js';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { KvState } from '../../sim/kv/kvState.js';

function holder(identity: Partial<TokenIdentity> = {}) {
  return { kv: new KvState(new CacheKeys({ id: 0, sample: 0, prompt_tokens: 1000, ...identity })), computed_tokens: 0 };
}

/** Seam 8c (issue 14): the KV manager gives back the slots of draft tokens a speculative step rejected. */
describe('BlockManager.rollback', () => {
  it('frees exactly the blocks past the kept tokens: 30 kept of 40 allocated (block 16) keeps 2 blocks, frees 1', () => {
    const kv = new BlockManager(10, 16);
    const h = holder();
    expect(kv.allocateSlots(h, 40)).toBe(true);
    expect([h.kv.block_count, kv.used_blocks, kv.unused_slots]).toEqual([3, 3, 48 - 40]);
    expect(kv.rollback(h, 30)).toBe(1);
    expect([h.kv.block_count, h.kv.blocks.length, kv.used_blocks, kv.free_blocks]).toEqual([2, 2, 2, 8]);
    expect(kv.unused_slots).toBe(32 - 30);
    // Growing again takes the slots back from where the rollback left off.
    h.computed_tokens = 30;
    expect(kv.allocateSlots(h, 31)).toBe(true);
    expect([h.kv.block_count, kv.unused_slots]).toEqual([2, 1]);
    kv.free(h);
    expect([kv.used_blocks, kv.free_blocks, kv.unused_slots]).toEqual([0, 10, 0]);
  });

  it('keeps every block when the kept tokens end in the last one, and frees all at 0', () => {
    const kv = new BlockManager(10, 16);
    const h = holder();
    kv.allocateSlots(h, 40);
    expect(kv.rollback(h, 33)).toBe(0);
    expect([h.kv.block_count, kv.unused_slots]).toEqual([3, 48 - 33]);
    expect(kv.rollback(h, 0)).toBe(3);
    expect([kv.used_blocks, kv.unused_slots]).toEqual([0, 0]);
  });

  it('counts accepted drafts allocated unwritten as written, and offers only wholly kept blocks to the cache', () => {
    const kv = new BlockManager(10, 16, { prefix_caching: true });
    const a = holder({ session: 4 });
    kv.allocateSlots(a, 28);
    a.computed_tokens = 28;
    // A speculative step: the verified token (28) plus 8 drafts, only the verified one written.
    expect(kv.allocateSlots(a, 37, false, 29)).toBe(true);
    expect([a.kv.block_count, kv.unused_slots]).toEqual([3, 48 - 29]);
    // 5 drafts accepted: 34 tokens kept; block 1 (16…31) is now full, block 2 holds 2.
    expect(kv.rollback(a, 34)).toBe(0);
    expect(kv.unused_slots).toBe(48 - 34);
    expect(a.kv.keys.registered_blocks).toBe(2);
    kv.free(a);
    // The next turn of the session finds both full blocks, not the partial one.
    const b = holder({ id: 1, session: 4 });
    expect(kv.lookupPrefix(b, 60)).toBe(32);
  });

  it('drops cache entries of blocks holding rejected drafts, so no later request hits them', () => {
    const kv = new BlockManager(10, 16, { prefix_caching: true });
    const a = holder({ session: 9 });
    // Drafts written and offered to the cache at allocation (written = all 48 slots).
    kv.allocateSlots(a, 48);
    expect(a.kv.keys.registered_blocks).toBe(3);
    expect(kv.rollback(a, 30)).toBe(1);
    expect(a.kv.keys.registered_blocks).toBe(1);
    kv.free(a);
    // Only block 0 (tokens 0…15) was wholly kept: a session turn that extends the stream hits 16, not 32 or 48.
    expect(kv.cached_blocks).toBe(1);
    expect(kv.lookupPrefix(holder({ id: 1, session: 9 }), 100)).toBe(16);
  });

  it('refuses to trim a block shared copy-on-write, or to keep more than it holds', () => {
    const kv = new BlockManager(10, 16);
    const parent = holder();
    kv.allocateSlots(parent, 40);
    parent.computed_tokens = 40;
    const child = holder({ sample: 1 });
    kv.fork(parent, child);
    expect(() => kv.rollback(child, 20)).toThrow(/shared/);
    expect(() => kv.rollback(parent, 49)).toThrow(/rollback to 49 tokens/);
  });

  // The refusal must come before any change, or a caller that catches it is left with a block
  // evicted from the cache while its holder still counts it as registered.
  it('leaves the pool, the holder and the cache untouched when it refuses', () => {
    const kv = new BlockManager(10, 16, { prefix_caching: true });
    const a = holder({ session: 3 });
    kv.allocateSlots(a, 48);
    a.computed_tokens = 48;
    // Sharing through fork or a prefix hit is always a leading run of blocks, so the case of a
    // cached own block followed by a shared one is forged: a second reference on the last block.
    (kv as unknown as { refs: Int32Array }).refs[a.kv.blocks[2]]++;
    const state = () => ({
      used: kv.used_blocks, free: kv.free_blocks, cached: kv.cached_blocks, unused: kv.unused_slots,
      blocks: [...a.kv.blocks], count: a.kv.block_count, registered: a.kv.keys.registered_blocks,
      hit: kv.lookupPrefix(holder({ id: 1, session: 3 }), 100),
    });
    const before = state();
    expect(before.hit).toBe(48);
    // Kept 20: block 1 (cached, own) would lose its entry, block 2 (shared) refuses.
    expect(() => kv.rollback(a, 20)).toThrow(/shared with another holder/);
    expect(state()).toEqual(before);
  });
});
