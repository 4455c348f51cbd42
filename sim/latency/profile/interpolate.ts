/**
 * A measured curve y(x) over sorted sample points, interpolated linearly in log(y) over log(x):
 * GEMM, attention and collective times are close to power laws between grid points, so log-log
 * interpolation is exact for them and linear interpolation is not.
 */
export class LogSeries {
  readonly logX: Float64Array;
  readonly logY: Float64Array;
  /** The sampled range's ends, exp of the first and last logX: read on every table lookup of a step. */
  readonly minX: number;
  readonly maxX: number;

  /** `points` need not be sorted; duplicate x keep the median-free first value (callers dedupe). */
  constructor(points: readonly (readonly [number, number])[]) {
    const sorted = [...points].sort((a, b) => a[0] - b[0]);
    const unique: [number, number][] = [];
    for (const [x, y] of sorted) if (unique.length === 0 || unique[unique.length - 1][0] !== x) unique.push([x, y]);
    this.logX = Float64Array.from(unique, ([x]) => Math.log(x));
    this.logY = Float64Array.from(unique, ([, y]) => Math.log(y));
    // NaN for an empty series, as the getters these replace gave.
    this.minX = Math.exp(this.logX[0]);
    this.maxX = Math.exp(this.logX[this.logX.length - 1]);
  }

  /** y at x, or NaN outside the sampled range (the caller decides how to extrapolate). */
  at(x: number): number {
    const lx = this.logX;
    const n = lx.length;
    if (n === 0 || !(x > 0)) return NaN;
    const l = Math.log(x);
    // Float rounding of log(x) at a grid point must not push it out of range.
    const eps = 1e-12;
    if (l < lx[0] - eps || l > lx[n - 1] + eps) return NaN;
    if (n === 1) return Math.exp(this.logY[0]);
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (lx[mid] <= l) lo = mid;
      else hi = mid;
    }
    const f = Math.min(1, Math.max(0, (l - lx[lo]) / (lx[hi] - lx[lo])));
    return Math.exp(this.logY[lo] + f * (this.logY[hi] - this.logY[lo]));
  }
}

/** The two sorted values bracketing `v` (equal when `v` is one of them), or undefined outside the range. */
export function bracket(sorted: readonly number[], v: number): [number, number] | undefined {
  if (sorted.length === 0 || v < sorted[0] || v > sorted[sorted.length - 1]) return undefined;
  let lo = sorted[0];
  for (const s of sorted) {
    if (s === v) return [s, s];
    if (s < v) lo = s;
    else return [lo, s];
  }
  return undefined;
}

/** Weight of the upper bracket point for `v` in log space (0 when the bracket is one point). */
export function logWeight([a, b]: [number, number], v: number): number {
  return a === b ? 0 : (Math.log(v) - Math.log(a)) / (Math.log(b) - Math.log(a));
}
