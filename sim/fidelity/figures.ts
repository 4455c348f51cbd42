import { quantileSorted } from '../metrics/stats.js';

/** How far a set of relative errors strays: the median and the largest |error|. */
export function errorFigures(errors: readonly number[]): { median_abs_error: number; max_abs_error: number } {
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  return { median_abs_error: quantileSorted(abs, 0.5), max_abs_error: abs[abs.length - 1] };
}
