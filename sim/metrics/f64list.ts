/**
 * An append-only list of float64 in typed-array chunks. Chunks double in size up to a cap and
 * are never copied while the list grows: growing one array by doubling (copy, plus fresh pages
 * the VM must fault in, plus the GCs V8 runs on external-memory growth) cost ~120 ms per 4 M
 * ITL gaps on this machine class, more than selecting their percentiles. The summary reads the
 * chunks where they lie (`chunks()`).
 */
export class F64List {
  length = 0;
  private full: Float64Array[] = [];
  private current: Float64Array;
  private fill = 0;

  constructor(
    firstChunk = 1024,
    private readonly maxChunk = 1 << 20,
  ) {
    this.current = new Float64Array(Math.max(1, firstChunk));
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

  /** The values as they lie, in order: the full chunks, then the filled part of the current one. No copy. */
  chunks(): Float64Array[] {
    return [...this.full, this.current.subarray(0, this.fill)];
  }

  /** The values for `summarize`: its chunks. */
  samples(): Float64Array[] {
    return this.chunks();
  }

  private nextChunk(): void {
    this.full.push(this.current);
    this.current = new Float64Array(Math.min(this.maxChunk, this.current.length * 2));
    this.fill = 0;
  }
}
