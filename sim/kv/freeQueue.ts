import type { BlockKeys, CacheKeys } from './blockKeys.js';

/** A ring entry for a free block whose content nobody can find again (no cache entry, or a private one of a holder gone for good). */
const SPARE = -1;
/** The same, whose cache entry still counts as cached (and as evicted when its turn comes), as a findable one would. */
const SPARE_CACHED = -2;
/** A findable block taken back out of the queue (a prefix hit): skipped. */
const GONE = -3;

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
 * The order is a ring of entries: O(1) push at the back, pop at the front, and removal from
 * anywhere (a block taken by a hit leaves a tombstone; a full ring is compacted in place). Spares'
 * marks are run-length coded: one entry stands for `runs[i]` consecutive marks of its kind, so a
 * request's private blocks go in and out as one or two entries.
 */
export class FreeQueue {
  private readonly ring: Int32Array;
  /** For a spare's mark at ring index i: how many consecutive marks of its kind it stands for (≥ 1). */
  private readonly runs: Int32Array;
  private readonly mask: number;
  private head = 0;
  private tail = 0;
  /** Ring entries from head to tail, tombstones included (a run of marks is one). */
  private span = 0;
  /** Ring index of each findable block in the queue, −1 for any other block. */
  private readonly pos: Int32Array;
  private readonly spares: Int32Array;
  private spareCount = 0;
  /** Free blocks: findable ones plus spares. */
  size = 0;
  /** Free blocks that still count as holding a prefix-cache entry. */
  cached = 0;
  /** Cache entries evicted by reuse, cumulative. */
  evicted = 0;

  /** Every block starts free and empty; `fill` is the pool's per-block fill, zeroed here for a block reused. */
  constructor(
    total_blocks: number,
    private readonly keys: BlockKeys,
    private readonly fill: Int32Array,
  ) {
    let capacity = 2;
    while (capacity < 2 * total_blocks) capacity *= 2;
    this.ring = new Int32Array(capacity);
    this.runs = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.pos = new Int32Array(total_blocks).fill(-1);
    this.spares = new Int32Array(total_blocks);
    // Reversed, so that the first blocks taken are 0, 1, 2, …
    for (let b = total_blocks - 1; b >= 0; b--) this.pushSpare(b, false);
  }

  /** True for a findable block in the queue. */
  has(b: number): boolean {
    return this.pos[b] >= 0;
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
      this.pos[b] = this.append(b);
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
    this.ring[this.pos[b]] = GONE;
    this.pos[b] = -1;
    this.size--;
    if (this.keys.hasKey(b)) this.cached--;
  }

  /** Takes the least recently released block (its fill 0), evicting its cache entry if it has one. */
  take(): number {
    const e = this.popFront();
    if (e >= 0) return e;
    if (this.spareCount === 0) throw new Error('KV free queue: a spare entry without a spare block');
    return this.spares[--this.spareCount];
  }

  /**
   * Takes the `count` least recently released blocks, as `take` does, for holders that count them
   * rather than name them (BlockPool's counted blocks): their ids join, or stay among, the spares,
   * whose ids are then those of the spare entries and of every counted block held (`nameCounted`).
   * One pass with the ring's state in locals: most entries are spares' marks, read in order.
   */
  takeCounted(count: number): void {
    if (count > this.size) throw new Error('KV pool exhausted after a successful capacity check');
    const ring = this.ring;
    const runs = this.runs;
    const mask = this.mask;
    let head = this.head;
    let evictions = 0;
    let read = 0;
    for (let left = count; left > 0; head = (head + 1) & mask) {
      const e = ring[head];
      if (e < 0 && e !== GONE) {
        const k = Math.min(left, runs[head]);
        left -= k;
        if (e === SPARE_CACHED) evictions += k;
        // A run taken in part stays at the front with the rest.
        if ((runs[head] -= k) > 0) break;
        read++;
        continue;
      }
      read++;
      if (e === GONE) continue;
      left--;
      this.pos[e] = -1;
      if (this.keys.hasKey(e)) {
        this.keys.evict(e);
        evictions++;
      }
      this.fill[e] = 0;
      this.spares[this.spareCount++] = e;
    }
    this.span -= read;
    this.head = head;
    this.size -= count;
    this.cached -= evictions;
    this.evicted += evictions;
  }

  /** Pops the front block: a spare's mark (counted as evicted if cached), or a findable block, its entry evicted and its fill 0. */
  private popFront(): number {
    if (this.size === 0) throw new Error('KV pool exhausted after a successful capacity check');
    let e = this.ring[this.head];
    while (e === GONE) {
      this.advance();
      e = this.ring[this.head];
    }
    this.size--;
    if (e < 0) {
      if (--this.runs[this.head] === 0) this.advance();
      if (e === SPARE_CACHED) this.countEviction();
      return e;
    }
    this.advance();
    this.pos[e] = -1;
    if (this.keys.hasKey(e)) {
      this.keys.evict(e);
      this.countEviction();
    }
    this.fill[e] = 0;
    return e;
  }

  /** An id for a counted block its holder must name: a spare's (none of them is named; its fill is 0). */
  nameCounted(): number {
    if (this.spareCount === 0) throw new Error('KV free queue: a counted block without a spare id');
    return this.spares[--this.spareCount];
  }

  /**
   * Queues counted blocks a holder releases, tail first: `spare` whose content nobody can find,
   * then `cached` private ones counted as cached (`releaseOwnPrivate`); their ids are spares already.
   */
  releaseCounted(spare: number, cached: number): void {
    this.appendRun(SPARE, spare);
    this.appendRun(SPARE_CACHED, cached);
    this.cached += cached;
  }

  /** Writes `count` marks `mark` at the back: onto the last entry when it is a run of the same kind. */
  private appendRun(mark: number, count: number): void {
    if (count === 0) return;
    const last = (this.tail - 1) & this.mask;
    if (this.span > 0 && this.ring[last] === mark) this.runs[last] += count;
    else {
      if (this.span === this.ring.length) this.compact();
      const at = this.tail;
      this.ring[at] = mark;
      this.runs[at] = count;
      this.tail = (at + 1) & this.mask;
      this.span++;
    }
    this.size += count;
  }

  private countEviction(): void {
    this.cached--;
    this.evicted++;
  }

  private pushSpare(b: number, cached: boolean): void {
    this.spares[this.spareCount++] = b;
    this.appendRun(cached ? SPARE_CACHED : SPARE, 1);
  }

  private advance(): void {
    this.head = (this.head + 1) & this.mask;
    this.span--;
  }

  /** Writes `e` at the back; returns its ring index. */
  private append(e: number): number {
    if (this.span === this.ring.length) this.compact();
    const at = this.tail;
    this.ring[at] = e;
    this.tail = (at + 1) & this.mask;
    this.span++;
    this.size++;
    return at;
  }

  /** Drops the tombstones: a full ring holds at least half of them (no more live entries than free blocks). */
  private compact(): void {
    const ring = this.ring;
    const runs = this.runs;
    const mask = this.mask;
    let w = this.head;
    let kept = 0;
    for (let k = 0, r = this.head; k < this.span; k++, r = (r + 1) & mask) {
      const e = ring[r];
      if (e === GONE) continue;
      ring[w] = e;
      if (e >= 0) this.pos[e] = w;
      else runs[w] = runs[r];
      w = (w + 1) & mask;
      kept++;
    }
    this.tail = w;
    this.span = kept;
  }
}
