import type { CacheKeys } from './blockKeys.js';

/** `lazy_block` of a lazily kept last block that is one of its holder's counted blocks (no id). */
export const COUNTED_BLOCK = -1;

/** The swap slots of a holder that is not swapped out (shared: never written). */
export const NO_SLOTS: readonly number[] = [];

/** One swapped-out group's CPU copy: its distinct blocks and how full each was. */
export interface SwapRecord {
  blocks: number;
  fill: number[];
}

/**
 * What one holder (a sequence, which extends it, or a bare holder in tests) has in a replica's KV pool: block ids
 * that mean something only to that replica's `BlockManager`, and its swap state. It changes
 * together with the pool (allocation, free, swap, rollback) and nowhere else; a sequence handed
 * to another replica must leave it empty first (see `Sequence.moveTo`).
 */
export class KvState {
  /** GPU block ids in token order: the first `blocks.length` of its `block_count` blocks (the rest are counted, see `counted_written`). */
  readonly blocks: number[] = [];
  block_count = 0;
  /**
   * Blocks past `blocks.length` are *counted*: held by this holder alone, private (no cache entry
   * anyone could find), and named by no id, so that taking, filling and releasing them touches no
   * per-block table (BlockPool). Their fill is a prefix: token slots below `counted_written`
   * (counted from the holder's first token) are written. Kept while the holder has counted blocks.
   */
  counted_written = 0;
  /** Blocks held in the CPU swap pool while swapped out (its own count; shared ones are stored once). */
  swapped_blocks = 0;
  /** While swapped out: for each of its blocks, the slot in its group's CPU copy (else a shared empty list). */
  swap_slots: readonly number[] = NO_SLOTS;
  swap_record: SwapRecord | undefined = undefined;
  /**
   * The decode fast path's own bookkeeping (BlockManager.allocateSlots): while `lazy_until` > 0
   * the holder's last block `lazy_block`, held by it alone, covers tokens from `lazy_base` and
   * is filled to `lazy_fill`, a count the pool's `fill` table lags behind; tokens up to
   * `lazy_until` (short of filling the block) are written here alone, so a decode step touches
   * this object only. `settle` brings the table up to date before anything else reads it.
   */
  lazy_until = 0;
  lazy_block = 0;
  lazy_base = 0;
  lazy_fill = 0;

  /** `keys`: the content keys of its blocks, for the prefix cache (they outlive the blocks). */
  constructor(readonly keys: CacheKeys) {}

  /** Lets its decode steps up to token `until` skip the pool's tables: its last block `block` (from token `base`, filled to `fill`) is its alone. */
  enterLazy(block: number, base: number, fill: number, until: number): void {
    this.lazy_block = block;
    this.lazy_base = base;
    this.lazy_fill = fill;
    this.lazy_until = until;
  }

  /** Fills its last block up to token `total_tokens` (≤ `lazy_until`); returns the slots newly filled. */
  lazyWrite(total_tokens: number): number {
    const f = total_tokens - this.lazy_base;
    if (f <= this.lazy_fill) return 0;
    const filled = f - this.lazy_fill;
    this.lazy_fill = f;
    return filled;
  }

  /** Fills `tokens` more slots of its lazily kept block, written by steps that did not call `lazyWrite` (scheduler/decodeRuns.ts; the pool counted them with `fillLazySlots`). */
  lazyAdvance(tokens: number): void {
    const f = this.lazy_fill + tokens;
    if (this.lazy_until === 0 || this.lazy_base + f > this.lazy_until) throw new Error(`lazy KV fill advanced past its block (${tokens} tokens)`);
    this.lazy_fill = f;
  }

  /**
   * Writes the lazily kept fill of its last block into the pool's `fill` table and leaves the fast
   * path. `fill` must be the table of the pool the holder's blocks are in: a holder moves to
   * another pool only once free (`Sequence.moveTo` refuses one that holds KV), and free settles.
   */
  settle(fill: Int32Array): void {
    if (this.lazy_until === 0) return;
    if (this.lazy_block === COUNTED_BLOCK) this.counted_written = this.lazy_base + this.lazy_fill;
    else fill[this.lazy_block] = this.lazy_fill;
    this.lazy_until = 0;
  }

  /** Its blocks past those with ids (BlockPool's counted blocks). */
  get counted_blocks(): number {
    return this.block_count - this.blocks.length;
  }

  /** Holds GPU blocks or a CPU copy in some pool. */
  get holds_kv(): boolean {
    return this.block_count > 0 || this.swap_record !== undefined;
  }

  /** Its CPU copy is gone (swapped back in, or discarded); the pool accounts the record's blocks. */
  leaveSwap(): void {
    this.swap_slots = NO_SLOTS;
    this.swap_record = undefined;
    this.swapped_blocks = 0;
  }
}

/**
 * How the block manager sees a holder: its KV state and how many of its tokens are computed
 * (where the next write starts). A `Sequence` is one; nothing else of it is read.
 */
export interface KvOwner {
  readonly kv: KvState;
  readonly computed_tokens: number;
}

/**
 * The CPU copy that `holders`, swapped out together, share; checked before the pool changes, so
 * that a mismatched group throws with nothing moved. `what` names the operation in the error.
 */
export function swapRecordOf(holders: readonly KvOwner[], what: string): SwapRecord {
  const record = holders[0].kv.swap_record;
  if (record === undefined) throw new Error(`${what} of a holder that is not swapped out`);
  for (const h of holders) if (h.kv.swap_record !== record) throw new Error(`holders in one ${what} were not swapped out together`);
  return record;
}

/** Distinct GPU blocks the holders hold together (shared ones once). */
export function distinctBlocks(holders: readonly KvOwner[]): number {
  if (holders.length === 1) return holders[0].kv.block_count;
  const seen = new Set<number>();
  // Counted blocks are held alone: each is distinct.
  let counted = 0;
  for (const h of holders) {
    for (const b of h.kv.blocks) seen.add(b);
    counted += h.kv.counted_blocks;
  }
  return seen.size + counted;
}

/** A slot in the CPU copy for each distinct block of `holders`, in the order first met (their blocks all have ids). */
export function swapSlots(holders: readonly KvOwner[]): Map<number, number> {
  const slotOf = new Map<number, number>();
  if (holders.some((h) => h.kv.counted_blocks > 0)) throw new Error('swap slots of a holder with counted KV blocks');
  for (const h of holders) for (const b of h.kv.blocks) if (!slotOf.has(b)) slotOf.set(b, slotOf.size);
  return slotOf;
}
