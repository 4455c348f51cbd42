import type { XY } from './decimate.js';

/**
 * An empirical CDF, sampled at no more than `maxPoints` ranks: point k is (the value of rank r,
 * (r + 1) ÷ n) for r = round(k (n − 1) ÷ (m − 1)), so the smallest and largest values are always
 * kept and a step of the full CDF is never drawn higher than it is. Non-finite values are skipped.
 */
export function cdfPoints(values: ArrayLike<number>, maxPoints = 1000): XY {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite.push(values[i]!);
  const sorted = Float64Array.from(finite).sort();
  const n = sorted.length;
  const m = Math.min(n, Math.max(2, maxPoints));
  const x: number[] = [];
  const y: number[] = [];
  let prev = -1;
  for (let k = 0; k < m; k++) {
    const r = m === 1 ? n - 1 : Math.round((k * (n - 1)) / (m - 1));
    if (r === prev) continue;
    prev = r;
    x.push(sorted[r]!);
    y.push((r + 1) / n);
  }
  return { x, y };
}
