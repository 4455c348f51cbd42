import { describe, expect, it } from 'vitest';
import { BlockKeys, CacheKeys, type TokenIdentity } from '../../sim/kv/blockKeys.js';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { KvState } from '../../sim/kv/kvState.js';

/** A bare holder: KV state and a computed-token count, as the block manager sees a sequence. */
interface Holder {
  readonly kv: KvState;
  computed_tokens: number;
}

function holder(identity: Partial<TokenIdentity> = {}): Holder {
  return { kv: new KvState(new CacheKeys({ id: 0, sample: 0, prompt_tokens: 1000, ...identity })), computed_tokens: 0 };
}

/** Admits `h` with `known` tokens the way V1 does: prefix lookup, then allocate for the rest; returns hit tokens. */
/** A 40-token holder (3 blocks, the last holding 8 tokens) and a sample forked from it, sharing every block. */
function forkedAt40(kv: BlockManager): { parent: Holder; child: Holder } {
  const parent = holder();
  kv.allocateSlots(parent, 40);
  parent.computed_tokens = 40;
  const child = holder({ sample: 1 });
  kv.fork(parent, child);
  child.computed_tokens = 40;
  return { parent, child };
}

function admit(kv: BlockManager, h: Holder, known: number): number {
  const hit = kv.lookupPrefix(h, known);
  if (!kv.allocateSlots(h, known, true)) return -1;
  h.computed_tokens = known;
  return hit;
}

describe('BlockManager without prefix caching', () => {
  it('holds ceil(tokens / block_size) blocks and grows only by the difference', () => {
    const kv = new BlockManager(10, 16);
    const seq = holder();
    expect(kv.allocateSlots(seq, 17)).toBe(true);
    expect(seq.kv.block_count).toBe(2);
    expect(kv.allocateSlots(seq, 32)).toBe(true);
    expect(seq.kv.block_count).toBe(2);
    expect(kv.allocateSlots(seq, 33)).toBe(true);
    expect(seq.kv.block_count).toBe(3);
    expect(kv.free_blocks).toBe(7);
    // 33 tokens in 3 blocks of 16: 15 slots unused.
    expect(kv.unused_slots).toBe(15);
  });

  it('allocates all or nothing', () => {
    const kv = new BlockManager(4, 16);
    const a = holder();
    const b = holder({ id: 1 });
    expect(kv.allocateSlots(a, 48)).toBe(true);
    expect(kv.allocateSlots(b, 33)).toBe(false);
    expect(b.kv.block_count).toBe(0);
    expect(kv.free_blocks).toBe(1);
    kv.free(a);
    expect(kv.free_blocks).toBe(4);
    expect(a.kv.block_count).toBe(0);
    expect(kv.unused_slots).toBe(0);
  });

  it('never finds a prefix', () => {
    const kv = new BlockManager(100, 16);
    const a = holder({ prefix_group: 1, prefix_tokens: 512 });
    admit(kv, a, 600);
    kv.free(a);
    expect(admit(kv, holder({ id: 1, prefix_group: 1, prefix_tokens: 512 }), 600)).toBe(0);
    expect(kv.cached_blocks).toBe(0);
  });
});

