import { fieldError } from '../errors.js';
import { MAX_TIME_S, shown } from '../scenario/bounds.js';
import type { DiurnalRate, RateStep } from '../scenario/types.js';

const FIELD = 'workload.arrival.rate_per_s';
/** The plain rate's bounds (arrivals.ts); a step may also be 0, a pause. */
const MIN_RATE_PER_S = 1 / MAX_TIME_S;
const MAX_RATE_PER_S = 1e9;

/** A rate that changes with time, in the three views the arrival processes need. */
export interface RateProfile {
  /** Requests per second at t. */
  rate(t: number): number;
  /** Expected arrivals in [0, t]: the integral of the rate. */
  cumulative(t: number): number;
  /** The first time after which the cumulative rate exceeds s; Infinity when it never does. */
  inverse(s: number): number;
  /** A constant bound on the rate from t until `until`, for thinning; undefined past the last arrival possible. */
  majorant(t: number): { rate: number; until: number } | undefined;
}

export function rateProfile(spec: RateStep[] | DiurnalRate): RateProfile {
  return Array.isArray(spec) ? scheduleProfile(spec) : diurnalProfile(spec);
}

function scheduleProfile(steps: RateStep[]): RateProfile {
  checkSchedule(steps);
  const n = steps.length;
  const start = (i: number): number => (i === 0 ? 0 : steps[i - 1].until_s);
  // before[i]: expected arrivals before step i; before[n]: the schedule's total.
  const before = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) before[i + 1] = before[i] + steps[i].rate_per_s * (steps[i].until_s - start(i));
  // Callers ask in non-decreasing time (or s), so a cursor finds the step in amortised O(1).
  let cursor = 0;
  const stepAt = (t: number): number => {
    if (t < start(cursor)) cursor = 0;
    while (cursor < n && !(t < steps[cursor].until_s)) cursor++;
    return cursor;
  };
  let inverseCursor = 0;
  return {
    rate: (t) => {
      const i = stepAt(t);
      return i < n ? steps[i].rate_per_s : 0;
    },
    cumulative: (t) => {
      const i = stepAt(t);
      return i < n ? before[i] + steps[i].rate_per_s * (t - start(i)) : before[n];
    },
    inverse: (s) => {
      if (inverseCursor > 0 && s < before[inverseCursor]) inverseCursor = 0;
      // The step whose share of the total covers s; a step of rate 0 covers nothing and is passed over.
      while (inverseCursor < n && !(s < before[inverseCursor + 1])) inverseCursor++;
      const i = inverseCursor;
      if (i === n) return Infinity;
      const { until_s, rate_per_s } = steps[i];
      const t = start(i) + (s - before[i]) / rate_per_s;
      // Rounding may land on until_s, where the next step (perhaps a pause) applies: stay inside this one.
      return t < until_s ? t : Math.max(start(i), until_s * (1 - Number.EPSILON));
    },
    majorant: (t) => {
      const i = stepAt(t);
      return i < n ? { rate: steps[i].rate_per_s, until: steps[i].until_s } : undefined;
    },
  };
}

function diurnalProfile(spec: DiurnalRate): RateProfile {
  const { mean, amplitude, period_s: period } = checkDiurnal(spec);
  const phase = spec.phase_s ?? 0;
  const omega = (2 * Math.PI) / period;
  // The angle of t reduced to one period first, so sin and cos keep their precision at large t.
  const angle = (t: number): number => {
    const within = (t - phase) % period;
    return omega * (within < 0 ? within + period : within);
  };
  const rate = (t: number): number => mean * (1 + amplitude * Math.sin(angle(t)));
  const cosAt0 = Math.cos(angle(0));
  // ∫₀ᵗ mean (1 + a sin(ω(u − φ))) du = mean (t + a (cos(ω(0 − φ)) − cos(ω(t − φ))) / ω).
  const cumulative = (t: number): number => mean * (t + (amplitude * (cosAt0 - Math.cos(angle(t)))) / omega);
  const perPeriod = mean * period;
  return {
    rate,
    cumulative,
    inverse: (s) => {
      // The integral gains mean × period every period: solve within one, then add whole periods.
      const whole = Math.floor(s / perPeriod);
      return whole * period + solveWithinPeriod(s - whole * perPeriod, period, rate, cumulative);
    },
    majorant: () => ({ rate: mean * (1 + amplitude), until: Infinity }),
  };
}

/**
 * The u in [0, period] with cumulative(u) = s: Newton's method, falling back to bisection when a step
 * leaves the bracket (the rate, the derivative, is 0 at the trough of a full-amplitude sinusoid).
 */
function solveWithinPeriod(s: number, period: number, rate: (t: number) => number, cumulative: (t: number) => number): number {
  let lo = 0;
  let hi = period;
  let u = Math.min(Math.max((s / cumulative(period)) * period, lo), hi);
  for (let iteration = 0; iteration < 200; iteration++) {
    const f = cumulative(u) - s;
    if (f === 0) return u;
    if (f < 0) lo = u;
    else hi = u;
    let next = u - f / rate(u);
    if (!(next > lo && next < hi)) next = lo + (hi - lo) / 2;
    if (next === u || next === lo || next === hi) break;
    u = next;
  }
  return u;
}

function checkSchedule(steps: RateStep[]): void {
  if (steps.length === 0) throw fieldError(FIELD, 'must list at least one step', steps);
  let total = 0;
  steps.forEach(({ until_s, rate_per_s }, i) => {
    const field = `${FIELD}[${i}]`;
    if (!(until_s > 0 && until_s <= MAX_TIME_S)) throw fieldError(`${field}.until_s`, `must be > 0 and ≤ ${shown(MAX_TIME_S)}`, until_s);
    if (i > 0 && !(until_s > steps[i - 1].until_s)) {
      throw fieldError(`${field}.until_s`, `must be > the one before (${steps[i - 1].until_s})`, until_s);
    }
    if (!(rate_per_s >= 0 && rate_per_s <= MAX_RATE_PER_S)) throw fieldError(`${field}.rate_per_s`, `must be ≥ 0 and ≤ ${shown(MAX_RATE_PER_S)}`, rate_per_s);
    total += rate_per_s;
  });
  if (total === 0) throw fieldError(FIELD, 'every step has rate_per_s 0, so no request would arrive');
}

function checkDiurnal(spec: DiurnalRate): DiurnalRate {
  const { mean, amplitude, period_s, phase_s } = spec;
  if (!(mean >= MIN_RATE_PER_S && mean <= MAX_RATE_PER_S)) throw fieldError(`${FIELD}.mean`, `must be ≥ ${shown(MIN_RATE_PER_S)} and ≤ ${shown(MAX_RATE_PER_S)}`, mean);
  if (!(amplitude >= 0 && amplitude <= 1)) throw fieldError(`${FIELD}.amplitude`, 'must be ≥ 0 and ≤ 1', amplitude);
  if (!(period_s > 0 && period_s <= MAX_TIME_S)) throw fieldError(`${FIELD}.period_s`, `must be > 0 and ≤ ${shown(MAX_TIME_S)}`, period_s);
  if (phase_s !== undefined && !(phase_s >= 0 && phase_s <= MAX_TIME_S)) throw fieldError(`${FIELD}.phase_s`, `must be ≥ 0 and ≤ ${shown(MAX_TIME_S)}`, phase_s);
  return spec;
}
