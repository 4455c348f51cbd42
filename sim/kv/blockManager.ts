import { COUNTED_BLOCK, swapRecordOf, swapSlots, type KvOwner, type KvState, type SwapRecord } from './kvState.js';
import { clearKeepingStorage } from '../engine/arrays.js';
import { BlockPool } from './blockPool.js';

export type { KvOwner, SwapRecord } from './kvState.js';

export interface BlockManagerOptions {
  /** Keep full blocks in a hash-keyed cache and reuse them across requests (vLLM's automatic prefix caching). */
  prefix_caching?: boolean;
  /** Blocks in the CPU swap pool (0: no swapping). */
  swap_blocks?: number;
}

/**
 * The paged KV cache of one replica. Blocks have ids, reference counts and, once full and with prefix caching on, a content key.
 * Free blocks sit in one queue ordered by release time: a request's blocks are released tail first, so the least recently used
 * (and, within a request, the deepest) blocks are reused first; reusing a block that still holds a cache entry evicts it (vLLM
 * V1's free-block queue and cached-block map, vllm/v1/core/block_pool.py). Allocation is all-or-nothing. A block shared by
 * several holders (a prefix hit, or samples forked copy-on-write) is written only after copying when it is partly filled.
 */
export class BlockManager extends BlockPool {
  readonly swap_total_blocks: number;
  private swapUsed = 0;
  /** Cumulative counter (the engine reports per-iteration differences). */
  copied_blocks = 0;
  private readonly hits: number[] = [];

  constructor(total_blocks: number, block_size: number, options: BlockManagerOptions = {}) {
    super(total_blocks, block_size, options.prefix_caching ?? false);
    this.swap_total_blocks = options.swap_blocks ?? 0;
  }

  get swapped_blocks(): number {
    return this.swapUsed;
  }

  get swap_free_blocks(): number {
    return this.swap_total_blocks - this.swapUsed;
  }

  /** Tokens of `holder`'s first `known_tokens` in the cache: whole blocks, at most known − 1 (the last is computed for its logits); kept for the next `allocateSlots`. */
  lookupPrefix(holder: KvOwner, known_tokens: number): number {
    clearKeepingStorage(this.hits);
    const kv = holder.kv;
    if (!this.prefix_caching || kv.block_count > 0) return 0;
    return this.keys.cachedBlocks(kv.keys, Math.floor((known_tokens - 1) / this.block_size), this.hits) * this.block_size;
  }

  /**
   * Grows `holder` to cover `total_tokens` slots, first taking the blocks the last `lookupPrefix` found when `use_hits`; false
   * (no change) when the pool is short. Only the first `written_tokens` (default: all) are written by the coming step: they alone
   * count as filled and enter the prefix cache (V0 takes a prompt's blocks at admission but computes it by chunks).
   */
  allocateSlots(holder: KvOwner, total_tokens: number, use_hits = false, written_tokens = total_tokens): boolean {
    const start = holder.computed_tokens;
    const kv = holder.kv;
    const decode = !use_hits && total_tokens === start + 1 && written_tokens === total_tokens;
    // Fastest path, most decode steps: within a last block it holds alone, known from its last step.
    if (decode && total_tokens <= kv.lazy_until && total_tokens > kv.lazy_base) {
      this.unusedSlots -= kv.lazyWrite(total_tokens);
      return true;
    }
    if (decode && total_tokens === kv.lazy_until + 1 && kv.lazy_until > 0) return this.fillLazyBlock(kv);
    kv.settle(this.fill);
    // Fast path: one token into a block the holder already has alone.
    const B = this.block_size;
    if (decode && total_tokens <= kv.block_count * B) {
      const j = Math.floor(start / B);
      if (j >= kv.blocks.length) return this.decodeCounted(kv, j, total_tokens);
      const b = kv.blocks[j];
      if (this.refs[b] === 1 || start % B === 0) {
        const f = total_tokens - j * B;
        if (f > this.fill[b]) {
          this.unusedSlots -= f - this.fill[b];
          this.fill[b] = f;
        }
        if (f === B && this.prefix_caching) this.keys.register(kv.keys, kv.blocks, j + 1);
        // Its next tokens, up to the one that fills the block, can take the fastest path.
        if (f < B && this.refs[b] === 1 && j === kv.block_count - 1) kv.enterLazy(b, j * B, this.fill[b], (j + 1) * B - 1);
        return true;
      }
    }
    return decode ? this.decodeSlow(holder, total_tokens) : this.allocateSlow(holder, total_tokens, use_hits, written_tokens);
  }

