import type { BlockKeys, CacheKeys } from './blockKeys.js';

/** A ring entry for a free block whose content nobody can find again (no cache entry, or a private one of a holder gone for good). */
const SPARE = -1;
/** The same, whose cache entry still counts as cached (and as evicted when its turn comes), as a findable one would. */
const SPARE_CACHED = -2;
/** A findable block taken back out of the queue (a prefix hit): skipped. */
const GONE = -3;
/** Entries the ring and the spare stack start with (they double as a run needs). */
const MIN_RING = 64;

/**
 * The free blocks of one pool, in release order, with the prefix-cache counts that order decides
 * (vLLM V1's free-block queue, vllm/v1/core/block_pool.py: the least recently released block is
 * reused first, evicting its cache entry).
 *
 * A block whose content can still be found (a prefix-cache entry) keeps its place as itself. Any
 * other free block is interchangeable with every other such block: its place holds an anonymous
 * entry (and whether it counts as cached), the block itself goes onto a stack of spares, and an
 * entry that reaches the front takes the spare released last. In plain LRU order a block came
 * back only after every other free block had, so each reuse missed the CPU caches on every
 * per-block table; spares reused last-in first-out keep the blocks a replica touches about as
 * many as it holds. Nothing outside the pool sees block ids, so every count, hit and eviction is
 * the same as with one queue of blocks.
 *
 * The order is the pool's initial entries, then a ring: O(1) push at the back, pop at the front,
 * and removal from anywhere (a block taken by a hit leaves a tombstone; a full ring is compacted
 * when at least half of it is tombstones, else doubled).
 *
 * At the start every block is a spare: `initial` anonymous entries come before the ring, and the
 * stack holds blocks total_blocks − 1 … 0 (0 on top). Neither is written out (`fresh` marks the
 * top of the initial stack), and the ring and stack grow only as a run uses them: a pool of a few
 * hundred thousand blocks (a small model over eight GPUs) took ~5 ms to set up, per replica and
 * per run, a sixth of a deployment plan's time.
 */
export class FreeQueue {
  private ring = new Int32Array(MIN_RING);
  private mask = MIN_RING - 1;
  private head = 0;
  private tail = 0;
  /** Ring entries from head to tail, tombstones included. */
  private span = 0;
  /** Initial anonymous entries not yet taken: they come before the ring's. */
  private initial: number;
  /** Ring index plus one of each findable block in the queue, 0 for any other block (a new table needs no pass). */
  private readonly pos1: Int32Array;
  /** Spares pushed since the start, above the initial ones (fresh … total_blocks − 1, `fresh` on top). */
  private spares = new Int32Array(MIN_RING);
  private spareCount = 0;
  private fresh = 0;
  /** Free blocks: findable ones plus spares. */
  size: number;
  /** Free blocks that still count as holding a prefix-cache entry. */
  cached = 0;
  /** Cache entries evicted by reuse, cumulative. */
  evicted = 0;

  /** Every block starts free and empty; `fill` is the pool's per-block fill, zeroed here for a block reused. */
  constructor(
    private readonly total_blocks: number,
    private readonly keys: BlockKeys,
    private readonly fill: Int32Array,
  ) {
    this.pos1 = new Int32Array(total_blocks);
    // Every block a spare, as if pushed from the last to the first: blocks 0, 1, 2, … are taken first.
    this.initial = total_blocks;
    this.size = total_blocks;
  }

  /** True for a findable block in the queue. */
  has(b: number): boolean {
    return this.pos1[b] !== 0;
  }

  /**
   * Queues a block no holder references any more. It stays findable if it has a cache entry that
   * a holder other than `owner` (none: any holder) might look up; else it is a spare (its entry,
   * `owner`'s own private one, dropped now but counted as cached until its turn).
   */
  release(b: number, owner?: CacheKeys): void {
    if (!this.keys.hasKey(b)) {
      this.fill[b] = 0;
      this.pushSpare(b, false);
      return;
    }
    this.cached++;
    if (owner === undefined || !this.keys.ownsPrivate(b, owner)) {
      this.pos1[b] = this.append(b) + 1;
      return;
    }
    this.keys.evict(b);
    this.fill[b] = 0;
    this.pushSpare(b, true);
  }

