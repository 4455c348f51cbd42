import type { CacheKeys } from './blockKeys.js';

/** The swap slots of a holder that is not swapped out (shared: never written). */
export const NO_SLOTS: readonly number[] = [];

/** One swapped-out group's CPU copy: its distinct blocks and how full each was. */
export interface SwapRecord {
  blocks: number;
  fill: number[];
}

/**
 * What one holder (a sequence, or a bare holder in tests) has in a replica's KV pool: block ids
 * that mean something only to that replica's `BlockManager`, and its swap state. It changes
 * together with the pool (allocation, free, swap, rollback) and nowhere else; a sequence handed
 * to another replica must leave it empty first (see `Sequence.moveTo`).
 */
export class KvState {
  /** GPU block ids in token order; `block_count` is their count. */
  readonly blocks: number[] = [];
  block_count = 0;
  /** Blocks held in the CPU swap pool while swapped out (its own count; shared ones are stored once). */
  swapped_blocks = 0;
  /** While swapped out: for each of its blocks, the slot in its group's CPU copy (else a shared empty list). */
  swap_slots: readonly number[] = NO_SLOTS;
  swap_record: SwapRecord | undefined = undefined;

  /** `keys`: the content keys of its blocks, for the prefix cache (they outlive the blocks). */
  constructor(readonly keys: CacheKeys) {}

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
