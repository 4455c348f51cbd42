import type { Uniform } from '../engine/rng.js';
import { fieldError } from '../errors.js';
import type { LengthDist } from '../scenario/types.js';
import { loadEmpiricalColumn } from './empirical.js';
import { gaussianSampler } from './gaussian.js';
import { MAX_TOKEN_COUNT } from '../scenario/bounds.js';
import { zipfSampler } from './zipf.js';

/** Draws one token count, an integer ≥ 1. */
export type LengthSampler = () => number;

/**
 * A sampler for `dist`; `field` is its scenario path (e.g. "workload.input_tokens") for errors.
 * lognormal: `mean` is the mean of the token counts themselves and `sigma` the std of their log, so
 * mu = ln(mean) − sigma²/2 (rounding and clamping to [min, max] move the mean a little).
 */
export function lengthSampler(dist: LengthDist, uniform: Uniform, field: string): LengthSampler {
  switch (dist.dist) {
    case 'fixed': {
      const value = positiveInt(dist.value, `${field}.value`);
      return () => value;
    }
    case 'uniform': {
      const min = positiveInt(dist.min, `${field}.min`);
      const max = positiveInt(dist.max, `${field}.max`);
      if (min > max) throw fieldError(`${field}.min`, `must be ≤ max (${max})`, min);
      const span = max - min + 1;
      return () => min + Math.floor(uniform() * span);
    }
    case 'normal': {
      const mean = positive(dist.mean, `${field}.mean`, MAX_TOKEN_COUNT);
      const std = nonNegative(dist.std, `${field}.std`, MAX_TOKEN_COUNT);
      const gaussian = gaussianSampler(uniform);
      return clamped(() => mean + std * gaussian(), dist, field);
    }
    case 'lognormal': {
      const mean = positive(dist.mean, `${field}.mean`, MAX_TOKEN_COUNT);
      const sigma = nonNegative(dist.sigma, `${field}.sigma`, MAX_LOGNORMAL_SIGMA);
      const mu = Math.log(mean) - (sigma * sigma) / 2;
      const gaussian = gaussianSampler(uniform);
      return clamped(() => Math.exp(mu + sigma * gaussian()), dist, field);
    }
    case 'zipf': {
      const min = positiveInt(dist.min, `${field}.min`);
      const max = positiveInt(dist.max, `${field}.max`);
      if (min > max) throw fieldError(`${field}.min`, `must be ≤ max (${max})`, min);
      return zipfSampler(dist.s, min, max, uniform, field);
    }
    case 'empirical': {
      const values = loadEmpiricalColumn(dist.path, dist.column, field);
      return () => values[Math.floor(uniform() * values.length)];
    }
    default:
      throw fieldError(`${field}.dist`, 'must be one of fixed, uniform, normal, lognormal, zipf, empirical', (dist as { dist: unknown }).dist);
  }
}

/**
 * Lognormal sigma (std of the log): at 10 the median is e⁻⁵⁰ of the mean, so every draw but a rare
 * one lands on min; far beyond, sigma² overflows and draws are NaN. The schema states the same.
 */
const MAX_LOGNORMAL_SIGMA = 10;

/**
 * Rounds to the nearest integer and clamps to [min ?? 1, max ?? 2³¹−1] (a heavy lognormal tail can
 * overflow to Infinity, which the clamp turns into max). A NaN draw is refused, naming the distribution.
 */
function clamped(draw: () => number, bounds: { min?: number; max?: number }, field: string): LengthSampler {
  const min = bounds.min === undefined ? 1 : positiveInt(bounds.min, `${field}.min`);
  const max = bounds.max === undefined ? MAX_TOKEN_COUNT : positiveInt(bounds.max, `${field}.max`);
  if (min > max) throw fieldError(`${field}.min`, `must be ≤ max (${max})`, min);
  return () => {
    const x = Math.round(draw());
    if (Number.isNaN(x)) throw fieldError(field, 'drew NaN: its parameters overflow double precision; use a smaller mean or spread');
    return Math.min(max, Math.max(min, x));
  };
}

function positiveInt(value: number, field: string): number {
  if (!(Number.isInteger(value) && value >= 1 && value <= MAX_TOKEN_COUNT)) {
    throw fieldError(field, `must be an integer ≥ 1 and ≤ ${MAX_TOKEN_COUNT}`, value);
  }
  return value;
}

function positive(value: number, field: string, max: number): number {
  if (!(value > 0 && value <= max)) throw fieldError(field, `must be a number > 0 and ≤ ${max}`, value);
  return value;
}

function nonNegative(value: number, field: string, max: number): number {
  if (!(value >= 0 && value <= max)) throw fieldError(field, `must be a number ≥ 0 and ≤ ${max}`, value);
  return value;
}
