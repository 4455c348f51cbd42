import type { Uniform } from '../engine/rng.js';
import { fieldError } from '../errors.js';
import { MAX_TIME_S, shown } from '../scenario/bounds.js';
import type { ArrivalSpec } from '../scenario/types.js';
import { gammaSampler } from './gamma.js';
import { rateProfile, type RateProfile } from './rate-profile.js';

/** Rates whose mean gap fits the time limit and stays above a nanosecond (the schema states the same). */
const MIN_RATE_PER_S = 1 / MAX_TIME_S;
const MAX_RATE_PER_S = 1e9;
/** Gamma cv: beyond these the process is constant, or one burst (see the schema's `cv`). */
const MIN_CV = 1e-3;
const MAX_CV = 1e3;

/**
 * Successive arrival times in seconds; every process starts with an arrival at t = 0 (a varying rate:
 * when it first turns positive), so runs never open idle. Infinity once a rate schedule has ended.
 */
export type ArrivalClock = () => number;

/**
 * `uniform` draws the gaps; `thinning` (its own stream, so the gaps are those of the constant rate)
 * draws the acceptances of a poisson process whose rate varies within a step: only a sinusoid's.
 */
export function arrivalClock(spec: ArrivalSpec, uniform: Uniform, thinning?: Uniform): ArrivalClock {
  switch (spec.process) {
    case 'burst':
      return () => 0;
    case 'constant': {
      // Deterministic at any rate: the k-th arrival where the expected count reaches k (k / rate when constant).
      if (typeof spec.rate_per_s !== 'number') return timeChanged(rateProfile(spec.rate_per_s), () => 1);
      const rate = checkRate(spec.rate_per_s);
      let k = 0;
      // k / rate rather than a running sum, so the k-th arrival is exact, not accumulated rounding.
      return () => checkedTime(k++ / rate, k);
    }
    case 'poisson': {
      if (typeof spec.rate_per_s !== 'number') return thinned(rateProfile(spec.rate_per_s), uniform, thinning);
      const rate = checkRate(spec.rate_per_s);
      return fromGaps(() => -Math.log1p(-uniform()) / rate);
    }
    case 'gamma': {
      if (typeof spec.rate_per_s !== 'number') {
        const profile = rateProfile(spec.rate_per_s);
        const shape = 1 / (checkCv(spec.cv) ** 2);
        return timeChanged(profile, gammaSampler(shape, 1 / shape, uniform));
      }
      const rate = checkRate(spec.rate_per_s);
      const cv = checkCv(spec.cv);
      // Gap mean = shape·scale = 1/rate; gap cv = 1/√shape.
      const shape = 1 / (cv * cv);
      return fromGaps(gammaSampler(shape, 1 / (rate * shape), uniform));
    }
    default:
      throw fieldError('workload.arrival.process', 'must be one of poisson, gamma, constant, burst', (spec as { process: unknown }).process);
  }
}

/**
 * Poisson at a varying rate by thinning (Lewis & Shedler 1979): candidates at a bound λ* on the rate,
 * each kept with probability rate(t)/λ*. λ* is constant per stretch (a schedule's step, or the
 * sinusoid's peak, at most twice its mean, so at least half the candidates are kept); a candidate past
 * the stretch is dropped and drawing restarts at its end, which memorylessness makes exact. Within a
 * step the rate is λ*, so nothing is thinned and the gaps are the constant-rate process's draws.
 */
function thinned(profile: RateProfile, uniform: Uniform, thinning: Uniform | undefined): ArrivalClock {
  let t = profile.inverse(0);
  let k = 0;
  return () => {
    if (t === Infinity) return t;
    if (k++ === 0) return checkedTime(t, k);
    for (;;) {
      const bound = profile.majorant(t);
      if (bound === undefined) return (t = Infinity);
      if (bound.rate === 0) {
        t = bound.until;
        continue;
      }
      const candidate = t + -Math.log1p(-uniform()) / bound.rate;
      if (!(candidate < bound.until)) {
        t = bound.until;
        continue;
      }
      t = checkedTime(candidate, k);
      const rate = profile.rate(t);
      if (rate >= bound.rate) return t;
      if (thinning === undefined) throw new Error('arrivalClock: a poisson process at a varying rate needs the thinning stream');
      if (thinning() * bound.rate < rate) return t;
    }
  };
}

/**
 * A renewal process at a varying rate by inverting the expected count Λ(t) = ∫₀ᵗ rate: renewal
 * epochs S_k of mean-1 gaps, arrivals at Λ⁻¹(S_k) (Gerhardt & Nelson 2009, "Transforming renewal
 * processes for simulation of nonstationary arrival processes", INFORMS J. Computing 21(4)). The count
 * in any interval then has mean ∫rate exactly, and where the rate changes slowly against a gap (a
 * day-long cycle, minute-long steps) the gaps keep the configured cv. Thinning a gamma process instead
 * would not: keeping each candidate with probability p turns a gap cv² into p·cv² + 1 − p, so a
 * regular or a bursty process would drift towards Poisson wherever the rate is below its peak.
 */
function timeChanged(profile: RateProfile, gap: () => number): ArrivalClock {
  let s = 0;
  let k = 0;
  let t = 0;
  return () => {
    if (t === Infinity) return t;
    if (k > 0) {
      const g = gap();
      if (!(g >= 0 && g < Infinity)) throw new Error(`arrival gap ${k} is ${g}: the gap sampler must return a finite number ≥ 0`);
      s += g;
    }
    t = profile.inverse(s);
    return t === Infinity ? t : checkedTime(t, ++k);
  };
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

function checkCv(cv: number): number {
  if (!(cv >= MIN_CV && cv <= MAX_CV)) throw fieldError('workload.arrival.cv', `must be a number ≥ ${MIN_CV} and ≤ ${MAX_CV}`, cv);
  return cv;
}

function checkRate(rate: number): number {
  if (!(rate >= MIN_RATE_PER_S && rate <= MAX_RATE_PER_S)) {
    throw fieldError('workload.arrival.rate_per_s', `must be ≥ ${shown(MIN_RATE_PER_S)} and ≤ ${shown(MAX_RATE_PER_S)}`, rate);
  }
  return rate;
}
