/** Anything that holds KV blocks (a sequence). */
export interface KvHolder {
  kv_blocks: number;
}

/**
 * Paged KV cache of one replica, as vLLM V1's KV-cache manager allocates it: a request holds
 * ceil(tokens / block_size) blocks for the tokens computed so far plus those scheduled this
 * step; allocation is all-or-nothing (a request that cannot get every block it needs gets none).
 * No watermark: V1 admits while blocks last and relies on preemption.
 */
export class BlockManager {
  private freeCount: number;

  constructor(
    readonly total_blocks: number,
    readonly block_size: number,
  ) {
    this.freeCount = total_blocks;
  }

  get free_blocks(): number {
    return this.freeCount;
  }

  get used_blocks(): number {
    return this.total_blocks - this.freeCount;
  }

  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.block_size);
  }

  /** Grow `holder` to cover `total_tokens` slots; false (and no change) when the pool is short. */
  allocateSlots(holder: KvHolder, total_tokens: number): boolean {
    const needed = Math.ceil(total_tokens / this.block_size) - holder.kv_blocks;
    if (needed <= 0) return true;
    if (needed > this.freeCount) return false;
    this.freeCount -= needed;
    holder.kv_blocks += needed;
    return true;
  }

  free(holder: KvHolder): void {
    this.freeCount += holder.kv_blocks;
    holder.kv_blocks = 0;
    if (this.freeCount > this.total_blocks) {
      throw new Error(`KV block accounting broke: ${this.freeCount} free of ${this.total_blocks}`);
    }
  }
}
