import type { IterationRecord } from './records.js';
import type { KvFromIterations } from './summary.js';
import { DOUBLE_ZERO } from '../engine/doubles.js';

/**
 * summary.json's KV figures, accumulated from the iterations as they are recorded (the file is
 * streamed out, never read back). Called once per engine step: plain fields, no allocation.
 */
export class IterationFigures {
  private count = 0;
  /** Σ duration of every iteration, and of those with a KV pool / holding a block. */
  private busy_s = DOUBLE_ZERO;
  private kvBusy_s = DOUBLE_ZERO;
  private fragBusy_s = DOUBLE_ZERO;
  /** Duration-weighted sums (value × duration) and maxima. */
  private kvWeighted = DOUBLE_ZERO;
  private kvMax = -Infinity;
  private cachedWeighted = DOUBLE_ZERO;
  private cachedMax = -Infinity;
  private swappedWeighted = DOUBLE_ZERO;
  private swappedMax = -Infinity;
  private fragWeighted = DOUBLE_ZERO;
  private fragMax = -Infinity;
  private swapIn = 0;
  private swapOut = 0;
  private evicted = 0;

  /** `blockSize_tokens`: 0 when unknown (fragmentation is then null). */
  constructor(private readonly blockSize_tokens: number) {}

  /** `blockSize_tokens`: the replica's block size, when replicas differ (pools); else the one given at construction. */
  add(it: IterationRecord, blockSize_tokens = this.blockSize_tokens): void {
    const dt = it.end_s - it.start_s;
    this.count++;
    this.busy_s += dt;
    const used = it.kv_blocks_used;
    if (it.kv_blocks_total > 0) {
      const fraction = used / it.kv_blocks_total;
      this.kvWeighted += fraction * dt;
      this.kvBusy_s += dt;
      if (fraction > this.kvMax) this.kvMax = fraction;
    }
    const cached = it.kv_blocks_cached;
    this.cachedWeighted += cached * dt;
    if (cached > this.cachedMax) this.cachedMax = cached;
    const swapped = it.kv_blocks_swapped;
    this.swappedWeighted += swapped * dt;
    if (swapped > this.swappedMax) this.swappedMax = swapped;
    if (used > 0 && blockSize_tokens > 0) {
      const frag = it.kv_slots_unused / (used * blockSize_tokens);
      this.fragWeighted += frag * dt;
      this.fragBusy_s += dt;
      if (frag > this.fragMax) this.fragMax = frag;
    }
    this.swapIn += it.swap_in_blocks;
    this.swapOut += it.swap_out_blocks;
    this.evicted += it.kv_blocks_evicted;
  }

  /** Null without iterations. */
  figures(): KvFromIterations | null {
    if (this.count === 0) return null;
    // Weighted by iteration duration: idle time between iterations does not dilute a mean.
    const mean = (weighted: number, busy_s: number) => (busy_s > 0 ? weighted / busy_s : null);
    const max = (m: number) => (m === -Infinity ? null : m);
    return {
      source: 'iterations',
      mean_utilization: mean(this.kvWeighted, this.kvBusy_s),
      max_utilization: max(this.kvMax),
      cached_blocks_mean: mean(this.cachedWeighted, this.busy_s),
      cached_blocks_max: max(this.cachedMax),
      swapped_blocks_mean: mean(this.swappedWeighted, this.busy_s),
      swapped_blocks_max: max(this.swappedMax),
      fragmentation_mean: mean(this.fragWeighted, this.fragBusy_s),
      fragmentation_max: max(this.fragMax),
      swap_in_blocks: this.swapIn,
      swap_out_blocks: this.swapOut,
      evicted_blocks: this.evicted,
    };
  }
}
