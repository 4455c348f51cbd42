import type { Uniform } from '../engine/rng.js';
import { fieldError } from '../errors.js';
import { MAX_TIME_S, shown } from '../scenario/bounds.js';
import type { ArrivalSpec } from '../scenario/types.js';
import { gammaSampler } from './gamma.js';

/** Rates whose mean gap fits the time limit and stays above a nanosecond (the schema states the same). */
const MIN_RATE_PER_S = 1 / MAX_TIME_S;
const MAX_RATE_PER_S = 1e9;
/** Gamma cv: beyond these the process is constant, or one burst (see the schema's `cv`). */
const MIN_CV = 1e-3;
const MAX_CV = 1e3;

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
      return () => checkedTime(k++ / rate, k);
    }
    case 'poisson': {
      const rate = checkRate(spec.rate_per_s);
      return fromGaps(() => -Math.log1p(-uniform()) / rate);
    }
    case 'gamma': {
      const rate = checkRate(spec.rate_per_s);
      const cv = spec.cv;
      if (!(cv >= MIN_CV && cv <= MAX_CV)) throw fieldError('workload.arrival.cv', `must be a number ≥ ${MIN_CV} and ≤ ${MAX_CV}`, cv);
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
  let k = 0;
  return () => {
    if (k > 0) {
      const g = gap();
      // A sampler fault must not pass as "no more arrivals" (NaN) or as time running backwards.
      if (!(g >= 0 && g < Infinity)) throw new Error(`arrival gap ${k} is ${g}: the gap sampler must return a finite number ≥ 0`);
      t += g;
    }
    return checkedTime(t, ++k);
  };
}

/** The k-th arrival (1-based) at `t`, refused past the simulated time limit. */
function checkedTime(t: number, k: number): number {
  if (t > MAX_TIME_S) {
    throw fieldError(
      'workload.arrival.rate_per_s',
      `arrival ${k} would come at ${t.toPrecision(3)} s, past the simulation's ${shown(MAX_TIME_S)} s time limit; raise the rate or lower workload.num_requests`,
    );
  }
  return t;
}

function checkRate(rate: number): number {
  if (!(rate >= MIN_RATE_PER_S && rate <= MAX_RATE_PER_S)) {
    throw fieldError('workload.arrival.rate_per_s', `must be ≥ ${shown(MIN_RATE_PER_S)} and ≤ ${shown(MAX_RATE_PER_S)}`, rate);
  }
  return rate;
}
