import type { Uniform } from '../engine/rng.js';
import { fieldError } from '../errors.js';
import type { WorkloadLoraInput } from '../scenario/types.js';
import { zipfSampler } from './zipf.js';

/** workload.lora's defaults: Zipf popularity with exponent 1, every request on an adapter. */
export const DEFAULT_ZIPF_ALPHA = 1.0;
export const DEFAULT_BASE_FRACTION = 0;

/**
 * Draws each client's LoRA adapter (an id 0 … adapters − 1) or undefined for the base model.
 * Every call takes two draws from `uniform`, one to decide base or adapter (u < base_fraction:
 * base) and one for the adapter, so raising base_fraction only moves requests to the base model
 * and keeps the others' adapters (round_robin takes the same draws, and ignores the second).
 * - zipf: adapter k with probability ∝ 1/(k + 1)^zipf_alpha (adapter 0 the most popular), the
 *   skew multi-LoRA studies assume for adapter popularity (S-LoRA, Sheng et al. 2023, draws adapters by a
 *   power law; Punica, Chen et al. 2024, a Zipf-1.5 "skewed" case);
 * - uniform: every adapter alike;
 * - round_robin: 0, 1, …, adapters − 1, 0, … in turn among the requests that take an adapter.
 */
export function adapterSampler(lora: WorkloadLoraInput, uniform: Uniform): () => number | undefined {
  const { adapters } = lora;
  const base_fraction = lora.base_fraction ?? DEFAULT_BASE_FRACTION;
  const popularity = lora.popularity ?? 'zipf';
  let next = 0;
  const pick: (v: number) => number =
    popularity === 'round_robin'
      ? () => next++ % adapters
      : popularity === 'uniform'
        ? (v) => Math.min(adapters - 1, Math.floor(v * adapters))
        : zipfPick(adapters, lora.zipf_alpha ?? DEFAULT_ZIPF_ALPHA);
  return () => {
    const u = uniform();
    const v = uniform();
    return u < base_fraction ? undefined : pick(v);
  };
}

/** Zipf over adapter ids 0 … n − 1, fed the given uniform draw. */
function zipfPick(n: number, alpha: number): (v: number) => number {
  let draw = 0;
  const sample = zipfSampler(alpha, 0, n - 1, () => draw, 'workload.lora.zipf_alpha');
  return (v) => {
    draw = v;
    return sample();
  };
}

/** workload.lora's combinations and ranges, for callers that skip the schema (tools, tests). */
export function validateLora(lora: WorkloadLoraInput, trace: { columns?: { adapter?: string } } | undefined): void {
  const { adapters, popularity, zipf_alpha, base_fraction } = lora;
  if (!(Number.isInteger(adapters) && adapters >= 1 && adapters <= 1e6)) throw fieldError('workload.lora.adapters', 'must be an integer ≥ 1 and ≤ 1,000,000', adapters);
  if (popularity !== undefined && !['zipf', 'uniform', 'round_robin'].includes(popularity)) {
    throw fieldError('workload.lora.popularity', 'must be one of zipf, uniform, round_robin', popularity);
  }
  if (zipf_alpha !== undefined) {
    if (!(Number.isFinite(zipf_alpha) && zipf_alpha > 0)) throw fieldError('workload.lora.zipf_alpha', 'must be a number > 0', zipf_alpha);
    if ((popularity ?? 'zipf') !== 'zipf') throw fieldError('workload.lora.zipf_alpha', `is for popularity zipf; popularity is ${popularity}`, zipf_alpha);
  }
  if (base_fraction !== undefined && !(base_fraction >= 0 && base_fraction <= 1)) {
    throw fieldError('workload.lora.base_fraction', 'must be a share of the requests, from 0 to 1', base_fraction);
  }
  const column = trace?.columns?.adapter;
  if (column !== undefined) {
    throw fieldError('workload.lora', `draws adapters for requests whose trace names none; this trace names them in column ${JSON.stringify(column)}: drop one of the two`, adapters);
  }
}