  /** One token into counted block `j` (its own, private): as the named fast path, with the holder's count for its fill. */
  private decodeCounted(kv: KvState, j: number, total_tokens: number): boolean {
    const B = this.block_size;
    if (total_tokens > kv.counted_written) {
      this.unusedSlots -= total_tokens - kv.counted_written;
      kv.counted_written = total_tokens;
    }
    const f = total_tokens - j * B;
    if (f === B && this.prefix_caching) this.keys.register(kv.keys, kv.blocks, j + 1);
    if (f < B && j === kv.block_count - 1) kv.enterLazy(COUNTED_BLOCK, j * B, Math.min(B, kv.counted_written - j * B), (j + 1) * B - 1);
    return true;
  }

  /** The decode that fills its lazily kept last block, held alone: known without the block list or refs, which a long run let go cold. */
  private fillLazyBlock(kv: KvState): boolean {
    this.unusedSlots -= this.block_size - kv.lazy_fill;
    kv.lazy_until = 0;
    if (kv.lazy_block === COUNTED_BLOCK) kv.counted_written = kv.lazy_base + this.block_size;
    else this.fill[kv.lazy_block] = this.block_size;
    if (this.prefix_caching) this.keys.registerFilled(kv.keys, kv.blocks, kv.lazy_base / this.block_size, kv.lazy_block);
    return true;
  }

  /** A decode into a new (or copied) last block: its next tokens there take the fastest path if it holds it alone (apart, to keep prompts' allocations inlined). */
  private decodeSlow(holder: KvOwner, total_tokens: number): boolean {
    if (!this.allocateSlow(holder, total_tokens, false, total_tokens)) return false;
    const kv = holder.kv;
    const j = kv.block_count - 1;
    const B = this.block_size;
    if (j >= kv.blocks.length) {
      const f = Math.min(B, kv.counted_written - j * B);
      if (total_tokens > j * B && f < B) kv.enterLazy(COUNTED_BLOCK, j * B, f, (j + 1) * B - 1);
      return true;
    }
    const b = kv.blocks[j];
    if (total_tokens > j * B && this.refs[b] === 1 && this.fill[b] < B) kv.enterLazy(b, j * B, this.fill[b], (j + 1) * B - 1);
    return true;
  }

  /** Everything but the one-token fast path, kept apart so that the fast path stays small enough to inline. */
  private allocateSlow(holder: KvOwner, total_tokens: number, use_hits: boolean, written_tokens: number): boolean {
    const start = holder.computed_tokens;
    const kv = holder.kv;
    const hits = use_hits ? this.hits : undefined;
    const needed = Math.max(0, this.blocksFor(total_tokens) - kv.block_count - (hits?.length ?? 0));
    return this.grow(kv, hits, needed, this.needsCopy(kv, start, total_tokens), start, written_tokens);
  }

  /** Takes `hits`, copies the shared last block (`cow`), takes `needed` free blocks, all or none; fills up to `written_tokens`. */
  private grow(kv: KvState, hits: number[] | undefined, needed: number, cow: number, start: number, written_tokens: number, register = true): boolean {
    const hitCount = hits?.length ?? 0;
    let evictableHits = 0;
    for (let i = 0; i < hitCount; i++) if (this.refs[hits![i]] === 0) evictableHits++;
    if (needed + cow + evictableHits > this.freeQueue.size) return false;
    if (needed > 0 && hitCount === 0 && cow === 0 && register && this.countable(kv, kv.block_count)) this.takeCounted(kv, needed);
    else {
      // Named blocks go before counted ones: a holder taking named blocks names those it counts.
      if (kv.counted_blocks > 0 && needed + cow + hitCount > 0) this.nameCounted(kv);
      for (let i = 0; i < hitCount; i++) this.take(hits![i], kv);
      if (cow === 1) this.copyLast(kv);
      for (let i = 0; i < needed; i++) this.takeFree(kv);
    }
    this.setFill(kv, Math.max(start, hitCount * this.block_size), written_tokens);
    if (register && this.prefix_caching) this.keys.register(kv.keys, kv.blocks, Math.floor(written_tokens / this.block_size));
    if (hits !== undefined) clearKeepingStorage(hits);
    return true;
  }