describe('BlockManager prefix cache', () => {
  it('shares full blocks of a common system prompt, capped at prompt − 1 tokens', () => {
    const kv = new BlockManager(100, 16, { prefix_caching: true });
    const a = holder({ id: 0, prefix_group: 3, prefix_tokens: 100 });
    expect(admit(kv, a, 150)).toBe(0);
    expect(kv.used_blocks).toBe(10); // ceil(150 / 16)
    // b shares the first 100 tokens: 6 full blocks (96 tokens); block 6 mixes shared and own tokens.
    const b = holder({ id: 1, prefix_group: 3, prefix_tokens: 100 });
    expect(admit(kv, b, 150)).toBe(96);
    expect(kv.used_blocks).toBe(10 + 4);
    // Another group shares nothing.
    expect(admit(kv, holder({ id: 2, prefix_group: 4, prefix_tokens: 100 }), 150)).toBe(0);
    // A prompt that is exactly 6 shared blocks still computes its last token: hit 80, not 96.
    const d = holder({ id: 3, prefix_group: 3, prefix_tokens: 100 });
    expect(admit(kv, d, 96)).toBe(80);
  });

  it('keeps released blocks as cached-free, reuses them on a hit and evicts least recently released first', () => {
    const kv = new BlockManager(8, 16, { prefix_caching: true });
    const a = holder({ id: 0, session: 7 });
    admit(kv, a, 64); // 4 blocks, all full
    kv.free(a);
    expect(kv.used_blocks).toBe(0);
    expect(kv.cached_blocks).toBe(4);
    expect(kv.free_blocks).toBe(8);
    // The next turn of session 7 extends the stream (100 tokens): all 4 of a's blocks hit.
    const next = holder({ id: 1, session: 7 });
    expect(admit(kv, next, 100)).toBe(64);
    expect(kv.cached_blocks).toBe(0);
    expect(kv.used_blocks).toBe(7);
    kv.free(next);
    expect(kv.cached_blocks).toBe(6); // blocks 0..5 are full and keyed; block 6 holds 4 tokens
    // A 128-token unrelated request needs all 8 blocks: every cached entry is evicted.
    const big = holder({ id: 2 });
    const evictedBefore = kv.evicted_blocks;
    expect(admit(kv, big, 128)).toBe(0);
    expect(kv.evicted_blocks - evictedBefore).toBeGreaterThan(0);
    expect(kv.cached_blocks).toBe(0);
    kv.free(big);
    expect(admit(kv, holder({ id: 3, session: 7 }), 64)).toBe(0);
  });

  it('evicts in release order, a request tail first', () => {
    const kv = new BlockManager(4, 16, { prefix_caching: true });
    const a = holder({ id: 0, session: 1 });
    const b = holder({ id: 1, session: 2 });
    admit(kv, a, 32);
    admit(kv, b, 32);
    kv.free(a); // released: a1, a0
    kv.free(b); // then b1, b0
    const c = holder({ id: 2 });
    expect(admit(kv, c, 16)).toBe(0); // takes a1
    expect(kv.evicted_blocks).toBe(1);
    expect(admit(kv, holder({ id: 3, session: 1 }), 40)).toBe(16); // a0 survives, a1 is gone
    // It took a0 back plus two new blocks, evicting b1 then b0.
    expect(kv.evicted_blocks).toBe(3);
    expect(kv.used_blocks).toBe(4);
  });

  it('a preempted request finds its own (private) blocks again until they are evicted', () => {
    const kv = new BlockManager(8, 16, { prefix_caching: true });
    const a = holder({ id: 0 });
    admit(kv, a, 64);
    kv.free(a, true); // recompute preemption: a will come back
    a.computed_tokens = 0;
    expect(kv.cached_blocks).toBe(4);
    // Nobody else can hit a's unique tokens…
    const b = holder({ id: 1 });
    expect(admit(kv, b, 64)).toBe(0);
    kv.free(b);
    // …but a can, as long as its blocks were not reused: here 4 never-used blocks went first.
    expect(admit(kv, a, 70)).toBe(64);
  });

  it('a request that finished leaves no way back to its private blocks', () => {
    const kv = new BlockManager(8, 16, { prefix_caching: true });
    const a = holder({ id: 0 });
    admit(kv, a, 64);
    kv.free(a);
    a.computed_tokens = 0;
    expect(admit(kv, a, 70)).toBe(0);
  });

  it('Mooncake hash_ids: blocks match by 512-token id and offset', () => {
    const kv = new BlockManager(400, 16, { prefix_caching: true });
    const a = holder({ id: 0, prompt_tokens: 1500, hash_ids: [10, 11, 12] });
    admit(kv, a, 1500);
    // Same first two 512-blocks, different third: 1024 tokens shared (64 blocks).
    expect(admit(kv, holder({ id: 1, prompt_tokens: 1500, hash_ids: [10, 11, 99] }), 1500)).toBe(1024);
    // Different first id: the chain breaks at once even though later ids agree.
    expect(admit(kv, holder({ id: 2, prompt_tokens: 1500, hash_ids: [5, 11, 12] }), 1500)).toBe(0);
  });

  it('Mooncake ids never cover output tokens, even where the last id runs past the prompt', () => {
    const kv = new BlockManager(100, 16, { prefix_caching: true });
    const a = holder({ id: 0, prompt_tokens: 100, hash_ids: [7] });
    admit(kv, a, 140); // prompt + 40 generated tokens
    // Same prompt, its own 40 tokens: only the 6 blocks wholly inside the prompt are shared.
    expect(admit(kv, holder({ id: 1, prompt_tokens: 100, hash_ids: [7] }), 140)).toBe(96);
  });

  it('a system prompt put in front of a Mooncake prompt: the group first, the ids after it', () => {
    const kv = new BlockManager(1000, 16, { prefix_caching: true });
    const request = (id: number, hash: number) => holder({ id, prompt_tokens: 1512, prefix_group: 3, prefix_tokens: 1000, hash_ids: [hash] });
    admit(kv, request(0, 5), 1512);
    expect(admit(kv, request(1, 6), 1512)).toBe(992); // the 62 whole blocks of the system prompt
    expect(admit(kv, request(2, 5), 1512)).toBe(1504); // everything but the last, partial block
  });

  it('counts evictable hits against the free pool (all or nothing)', () => {
    const kv = new BlockManager(4, 16, { prefix_caching: true });
    const a = holder({ id: 0, session: 1 });
    admit(kv, a, 48);
    kv.free(a);
    const hog = holder({ id: 5 });
    expect(kv.allocateSlots(hog, 16)).toBe(true); // takes the one never-used block
    // b hits 2 cached blocks but needs 2 more: 2 evictable + 2 new > 3 free → refused, nothing changes.
    const b = holder({ id: 1, session: 1 });
    expect(admit(kv, b, 64)).toBe(-1);
    expect(b.kv.block_count).toBe(0);
    expect(kv.free_blocks).toBe(3);
  });
});

