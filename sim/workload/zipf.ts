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
  return () => min + searchCdf(cdf, uniform() * total);
}

/**
 * Indices 0 … n − 1 with P(k) ∝ 1/(k + 1): Zipf's law with s = 1 over n ranks. Ranks up to 10⁶ come
 * from an exact CDF table. Beyond it a table would cost 8 bytes a rank (80 MB at the 10⁷ users the
 * schema allows), so the tail's CDF is the midpoint rule H(k) − H(M) ≈ ln((k + ½)/(M + ½)), inverted in
 * closed form: ln((k + ½)/(k − ½)) = 1/k · (1 + 1/(12k²) + …), so each tail rank's probability is off by
 * under 10⁻¹³ relative.
 */
export function zipfRankSampler(n: number, uniform: Uniform): () => number {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`zipfRankSampler: n must be an integer ≥ 1, got ${n}`);
  const size = Math.min(n, MAX_SUPPORT);
  const cdf = new Float64Array(size);
  let head = 0;
  for (let rank = 1; rank <= size; rank++) cdf[rank - 1] = head += 1 / rank;
  if (n === size) return () => searchCdf(cdf, uniform() * head);
  const base = size + 0.5;
  const total = head + Math.log((n + 0.5) / base);
  return () => {
    const target = uniform() * total;
    if (target < head) return searchCdf(cdf, target);
    // Rank k (1-based) holds targets in (C(k − 1), C(k)]; C(x) = target at x = base·e^(target − head) − ½.
    const rank = Math.ceil(base * Math.exp(target - head) - 0.5);
    return Math.min(n, Math.max(size + 1, rank)) - 1;
  };
}

/** The first index whose cumulative weight exceeds `target` (target < the last entry). */
function searchCdf(cdf: Float64Array, target: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