  /**
   * Takes `count` free blocks for decode runs that reach a block boundary in the step being formed;
   * they wait, unnamed, for their holders (`claimRun`). Every allocation of a step takes its blocks
   * from the queue's front, so which holder gets which block changes only the blocks' names, which
   * nothing outside the pool sees. The caller has made sure the pool has them.
   */
  takeOwed(count: number): void {
    this.freeQueue.takeCounted(count);
    this.unusedSlots += count * this.block_size;
  }

  /**
   * Brings `holder`, in a decode run since it held `from_tokens` slots (its last block kept lazily,
   * private), up to `to_tokens` slots written one a step: the lazily kept block filled, then the
   * blocks the run's boundaries took (`takeOwed`), counted (or named, see `countable`), registered
   * when full, the last one kept lazily; as a stepped decode would have left it. The pool counted
   * every slot as written (`fillLazySlots`) and every block as taken already. Returns the blocks claimed.
   */
  claimRun(holder: KvState, from_tokens: number, to_tokens: number): number {
    const B = this.block_size;
    const filled_to = holder.lazy_until + 1;
    if (to_tokens < filled_to) {
      holder.lazyAdvance(to_tokens - from_tokens);
      return 0;
    }
    if (holder.lazy_block === COUNTED_BLOCK) holder.counted_written = filled_to;
    else this.fill[holder.lazy_block] = B;
    holder.lazy_until = 0;
    const claimed = Math.ceil((to_tokens - filled_to) / B);
    const last_base = filled_to + (claimed - 1) * B;
    if (claimed > 0 && this.countable(holder, holder.block_count)) {
      if (holder.counted_blocks === 0) holder.counted_written = holder.block_count * B;
      holder.block_count += claimed;
      holder.counted_written = to_tokens;
    } else {
      // Named blocks never follow counted ones (a holder with counted blocks stays countable until it names them).
      if (holder.counted_blocks > 0) this.nameCounted(holder);
      for (let base = filled_to; base < to_tokens; base += B) {
        const b = this.freeQueue.nameCounted();
        this.refs[b] = 1;
        holder.blocks.push(b);
        holder.block_count++;
        this.fill[b] = Math.min(B, to_tokens - base);
      }
    }
    if (this.prefix_caching) this.keys.register(holder.keys, holder.blocks, Math.floor(to_tokens / B));
    const f = to_tokens - last_base;
    if (claimed > 0 && f < B) holder.enterLazy(holder.counted_blocks > 0 ? COUNTED_BLOCK : holder.blocks[holder.block_count - 1], last_base, f, last_base + B - 1);
    return claimed;
  }

  /** Takes blocks for `reserved_tokens` up front (Orca, request-level batching: no prefix caching), filling only `written_tokens`; growth within them takes none. */
  reserve(holder: KvOwner, reserved_tokens: number, written_tokens: number): boolean {
    const kv = holder.kv;
    kv.settle(this.fill);
    return this.grow(kv, undefined, Math.max(0, this.blocksFor(reserved_tokens) - kv.block_count), 0, holder.computed_tokens, written_tokens, false);
  }

  /**
   * Blocks for `holder`'s computed tokens, whose KV another replica computed and a transfer will fill, plus slots up to
   * `reserve_tokens`; with `use_hits`, the last `lookupPrefix`'s cached blocks first (only the rest need come over). They enter
   * the prefix cache once filled (`landed`), as vLLM caches remote blocks after their load. All or nothing; false when short.
   */
  receive(holder: KvOwner, use_hits = false, reserve_tokens = holder.computed_tokens): boolean {
    if (holder.kv.holds_kv) throw new Error('receive of a holder that already holds KV');
    const hits = use_hits ? this.hits : undefined;
    const needed = this.blocksFor(Math.max(reserve_tokens, holder.computed_tokens)) - (hits?.length ?? 0);
    return this.grow(holder.kv, hits, needed, 0, 0, holder.computed_tokens, false);
  }