describe('BlockManager copy-on-write and swap', () => {
  it('a forked child preempted to come back finds only what it could find before: its parent\'s private block stays the parent\'s', () => {
    const kv = new BlockManager(8, 4, { prefix_caching: true });
    // Block 0 holds the shared prompt (4 tokens); block 1 (tokens 4–7) is the parent's own, full and registered.
    const parent = holder({ id: 1, prompt_tokens: 4, shared_request: true });
    kv.allocateSlots(parent, 8);
    parent.computed_tokens = 8;
    const child = holder({ id: 1, sample: 1, prompt_tokens: 4, shared_request: true });
    kv.fork(parent, child);
    child.computed_tokens = 8;
    kv.free(child, true);
    child.computed_tokens = 0;
    // The prompt block is found; block 1 carries the parent's entry, not the child's: no hit there.
    expect(kv.lookupPrefix(child, 9)).toBe(4);
    expect(kv.allocateSlots(child, 9, true)).toBe(true);
    expect([kv.free_blocks, kv.used_blocks]).toEqual([4, 4]);
    kv.free(parent);
    expect(kv.cached_blocks).toBe(1);
  });

  it('a block registered as its parent\'s private content and shared by a fork stays findable when the child lets it go last', () => {
    const kv = new BlockManager(8, 4, { prefix_caching: true });
    // The parent's 8 tokens are its own (blocks 0 and 1, both full and registered); the child shares them.
    const parent = holder({ id: 1 });
    kv.allocateSlots(parent, 8);
    parent.computed_tokens = 8;
    const child = holder({ id: 1, sample: 1, prompt_tokens: 4 });
    kv.fork(parent, child);
    child.computed_tokens = 8;
    kv.free(parent);
    expect([kv.used_blocks, kv.cached_blocks]).toEqual([2, 0]);
    // Both blocks hold the parent's private entries, which are not the child's: they stay in the cache, findable.
    kv.free(child);
    expect([kv.used_blocks, kv.cached_blocks, kv.free_blocks]).toEqual([0, 2, 8]);
    // Six blocks never used come first; the next two takes evict the two cached ones.
    const other = holder({ id: 9 });
    expect(kv.allocateSlots(other, 32)).toBe(true);
    expect([kv.cached_blocks, kv.evicted_blocks]).toEqual([0, 2]);
  });

  it('a forked sample shares every block and copies the partly filled last one on its first write', () => {
    const kv = new BlockManager(100, 16);
    const parent = holder();
    kv.allocateSlots(parent, 1000);
    parent.computed_tokens = 1000;
    const children = [1, 2, 3].map((s) => holder({ sample: s }));
    for (const c of children) {
      kv.fork(parent, c);
      c.computed_tokens = 1000;
    }
    expect(kv.used_blocks).toBe(63); // ceil(1000 / 16): four samples, one prompt's blocks
    for (const s of [parent, ...children]) expect(kv.allocateSlots(s, 1001)).toBe(true);
    // Three writers copied the shared last block; the last writer found it unshared.
    expect(kv.copied_blocks).toBe(3);
    expect(kv.used_blocks).toBe(66);
    for (const s of [parent, ...children]) kv.free(s);
    expect(kv.used_blocks).toBe(0);
    expect(kv.free_blocks).toBe(100);
  });

  it('swaps blocks out to the CPU pool and back, and refuses when a pool is short', () => {
    const kv = new BlockManager(10, 16, { swap_blocks: 5 });
    const a = holder();
    kv.allocateSlots(a, 70);
    a.computed_tokens = 70;
    expect(kv.swapOut([a])).toBe(5);
    expect(a.kv.swapped_blocks).toBe(5);
    expect(kv.swapped_blocks).toBe(5);
    expect(kv.used_blocks).toBe(0);
    const b = holder({ id: 1 });
    kv.allocateSlots(b, 100);
    expect(kv.swapOut([b])).toBe(-1); // 7 blocks > 0 CPU blocks left
    expect(kv.swapIn([a])).toBe(-1); // 5 needed, 3 free
    kv.free(b);
    expect(kv.swapIn([a])).toBe(5);
    expect(a.kv.block_count).toBe(5);
    expect(kv.swapped_blocks).toBe(0);
    expect(kv.unused_slots).toBe(80 - 70);
    kv.free(a);
    expect(kv.free_blocks).toBe(10);
  });

  it('swaps forked samples as one request: shared blocks move once and come back shared', () => {
    const kv = new BlockManager(100, 16, { swap_blocks: 100 });
    const { parent, child } = forkedAt40(kv);
    for (const s of [parent, child]) {
      kv.allocateSlots(s, 41);
      s.computed_tokens = 41;
    }
    expect(kv.copied_blocks).toBe(1);
    expect(kv.used_blocks).toBe(4); // 2 shared + one partial block each
    expect(kv.swapOut([parent, child])).toBe(4);
    expect(kv.swapped_blocks).toBe(4);
    expect(kv.used_blocks).toBe(0);
    expect(kv.swapIn([parent, child])).toBe(4);
    expect(kv.used_blocks).toBe(4);
    expect(parent.kv.blocks.slice(0, 2)).toEqual(child.kv.blocks.slice(0, 2));
    expect(kv.unused_slots).toBe(2 * (16 - 9));
    kv.free(parent);
    expect(kv.used_blocks).toBe(3); // the shared blocks live on with the child
    kv.free(child);
    expect(kv.free_blocks).toBe(100);
  });

  it('drops a swapped-out group without swapping it in: its CPU blocks once, every holder cleared', () => {
    const kv = new BlockManager(10, 16, { swap_blocks: 6 });
    const { parent, child } = forkedAt40(kv);
    kv.allocateSlots(child, 41); // the child copies the shared last block: 4 distinct blocks
    child.computed_tokens = 41;
    const single = holder({ id: 1 });
    kv.allocateSlots(single, 20); // 2 blocks, swapped out on its own
    single.computed_tokens = 20;
    expect(kv.swapOut([parent, child])).toBe(4);
    expect(kv.swapOut([single])).toBe(2);
    expect([kv.swapped_blocks, kv.swap_free_blocks, kv.used_blocks]).toEqual([6, 0, 0]);
    expect([parent.kv.swapped_blocks, child.kv.swapped_blocks]).toEqual([3, 3]);

    // A part of another group, or a holder not swapped out, is refused before anything changes.
    expect(() => kv.dropSwapped([parent, single])).toThrow('not swapped out together');
    expect(() => kv.dropSwapped([holder({ id: 2 })])).toThrow('not swapped out');
    expect(kv.swapped_blocks).toBe(6);

    kv.dropSwapped([parent, child]);
    expect([kv.swapped_blocks, kv.swap_free_blocks]).toEqual([2, 4]); // the 4 distinct blocks, not 3 + 3
    for (const h of [parent, child]) {
      expect([h.kv.holds_kv, h.kv.swapped_blocks, h.kv.swap_slots.length, h.kv.swap_record, h.kv.block_count]).toEqual([false, 0, 0, undefined, 0]);
    }
    // Their progress is the caller's to account, and GPU blocks are untouched.
    expect([parent.computed_tokens, child.computed_tokens, kv.used_blocks, kv.free_blocks]).toEqual([40, 41, 0, 10]);
    kv.dropSwapped([single]);
    expect([kv.swapped_blocks, kv.swap_free_blocks]).toEqual([0, 6]);
    // A dropped holder can take blocks again (recomputing, as after a restart).
    parent.computed_tokens = 0;
    expect(kv.allocateSlots(parent, 40)).toBe(true);
    kv.free(parent);
    expect(kv.free_blocks).toBe(10);
  });
});

