import { BlockKeys, type CacheKeys } from './blockKeys.js';
import type { KvState } from './kvState.js';
import { FreeQueue } from './freeQueue.js';

/**
 * The per-block tables of one replica's paged KV cache (reference counts, fills, content keys, the
 * free queue) and the moves of single blocks between holders and the queue; BlockManager builds
 * the allocation, release, fork, swap and rollback policies on them.
 */
export abstract class BlockPool {
  protected readonly refs: Int32Array;
  /** Token slots filled in each block (for internal fragmentation). */
  protected readonly fill: Int32Array;
  protected readonly freeQueue: FreeQueue;
  /** The prefix-cache index: read-only outside, where a router probes it as a gateway's cache index would. */
  readonly keys: BlockKeys;
  protected unusedSlots = 0;

  constructor(
    readonly total_blocks: number,
    readonly block_size: number,
    readonly prefix_caching: boolean,
  ) {
    this.refs = new Int32Array(total_blocks);
    this.fill = new Int32Array(total_blocks);
    this.keys = new BlockKeys(total_blocks, block_size);
    this.freeQueue = new FreeQueue(total_blocks, this.keys, this.fill);
  }

  /** Blocks an allocation can take: truly free plus cached-free (evictable). */
  get free_blocks(): number {
    return this.freeQueue.size;
  }

  /** Blocks referenced by at least one holder. */
  get used_blocks(): number {
    return this.total_blocks - this.freeQueue.size;
  }

  /** Free blocks that still hold a prefix-cache entry. */
  get cached_blocks(): number {
    return this.freeQueue.cached;
  }

  /** Cache entries evicted by reuse, cumulative (the engine reports per-iteration differences). */
  get evicted_blocks(): number {
    return this.freeQueue.evicted;
  }

  /** Token slots in referenced blocks that hold no token. */
  get unused_slots(): number {
    return this.unusedSlots;
  }

  /** `count` holders each wrote one slot of a last block whose fill they keep lazily (a step of decode runs; `KvState.lazyAdvance` catches each up). */
  fillLazySlots(count: number): void {
    this.unusedSlots -= count;
  }

  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.block_size);
  }

  /** Sets the fill of the holder's blocks covering tokens [from, to). */
  protected setFill(holder: KvState, from: number, to: number): void {
    const B = this.block_size;
    const named = holder.blocks.length;
    for (let j = Math.floor(from / B); j * B < to && j < named; j++) {
      const b = holder.blocks[j];
      const f = Math.min(B, to - j * B);
      if (f > this.fill[b]) {
        this.unusedSlots -= f - this.fill[b];
        this.fill[b] = f;
      }
    }
    if (named < holder.block_count && to > holder.counted_written) {
      this.unusedSlots -= to - holder.counted_written;
      holder.counted_written = to;
    }
  }

  /**
   * Whether `holder`'s block `j` (and every later one) may be counted rather than named: it would
   * be its own alone and private, with no cache entry written for it (`BlockKeys.enter`), so that
   * nothing but its holder's counts need know it.
   */
  protected countable(holder: KvState, j: number): boolean {
    return !this.prefix_caching || (!holder.keys.private_entries && j >= this.keys.privateFrom(holder.keys));
  }

  /** `holder` takes `count` free blocks as counted ones (after any it has: see `countable`). */
  protected takeCounted(holder: KvState, count: number): void {
    this.freeQueue.takeCounted(count);
    this.unusedSlots += count * this.block_size;
    if (holder.counted_blocks === 0) holder.counted_written = holder.block_count * this.block_size;
    holder.block_count += count;
  }

  /** Gives each of `holder`'s counted blocks an id, for whatever needs them named (it is settled first). */
  protected nameCounted(holder: KvState): void {
    holder.settle(this.fill);
    const B = this.block_size;
    for (let j = holder.blocks.length; j < holder.block_count; j++) {
      const b = this.freeQueue.nameCounted();
      this.refs[b] = 1;
      this.fill[b] = Math.max(0, Math.min(B, holder.counted_written - j * B));
      holder.blocks.push(b);
    }
  }

  /** Takes the next free block for `holder`, which holds it alone and empty (`FreeQueue.take` left its fill 0). */
  protected takeFree(holder: KvState): void {
    const b = this.freeQueue.take();
    this.refs[b] = 1;
    this.unusedSlots += this.block_size;
    holder.blocks.push(b);
    holder.block_count++;
  }

  protected take(block: number, holder: KvState): void {
    if (this.refs[block]++ === 0) {
      if (this.freeQueue.has(block)) this.freeQueue.takeBack(block);
      this.unusedSlots += this.block_size - this.fill[block];
    }
    holder.blocks.push(block);
    holder.block_count++;
  }

  /**
   * Releases every block of `kv`, tail first, by a holder that will not look them up again: its
   * registered private blocks, whose entries (written or not, `BlockKeys.enter`) it alone could
   * find, join the queue as spares still counted as cached; the others as `release` says.
   */
  protected releaseForGood(kv: KvState): void {
    const blocks = kv.blocks;
    const owner = kv.keys;
    if (kv.counted_blocks > 0) this.releaseCounted(kv);
    // A holder whose entries are written has them to read, and without prefix caching there are none: `release` decides.
    const own = this.prefix_caching && !owner.private_entries ? Math.min(owner.registered_blocks, blocks.length) : 0;
    const from = own > 0 ? this.keys.privateFrom(owner) : 0;
    for (let i = blocks.length - 1; i >= 0; i--) {
      const b = blocks[i];
      if (i < from || i >= own) this.release(b, owner);
      // A registered block is full (rollback unregisters what it trims), so it leaves no unused
      // slots: its fill, a cold line by now, is not read (1–2 % of the scale scenario's time;
      // the run's end checks that the pool's unused slots come back to 0).
      else if (--this.refs[b] === 0) this.freeQueue.releaseOwnPrivate(b);
      else if (this.refs[b] < 0) throw new Error(`KV block ${b} released twice`);
    }
  }

  /**
   * Releases `kv`'s counted blocks (settled), tail first, as the loop above would have released
   * them named: the registered ones (a prefix) as private spares still counted as cached, the
   * others as plain spares.
   */
  private releaseCounted(kv: KvState): void {
    const B = this.block_size;
    const named = kv.blocks.length;
    const counted = kv.counted_blocks;
    const registered = this.prefix_caching ? Math.min(Math.max(0, kv.keys.registered_blocks - named), counted) : 0;
    this.unusedSlots -= counted * B - (kv.counted_written - named * B);
    this.freeQueue.releaseCounted(counted - registered, registered);
    kv.block_count = named;
  }

  /** Drops a reference; a block left unreferenced joins the free queue (see `FreeQueue.release` for `owner`). */
  protected release(block: number, owner?: CacheKeys): void {
    if (--this.refs[block] > 0) return;
    if (this.refs[block] < 0) throw new Error(`KV block ${block} released twice`);
    this.unusedSlots -= this.block_size - this.fill[block];
    this.freeQueue.release(block, owner);
  }
}