  /** The KV a `receive` made room for has landed: its full blocks may be found by others now. */
  landed(holder: KvOwner): void {
    if (this.prefix_caching) this.keys.register(holder.kv.keys, holder.kv.blocks, Math.floor(holder.computed_tokens / this.block_size));
  }

  /**
   * Releases every block of `holder`, tail first (its deepest blocks are evicted first). With `will_return` (a recompute preemption)
   * the holder remembers where its blocks were, to find its private content again while cached; else it forgets, and they are spares.
   */
  free(holder: KvOwner, will_return = false): void {
    const kv = holder.kv;
    kv.settle(this.fill);
    const blocks = kv.blocks;
    if (will_return && this.prefix_caching) {
      // It will look its private blocks up where they were: they need ids.
      this.nameCounted(kv);
      kv.keys.rememberReleased(blocks);
      this.keys.writePrivate(kv.keys, blocks);
      for (let i = blocks.length - 1; i >= 0; i--) this.release(blocks[i]);
    } else {
      kv.keys.forgetReleased();
      this.releaseForGood(kv);
    }
    blocks.length = 0;
    kv.block_count = 0;
    this.keys.forget(kv.keys);
    if (kv.swap_record !== undefined) throw new Error('free of a swapped-out holder');
    if (this.freeQueue.size > this.total_blocks) throw new Error(`KV block accounting broke: ${this.freeQueue.size} free of ${this.total_blocks}`);
  }

  /**
   * Gives back the slots past `holder`'s first `kept_tokens` (the draft tokens a speculative step rejected) and returns the blocks
   * released: blocks past the last kept one, tail first; the last kept block keeps only its kept slots. A token is known here by its
   * position only, so a block holding a rejected draft would pass for the accepted token's: any cache entry on a block from the first
   * partly kept one on is dropped, and only wholly kept blocks are offered to the cache. Kept slots the step left unwritten (drafts
   * allocated with a shorter `written_tokens`) count as written from now on. The trimmed slots must be the holder's own (drafts follow
   * the prompt; a block shared copy-on-write is never trimmed).
   */
  rollback(holder: KvOwner, kept_tokens: number): number {
    const kv = holder.kv;
    this.nameCounted(kv);
    const B = this.block_size;
    const keep = this.blocksFor(kept_tokens);
    const whole = Math.floor(kept_tokens / B);
    if (keep > kv.block_count) throw new Error(`rollback to ${kept_tokens} tokens of a holder with ${kv.block_count} blocks`);
    // Every check before the first change: a caller that catches the error still has a whole pool.
    for (let j = whole; j < kv.block_count; j++) {
      if (this.refs[kv.blocks[j]] > 1) throw new Error(`rollback into KV block ${kv.blocks[j]}, shared with another holder`);
    }
    for (let j = whole; j < kv.block_count; j++) {
      const b = kv.blocks[j];
      if (this.keys.hasKey(b)) this.keys.evict(b);
    }
    if (kv.keys.registered_blocks > whole) kv.keys.registered_blocks = whole;
    const released = kv.block_count - keep;
    for (let j = kv.block_count - 1; j >= keep; j--) this.release(kv.blocks[j]);
    kv.blocks.length = keep;
    kv.block_count = keep;
    // Fill is a prefix: going down from the last kept block, the first full one ends the repair.
    for (let j = keep - 1; j >= 0; j--) {
      const b = kv.blocks[j];
      const f = Math.min(B, kept_tokens - j * B);
      if (this.fill[b] === f && f === B) break;
      this.unusedSlots += this.fill[b] - f;
      this.fill[b] = f;
    }
    if (this.prefix_caching) this.keys.register(kv.keys, kv.blocks, whole);
    return released;
  }

  /** `child` shares every block of `parent` (a sample forked after the prompt pass). */
  fork(parent: KvOwner, child: KvOwner): void {
    const from = parent.kv;
    // Its last block becomes shared: no more writes to it without a copy (settled, as it is named).
    this.nameCounted(from);
    const to = child.kv;
    for (const b of from.blocks) {
      if (this.refs[b] === 0) throw new Error(`fork of a free block ${b}`);
      this.refs[b]++;
      to.blocks.push(b);
    }
    to.block_count = from.block_count;
    // A shared block is released by whichever holder lets it go last: its entry must be there for either to read.
    if (this.prefix_caching) {
      this.keys.writePrivate(from.keys, from.blocks);
      to.keys.private_entries = true;
    }
    this.keys.inherit(from.keys, to.keys, Math.floor(parent.computed_tokens / this.block_size));
  }

