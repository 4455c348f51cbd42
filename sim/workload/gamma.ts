import type { Uniform } from '../engine/rng.js';
import { gaussianSampler } from './gaussian.js';

/**
 * Gamma(shape, scale) draws: Marsaglia & Tsang (2000) for shape ≥ 1; for shape < 1 (cv > 1, burstier
 * than Poisson) it samples Gamma(shape + 1) and multiplies by U^(1/shape), their boosting trick.
 */
export function gammaSampler(shape: number, scale: number, uniform: Uniform): () => number {
  // 1/cv² of a cv outside the schema's bounds overflows or underflows here, and every draw would be NaN.
  if (!(shape > 0 && shape < Infinity && scale > 0 && scale < Infinity)) throw new Error(`gamma sampler: shape ${shape} and scale ${scale} must be finite and > 0`);
  const gaussian = gaussianSampler(uniform);
  const boosted = shape < 1;
  const d = (boosted ? shape + 1 : shape) - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  const draw = (): number => {
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = gaussian();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  if (!boosted) return () => draw() * scale;
  // 1 − U is in (0, 1], so the power never hits 0^(1/shape) = 0 from a U of exactly 0.
  return () => draw() * Math.pow(1 - uniform(), 1 / shape) * scale;
}