  /**
   * Queues a block whose holder drops the private cache entry it would have (not written:
   * `BlockKeys.enter`) for good: as `release` with that holder as `owner`, without an entry to read.
   */
  releaseOwnPrivate(b: number): void {
    this.cached++;
    this.fill[b] = 0;
    this.pushSpare(b, true);
  }

  /** Takes a findable block back out of the queue (a prefix hit), wherever it is. */
  takeBack(b: number): void {
    this.ring[this.pos1[b] - 1] = GONE;
    this.pos1[b] = 0;
    this.size--;
    if (this.keys.hasKey(b)) this.cached--;
  }

  /** Takes the least recently released block (its fill 0), evicting its cache entry if it has one. */
  take(): number {
    if (this.size === 0) throw new Error('KV pool exhausted after a successful capacity check');
    if (this.initial > 0) {
      // An initial anonymous entry (an uncached spare): the spare on top of the stack.
      this.initial--;
      this.size--;
      return this.popSpare();
    }
    let e = this.ring[this.head];
    while (e === GONE) {
      this.advance();
      e = this.ring[this.head];
    }
    this.advance();
    this.size--;
    if (e < 0) {
      if (e === SPARE_CACHED) this.countEviction();
      return this.popSpare();
    }
    this.pos1[e] = 0;
    if (this.keys.hasKey(e)) {
      this.keys.evict(e);
      this.countEviction();
    }
    this.fill[e] = 0;
    return e;
  }

  private popSpare(): number {
    if (this.spareCount > 0) return this.spares[--this.spareCount];
    if (this.fresh === this.total_blocks) throw new Error('KV free queue: a spare entry without a spare block');
    return this.fresh++;
  }

  private countEviction(): void {
    this.cached--;
    this.evicted++;
  }

  private pushSpare(b: number, cached: boolean): void {
    if (this.spareCount === this.spares.length) {
      const grown = new Int32Array(Math.min(2 * this.spares.length, Math.max(this.total_blocks, MIN_RING)));
      grown.set(this.spares);
      this.spares = grown;
    }
    this.spares[this.spareCount++] = b;
    this.append(cached ? SPARE_CACHED : SPARE);
  }

  private advance(): void {
    this.head = (this.head + 1) & this.mask;
    this.span--;
  }

  /** Writes `e` at the back; returns its ring index. */
  private append(e: number): number {
    if (this.span === this.ring.length) this.makeRoom();
    const at = this.tail;
    this.ring[at] = e;
    this.tail = (at + 1) & this.mask;
    this.span++;
    this.size++;
    return at;
  }

  /**
   * The ring is full: its entries, tombstones dropped and order kept, go to the front of a ring
   * twice as large where they are more than half of it, else back into this one.
   */
  private makeRoom(): void {
    const old = this.ring;
    const oldMask = this.mask;
    const entries = this.size - this.initial;
    const ring = 2 * entries > old.length ? new Int32Array(2 * old.length) : old;
    // In place, entry w is written only once entry w (or a later one) has been read.
    let w = ring === old ? this.head : 0;
    const mask = ring.length - 1;
    for (let k = 0, r = this.head; k < this.span; k++, r = (r + 1) & oldMask) {
      const e = old[r];
      if (e === GONE) continue;
      ring[w] = e;
      if (e >= 0) this.pos1[e] = w + 1;
      w = (w + 1) & mask;
    }
    if (ring !== old) {
      this.ring = ring;
      this.mask = mask;
      this.head = 0;
    }
    this.tail = w;
    this.span = entries;
  }
}
