/**
 * Bounded series for the report's charts. A million-request run has millions of engine steps; a
 * chart needs a few thousand points at most, but must not hide a spike: each bucket of the x range
 * keeps its minimum and its maximum (each at its own x), and the series keeps its first and last
 * point, so what a line shows at full zoom-out is what the raw data holds.
 */

export interface XY {
  x: number[];
  y: number[];
}

export const DEFAULT_MAX_POINTS = 2000;

/**
 * Streams (x, y) points into at most `maxPoints`: all of them while they fit, else the first, the
 * last and per bucket of [x0, x1] its minimum and maximum. Non-finite y (a null) is skipped.
 */
export class MinMaxDecimator {
  private readonly buckets: number;
  private readonly minX: Float64Array;
  private readonly minY: Float64Array;
  private readonly maxX: Float64Array;
  private readonly maxY: Float64Array;
  private raw: number[] | null = [];
  private first: [number, number] | null = null;
  private last: [number, number] | null = null;
  count = 0;

  constructor(
    private readonly x0: number,
    private readonly x1: number,
    private readonly maxPoints = DEFAULT_MAX_POINTS,
  ) {
    if (!(maxPoints >= 4)) throw new RangeError(`maxPoints must be ≥ 4, got ${maxPoints}`);
    this.buckets = Math.floor((maxPoints - 2) / 2);
    this.minX = new Float64Array(this.buckets);
    this.minY = new Float64Array(this.buckets).fill(Infinity);
    this.maxX = new Float64Array(this.buckets);
    this.maxY = new Float64Array(this.buckets).fill(-Infinity);
  }

  push(x: number, y: number): void {
    if (!Number.isFinite(y) || !Number.isFinite(x)) return;
    this.count++;
    if (this.first === null) this.first = [x, y];
    this.last = [x, y];
    if (this.raw !== null) {
      if (this.raw.length < 2 * this.maxPoints) this.raw.push(x, y);
      else this.raw = null;
    }
    const span = this.x1 - this.x0;
    const b = span > 0 ? Math.min(this.buckets - 1, Math.max(0, Math.floor(((x - this.x0) / span) * this.buckets))) : 0;
    if (y < this.minY[b]!) {
      this.minY[b] = y;
      this.minX[b] = x;
    }
    if (y > this.maxY[b]!) {
      this.maxY[b] = y;
      this.maxX[b] = x;
    }
  }

  /** The kept points in x order (ties: push order of first, bucket points, last). */
  result(): XY {
    if (this.raw !== null) return unzip(this.raw);
    const pts: [number, number][] = [];
    if (this.first !== null) pts.push(this.first);
    for (let b = 0; b < this.buckets; b++) {
      if (this.minY[b] === Infinity) continue;
      const lo: [number, number] = [this.minX[b]!, this.minY[b]!];
      const hi: [number, number] = [this.maxX[b]!, this.maxY[b]!];
      if (lo[0] === hi[0] && lo[1] === hi[1]) pts.push(lo);
      else pts.push(...(lo[0] <= hi[0] ? [lo, hi] : [hi, lo]));
    }
    if (this.last !== null) pts.push(this.last);
    const sorted = pts.map((p, i) => ({ p, i })).sort((a, b) => a.p[0] - b.p[0] || a.i - b.i);
    return { x: sorted.map((s) => s.p[0]), y: sorted.map((s) => s.p[1]) };
  }
}

function unzip(flat: number[]): XY {
  const pairs: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  const sorted = pairs.map((p, i) => ({ p, i })).sort((a, b) => a.p[0] - b.p[0] || a.i - b.i);
  return { x: sorted.map((s) => s.p[0]), y: sorted.map((s) => s.p[1]) };
}

/** The decimator over whole arrays (x need not be sorted; the result is). */
export function decimate(xs: ArrayLike<number>, ys: ArrayLike<number>, maxPoints = DEFAULT_MAX_POINTS): XY {
  let x0 = Infinity;
  let x1 = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    x0 = Math.min(x0, xs[i]!);
    x1 = Math.max(x1, xs[i]!);
  }
  const d = new MinMaxDecimator(x0, x1, maxPoints);
  for (let i = 0; i < xs.length; i++) d.push(xs[i]!, ys[i]!);
  return d.result();
}

/** Sums per fixed-width time bin over [t0, t1]: rates (sum ÷ bin width) for throughput-like charts. */
export class TimeBins {
  readonly sums: Float64Array;
  private readonly width: number;

  constructor(
    private readonly t0: number,
    t1: number,
    readonly bins: number,
  ) {
    this.sums = new Float64Array(Math.max(1, bins));
    this.width = Math.max(t1 - t0, 1e-9) / this.sums.length;
  }

  add(t: number, v: number): void {
    if (!Number.isFinite(t) || !Number.isFinite(v)) return;
    const b = Math.min(this.sums.length - 1, Math.max(0, Math.floor((t - this.t0) / this.width)));
    this.sums[b]! += v;
  }

  /** Bin centres and sum ÷ width (per second when t is in seconds). */
  rates(): XY {
    const x: number[] = [];
    const y: number[] = [];
    this.sums.forEach((s, b) => {
      x.push(this.t0 + (b + 0.5) * this.width);
      y.push(s / this.width);
    });
    return { x, y };
  }

  /** Bin centres and this bin's sum ÷ the other's (NaN where the other is 0): a ratio over time. */
  ratio(den: TimeBins): XY {
    const x: number[] = [];
    const y: number[] = [];
    this.sums.forEach((s, b) => {
      const d = den.sums[b] ?? 0;
      if (d <= 0) return;
      x.push(this.t0 + (b + 0.5) * this.width);
      y.push(s / d);
    });
    return { x, y };
  }
}
