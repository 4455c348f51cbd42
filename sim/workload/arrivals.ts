import type { Uniform } from '../engine/rng.js';
import { fieldError } from '../errors.js';
import type { ArrivalSpec } from '../scenario/types.js';
import { gammaSampler } from './gamma.js';

/** Successive arrival times in seconds; every process starts with an arrival at t = 0, so runs never open idle. */
export type ArrivalClock = () => number;

export function arrivalClock(spec: ArrivalSpec, uniform: Uniform): ArrivalClock {
  switch (spec.process) {
    case 'burst':
      return () => 0;
    case 'constant': {
      const rate = checkRate(spec.rate_per_s);
      let k = 0;
      // k / rate rather than a running sum, so the k-th arrival is exact, not accumulated rounding.
      return () => k++ / rate;
    }
    case 'poisson': {
      const rate = checkRate(spec.rate_per_s);
      return fromGaps(() => -Math.log1p(-uniform()) / rate);
    }
    case 'gamma': {
      const rate = checkRate(spec.rate_per_s);
      const cv = spec.cv;
      if (!(Number.isFinite(cv) && cv > 0)) throw fieldError('workload.arrival.cv', 'must be a number > 0', cv);
      // Gap mean = shape·scale = 1/rate; gap cv = 1/√shape.
      const shape = 1 / (cv * cv);
      return fromGaps(gammaSampler(shape, 1 / (rate * shape), uniform));
    }
    default:
      throw fieldError('workload.arrival.process', 'must be one of poisson, gamma, constant, burst', (spec as { process: unknown }).process);
  }
}

function fromGaps(gap: () => number): ArrivalClock {
  let t = 0;
  let started = false;
  return () => {
    if (started) t += gap();
    started = true;
    return t;
  };
}

function checkRate(rate: number): number {
  if (!(Number.isFinite(rate) && rate > 0)) throw fieldError('workload.arrival.rate_per_s', 'must be > 0', rate);
  return rate;
}
