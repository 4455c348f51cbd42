import type { SpilledValues, SpillFile } from './spill.js';

/** With a spill file, the largest chunk: the one being filled, reused once full chunks reach this size. */
const SPILL_CHUNK = 1 << 15;

/**
 * An append-only list of float64 in typed-array chunks. Chunks double in size up to a cap and
 * are never copied while the list grows: growing one array by doubling (copy, plus fresh pages
 * the VM must fault in, plus the GCs V8 runs on external-memory growth) cost ~120 ms per 4 M
 * ITL gaps on this machine class, more than selecting their percentiles. The summary reads the
 * chunks where they lie (`chunks()`).
 *
 * Given a spill file, memory stays bounded: chunks double up to SPILL_CHUNK values, and from then
 * on each chunk that fills is written to the file and its buffer reused (~0.5 MB a list in all).
 */
export class F64List {
  length = 0;
  private full: Float64Array[] = [];
  private readonly spilled: SpilledValues[] = [];
  private current: Float64Array;
  private fill = 0;
  private readonly maxChunk: number;

  constructor(
    firstChunk = 1024,
    maxChunk = 1 << 20,
    private readonly spill?: SpillFile,
  ) {
    this.maxChunk = spill === undefined ? maxChunk : Math.min(maxChunk, SPILL_CHUNK);
    this.current = new Float64Array(Math.max(1, Math.min(firstChunk, this.maxChunk)));
  }

  push(x: number): void {
    if (this.fill === this.current.length) this.nextChunk();
    this.current[this.fill++] = x;
    this.length++;
  }

  /** Appends src[0..n). A plain loop: for a request's few hundred gaps it beats `subarray` + `set`, which allocate. */
  append(src: Float64Array, n: number): void {
    let at = 0;
    while (at < n) {
      if (this.fill === this.current.length) this.nextChunk();
      const cur = this.current;
      const take = Math.min(n - at, cur.length - this.fill);
      for (let i = 0, f = this.fill; i < take; i++) cur[f + i] = src[at + i];
      this.fill += take;
      at += take;
    }
    this.length += n;
  }

  /**
   * The values as they lie, in order: the full chunks in memory, the spilled segments (read them
   * with their file's `read`), then the filled part of the current chunk. No copy.
   */
  chunks(): (Float64Array | SpilledValues)[] {
    return [...this.full, ...this.spilled, this.current.subarray(0, this.fill)];
  }

  /** An independent list of the same values (spilled segments, written once, are shared). */
  clone(): F64List {
    const copy = new F64List(this.current.length, this.maxChunk, this.spill);
    copy.full = this.full.map((c) => c.slice());
    copy.spilled.push(...this.spilled);
    copy.current = this.current.slice();
    copy.fill = this.fill;
    copy.length = this.length;
    return copy;
  }

  /** The values for `summarize`: its chunks. */
  samples(): (Float64Array | SpilledValues)[] {
    return this.chunks();
  }

  private nextChunk(): void {
    if (this.spill !== undefined && this.current.length === this.maxChunk) {
      this.spilled.push(this.spill.write(this.current, this.fill));
      this.fill = 0;
      return;
    }
    this.full.push(this.current);
    this.current = new Float64Array(Math.min(this.maxChunk, this.current.length * 2));
    this.fill = 0;
  }
}