  /**
   * Blocks `holder` must take to grow to `total_tokens`: new blocks plus a copy when its first write lands in a partly filled block
   * it shares (of several samples sharing it, the last to write needs no copy: this counts one for each, an upper bound).
   */
  growthBlocks(holder: KvOwner, total_tokens: number): number {
    const kv = holder.kv;
    return Math.max(0, this.blocksFor(total_tokens) - kv.block_count) + this.needsCopy(kv, holder.computed_tokens, total_tokens);
  }

  /**
   * Moves the blocks of `holders` (the running samples of one request, or one sequence) to the CPU pool: each distinct block once,
   * shared blocks staying shared. Returns the blocks moved, or −1 (no change) when the pool lacks room.
   */
  swapOut(holders: readonly KvOwner[]): number {
    for (const h of holders) this.nameCounted(h.kv);
    const slotOf = swapSlots(holders);
    const distinct = slotOf.size;
    if (distinct > this.swap_free_blocks) return -1;
    const record: SwapRecord = { blocks: distinct, fill: new Array<number>(distinct) };
    for (const [b, slot] of slotOf) record.fill[slot] = this.fill[b];
    for (const h of holders) {
      const kv = h.kv;
      const blocks = kv.blocks;
      kv.swap_slots = blocks.map((b) => slotOf.get(b) as number);
      kv.swap_record = record;
      kv.swapped_blocks = kv.block_count;
      // Swapped in, it takes fresh blocks without a lookup: its private entries here are of no more use.
      kv.keys.forgetReleased();
      this.releaseForGood(kv);
      blocks.length = 0;
      kv.block_count = 0;
      this.keys.forget(kv.keys);
    }
    this.swapUsed += distinct;
    return distinct;
  }

  /** Brings swapped-out `holders` (as swapped out together) back to fresh GPU blocks; the blocks moved, or −1 (no change) when the GPU pool is short. */
  swapIn(holders: readonly KvOwner[]): number {
    const record = swapRecordOf(holders, 'swap-in');
    if (record.blocks > this.freeQueue.size) return -1;
    const fresh: number[] = [];
    for (let k = 0; k < record.blocks; k++) {
      const b = this.freeQueue.take();
      this.fill[b] = record.fill[k];
      fresh.push(b);
    }
    for (const h of holders) {
      const kv = h.kv;
      for (const slot of kv.swap_slots) this.take(fresh[slot], kv);
      kv.leaveSwap();
      if (this.prefix_caching) this.keys.register(kv.keys, kv.blocks, Math.floor(h.computed_tokens / this.block_size));
    }
    this.swapUsed -= record.blocks;
    return record.blocks;
  }

  /** Discards the CPU copy of `holders` (swapped out together) unread: their replica failed, and they leave it. */
  dropSwapped(holders: readonly KvOwner[]): void {
    const record = swapRecordOf(holders, 'swap drop');
    for (const h of holders) h.kv.leaveSwap();
    this.swapUsed -= record.blocks;
  }

  /** 1 when the next write (at token `start`) lands in a partly filled block that another holder shares. */
  private needsCopy(kv: KvState, start: number, total_tokens: number): number {
    // Counted blocks are held alone.
    if (start % this.block_size === 0 || total_tokens <= start || kv.block_count === 0 || kv.counted_blocks > 0) return 0;
    const last = kv.blocks[kv.block_count - 1];
    return this.refs[last] > 1 ? 1 : 0;
  }

  /** Copy-on-write of the holder's last block. */
  private copyLast(holder: KvState): void {
    const i = holder.block_count - 1;
    const old = holder.blocks[i];
    const copy = this.freeQueue.take();
    this.refs[copy] = 1;
    this.fill[copy] = this.fill[old];
    this.unusedSlots += this.block_size - this.fill[copy];
    holder.blocks[i] = copy;
    this.release(old);
    this.copied_blocks++;
  }
}
