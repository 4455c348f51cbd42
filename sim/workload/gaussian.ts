import type { Uniform } from '../engine/rng.js';

/** Standard normal draws by the Marsaglia polar method; the spare of each pair is kept, so draws stay deterministic per stream. */
export function gaussianSampler(uniform: Uniform): () => number {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const value = spare;
      spare = NaN;
      return value;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const scale = Math.sqrt((-2 * Math.log(s)) / s);
    spare = v * scale;
    return u * scale;
  };
}
