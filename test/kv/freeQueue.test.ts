import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockKeys, CacheKeys } from '../../sim/kv/blockKeys.js';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { FreeQueue } from '../../sim/kv/freeQueue.js';
import { KvState } from '../../sim/kv/kvState.js';

interface Holder {
  readonly kv: KvState;
  computed_tokens: number;
}

function holder(id: number, extra: { prefix_group?: number; prefix_tokens?: number } = {}): Holder {
  return { kv: new KvState(new CacheKeys({ id, sample: 0, prompt_tokens: 1000, ...extra })), computed_tokens: 0 };
}

function admit(kv: BlockManager, h: Holder, known: number): number {
  const hit = kv.lookupPrefix(h, known);
  if (!kv.allocateSlots(h, known, true)) throw new Error('pool short');
  h.computed_tokens = known;
  return hit;
}

/** A hit: takes a findable block (as `pick` chooses) out of the queue and its model, which keeps every entry; undefined when none is queued. */
function takeBackFindable(q: FreeQueue, model: (number | string)[], pick: number): number | undefined {
  const inQueue = model.filter((e): e is number => typeof e === 'number');
  if (inQueue.length === 0) return undefined;
  const b = inQueue[pick % inQueue.length];
  q.takeBack(b);
  model.splice(model.indexOf(b), 1);
  return b;
}

