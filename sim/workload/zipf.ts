import type { Uniform } from '../engine/rng.js';
import { fieldError } from '../errors.js';

/** Keeps the CDF table to 8 MB. */
const MAX_SUPPORT = 1_000_000;

/** Integers in [min, max] with P(k) ∝ 1/(k − min + 1)^s, by binary search in a precomputed CDF. */
export function zipfSampler(s: number, min: number, max: number, uniform: Uniform, field: string): () => number {
  if (!(Number.isFinite(s) && s >= 0)) throw fieldError(`${field}.s`, 'must be a number ≥ 0', s);
  const size = max - min + 1;
  if (size > MAX_SUPPORT) throw fieldError(`${field}.max`, `max − min must be < ${MAX_SUPPORT}`, max);
  const cdf = new Float64Array(size);
  let total = 0;
  for (let rank = 1; rank <= size; rank++) {
    total += rank ** -s;
    cdf[rank - 1] = total;
  }
  return () => {
    const target = uniform() * total;
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] <= target) lo = mid + 1;
      else hi = mid;
    }
    return min + lo;
  };
}