describe('BlockKeys.registerFilled', () => {
  it('registers the filled block alone when it is the next, and every earlier unregistered block otherwise', () => {
    const keys = new BlockKeys(8, 4);
    // A system prompt over all 100 tokens: every block may be shared, so every entry is written.
    const shared = (id: number) => new CacheKeys({ id, sample: 0, prompt_tokens: 100, prefix_group: 7 + id, prefix_tokens: 100 });
    const next = shared(1);
    keys.register(next, [0, 1], 2);
    keys.registerFilled(next, [0, 1, 2], 2, 2);
    expect([next.registered_blocks, keys.hasKey(2), keys.hasKey(3)]).toEqual([3, true, false]);
    const behind = shared(2);
    keys.registerFilled(behind, [5, 6, 7], 2, 7);
    expect([behind.registered_blocks, keys.hasKey(5), keys.hasKey(6), keys.hasKey(7)]).toEqual([3, true, true, true]);
  });

  it('registers a private block without writing its entry until its holder may look it up again (writePrivate), then writes every later one', () => {
    const keys = new BlockKeys(8, 4);
    // Tokens 0–7 are a system prompt (blocks 0 and 1 shared); from block 2 on, the request's own.
    const holder = new CacheKeys({ id: 3, sample: 0, prompt_tokens: 20, prefix_group: 1, prefix_tokens: 8 });
    keys.register(holder, [4, 5, 6], 3);
    expect([holder.registered_blocks, keys.hasKey(4), keys.hasKey(5), keys.hasKey(6)]).toEqual([3, true, true, false]);
    keys.writePrivate(holder, [4, 5, 6]);
    expect([holder.private_entries, keys.hasKey(6), keys.ownsPrivate(6, holder)]).toEqual([true, true, true]);
    keys.registerFilled(holder, [4, 5, 6, 7], 3, 7);
    expect([holder.registered_blocks, keys.ownsPrivate(7, holder)]).toEqual([4, true]);
  });
});