describe('FreeQueue: spares stand in for blocks nobody can find', () => {
  it('counts a finished request\'s private blocks as cached until their turn, between findable ones (hand-computed)', () => {
    const kv = new BlockManager(6, 4, { prefix_caching: true });
    const a = holder(0); // every token its own: private entries
    admit(kv, a, 8); // blocks 0, 1
    kv.free(a);
    expect([kv.cached_blocks, kv.free_blocks, kv.evicted_blocks]).toEqual([2, 6, 0]);
    const s = holder(1, { prefix_group: 9, prefix_tokens: 8 }); // 8 shared tokens: two findable entries
    admit(kv, s, 8);
    kv.free(s);
    // Queue, front first: 2 never-used, a's 2 (cached, nobody can find them), s's 2 (findable).
    expect([kv.cached_blocks, kv.free_blocks]).toEqual([4, 6]);
    admit(kv, holder(2), 12); // 3 blocks: the 2 never-used ones and one of a's, evicting it
    expect([kv.cached_blocks, kv.evicted_blocks, kv.free_blocks]).toEqual([3, 1, 3]);
    expect(kv.lookupPrefix(holder(3, { prefix_group: 9, prefix_tokens: 8 }), 9)).toBe(8);
    admit(kv, holder(4), 8); // a's other block, then s's block 1 (released before its block 0)
    expect([kv.cached_blocks, kv.evicted_blocks, kv.free_blocks]).toEqual([1, 3, 1]);
    expect(kv.lookupPrefix(holder(5, { prefix_group: 9, prefix_tokens: 8 }), 9)).toBe(4);
  });

  it('keeps a preempted request\'s private blocks findable; a plain free means it will not look them up here again', () => {
    const kv = new BlockManager(4, 4, { prefix_caching: true });
    const a = holder(0);
    admit(kv, a, 8);
    kv.free(a, true);
    a.computed_tokens = 0;
    expect(admit(kv, a, 9)).toBe(8); // its two blocks back, and a third
    // A plain free (a finish, a move to another replica) forgets them: they still count as cached until reused, but are
    // spares, and the holder itself no longer finds them (the queue before spares found them here: a contract of free).
    kv.free(a);
    a.computed_tokens = 0;
    expect([kv.cached_blocks, kv.free_blocks]).toEqual([2, 4]);
    expect(admit(kv, a, 9)).toBe(0);
  });

  it('compacts a ring full of blocks taken back and released again, keeping each block\'s place', () => {
    const keys = new BlockKeys(4, 4);
    const q = new FreeQueue(4, keys, new Int32Array(4));
    const owner = new CacheKeys({ id: 0, sample: 0, prompt_tokens: 100 });
    const blocks = [q.take(), q.take(), q.take(), q.take()];
    expect(blocks).toEqual([0, 1, 2, 3]);
    keys.register(owner, blocks, 4);
    keys.writePrivate(owner, blocks); // as a recompute preemption does
    for (const b of blocks) q.release(b); // findable, in order 0 1 2 3
    // Each round leaves two tombstones: the ring (8 entries for 4 blocks) fills and is compacted many times.
    for (let round = 0; round < 100; round++) {
      for (const b of [1, 2]) {
        q.takeBack(b);
        q.release(b);
      }
    }
    q.takeBack(3); // found where compaction moved it
    expect([q.size, q.cached]).toEqual([3, 3]);
    expect([q.take(), q.take(), q.take()]).toEqual([0, 1, 2]);
    expect([q.size, q.cached, q.evicted]).toEqual([0, 0, 3]);
  });

  it('compacts a ring that fills while the never-used blocks are still untaken, and hands those out first', () => {
    const keys = new BlockKeys(4, 4);
    const q = new FreeQueue(4, keys, new Int32Array(4));
    const shared = new CacheKeys({ id: 9, sample: 0, prompt_tokens: 100, prefix_group: 1, prefix_tokens: 8 });
    expect(q.take()).toBe(0);
    keys.register(shared, [0], 1); // findable by anyone
    q.release(0);
    // Each round leaves a tombstone behind block 0: the ring (8 entries for 4 blocks) fills and is
    // compacted, many times, while blocks 1–3, never taken, still wait ahead of it.
    for (let round = 0; round < 200; round++) {
      q.takeBack(0);
      q.release(0);
    }
    expect([q.size, q.cached]).toEqual([4, 1]);
    expect([q.take(), q.take(), q.take()]).toEqual([1, 2, 3]);
    expect([q.size, q.cached, q.evicted]).toEqual([1, 1, 0]);
    expect(q.take()).toBe(0);
    expect([q.size, q.cached, q.evicted, keys.hasKey(0)]).toEqual([0, 0, 1, false]);
  });

  it('keeps the order and each block\'s place over many releases, take-backs and compactions (200 blocks)', () => {
    const N = 200;
    const keys = new BlockKeys(N, 4);
    const q = new FreeQueue(N, keys, new Int32Array(N));
    const blocks = Array.from({ length: N }, () => q.take());
    expect(blocks).toEqual(Array.from({ length: N }, (_, b) => b));
    // Each block findable under its own shared key, released in order. Block 0 is taken back and
    // released again first, so that the tombstone it leaves shifts every entry when the ring is
    // compacted (each block's place must follow).
    for (const b of blocks) {
      keys.register(new CacheKeys({ id: 1000 + b, sample: 0, prompt_tokens: 100, prefix_group: b, prefix_tokens: 8 }), [b], 1);
      q.release(b);
      if (b === 0) {
        q.takeBack(0);
        q.release(0);
      }
    }
    for (let round = 0; round < 300; round++) {
      q.takeBack(5);
      q.release(5);
    }
    expect([q.size, q.cached]).toEqual([N, N]);
    const order = Array.from({ length: N }, () => q.take());
    expect(order).toEqual([...blocks.filter((b) => b !== 5), 5]);
    expect([q.size, q.cached, q.evicted]).toEqual([0, 0, N]);
  });

  // The queue against a model that keeps every entry: findable blocks by id, spares as markers.
  it('pops in release order, skips blocks taken back, and hands out the spare released last (random walk)', () => {
    const N = 7;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(5), fc.nat(N - 1), fc.boolean()), { minLength: 1, maxLength: 400 }), (ops) => {
        const keys = new BlockKeys(N, 4);
        const fill = new Int32Array(N);
        const q = new FreeQueue(N, keys, fill);
        const owners = Array.from({ length: N }, (_, b) => new CacheKeys({ id: b, sample: 0, prompt_tokens: 100 }));
        const shared = Array.from({ length: N }, (_, b) => new CacheKeys({ id: 100 + b, sample: 0, prompt_tokens: 100, prefix_group: b, prefix_tokens: 8 }));
        const keyedBy: string[] = [];
        type Entry = number | 'spare' | 'spare-cached';
        const model: Entry[] = Array.from({ length: N }, () => 'spare' as const);
        const spares = Array.from({ length: N }, (_, b) => N - 1 - b);
        const held: number[] = [];
        let cached = 0;
        let evicted = 0;
        for (const [op, pick, flag] of ops) {
          if (op <= 1 && q.size > 0) {
            const e = model.shift() as Entry;
            const expected = typeof e === 'number' ? e : (spares.pop() as number);
            if (e === 'spare-cached' || typeof e === 'number') {
              cached--;
              evicted++;
            }
            const b = q.take();
            expect(b).toBe(expected);
            expect([keys.hasKey(b), fill[b]]).toEqual([false, 0]);
            held.push(b);
          } else if (op === 2 && held.length > 0) {
            const b = held.splice(pick % held.length, 1)[0];
            // Keyed now by its owner (private), by another holder (private), under a shared key, or not at all, unless it kept
            // an entry (taken back by a hit); released by its owner (`flag`) or by anyone. Only an entry of the owner's own
            // makes it a spare that counts as cached; any other stays findable.
            const kind = (['none', 'own', 'other', 'shared'] as const)[pick % 4];
            if (!keys.hasKey(b) && kind !== 'none') {
              const by = kind === 'own' ? owners[b] : kind === 'other' ? owners[(b + 1) % N] : shared[b];
              keys.forget(by);
              keys.register(by, [b], 1);
              // A private entry is written only for a holder that may look it up again (BlockKeys.enter): write it as a preemption would.
              if (kind !== 'shared') {
                by.private_entries = false;
                keys.writePrivate(by, [b]);
              }
              if (keys.hasKey(b)) keyedBy[b] = kind;
            }
            const keyed = keys.hasKey(b);
            if (keyed) cached++;
            fill[b] = 4;
            q.release(b, flag ? owners[b] : undefined);
            if (keyed && !(flag && keyedBy[b] === 'own')) {
              model.push(b);
              expect(fill[b]).toBe(4);
            } else {
              model.push(keyed ? 'spare-cached' : 'spare');
              spares.push(b);
              expect([fill[b], keys.hasKey(b)]).toEqual([0, false]);
            }
          } else {
            const b = takeBackFindable(q, model, pick);
            if (b === undefined) continue;
            cached--;
            held.push(b);
          }
          expect([q.size, q.cached, q.evicted]).toEqual([model.length, cached, evicted]);
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  // Counted blocks (BlockPool) take and release spares' marks without ids, which the queue keeps in
  // runs: against a model that keeps every mark, and the ids of spares and counted blocks together.
  it('takes and releases counted blocks in order with named ones, marks run-length coded (random walk)', () => {
    const N = 9;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(6), fc.nat(N - 1)), { minLength: 1, maxLength: 400 }), (ops) => {
        const keys = new BlockKeys(N, 4);
        const fill = new Int32Array(N);
        const q = new FreeQueue(N, keys, fill);
        const shared = Array.from({ length: N }, (_, b) => new CacheKeys({ id: 100 + b, sample: 0, prompt_tokens: 100, prefix_group: b, prefix_tokens: 8 }));
        type Entry = number | 'spare' | 'spare-cached';
        const model: Entry[] = Array.from({ length: N }, () => 'spare' as const);
        const ids = Array.from({ length: N }, (_, b) => N - 1 - b);
        const held: number[] = [];
        let counted = 0;
        let cached = 0;
        let evicted = 0;
        const pop = (): Entry => {
          const e = model.shift() as Entry;
          if (e !== 'spare') {
            cached--;
            evicted++;
          }
          return e;
        };
        for (const [op, pick] of ops) {
          if (op === 0 && q.size > 0) {
            const e = pop();
            const b = q.take();
            expect(b).toBe(typeof e === 'number' ? e : ids.pop());
            held.push(b);
          } else if (op === 1 && q.size > 0) {
            const k = 1 + (pick % Math.min(3, q.size));
            for (let i = 0; i < k; i++) {
              const e = pop();
              if (typeof e === 'number') ids.push(e);
            }
            q.takeCounted(k);
            counted += k;
          } else if (op === 2 && counted > 0) {
            const spare = pick % (counted + 1);
            const cachedSpares = Math.min(counted - spare, pick % 2);
            q.releaseCounted(spare, cachedSpares);
            for (let i = 0; i < spare; i++) model.push('spare');
            for (let i = 0; i < cachedSpares; i++) model.push('spare-cached');
            cached += cachedSpares;
            counted -= spare + cachedSpares;
          } else if (op === 3 && counted > 0) {
            const b = q.nameCounted();
            expect(b).toBe(ids.pop());
            counted--;
            held.push(b);
          } else if (op === 4 && held.length > 0) {
            // Released findable (under a shared key) or as a plain spare.
            const b = held.splice(pick % held.length, 1)[0];
            if (pick % 2 === 0) {
              keys.forget(shared[b]);
              keys.register(shared[b], [b], 1);
            }
            const keyed = keys.hasKey(b);
            if (keyed) cached++;
            q.release(b);
            model.push(keyed ? b : 'spare');
            if (!keyed) ids.push(b);
          } else if (op >= 5) {
            const b = takeBackFindable(q, model, pick);
            if (b === undefined) continue;
            cached--;
            held.push(b);
          }
          expect([q.size, q.cached, q.evicted]).toEqual([model.length, cached, evicted]);
        }
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});
