import { z } from 'zod';
import { MAX_TIME_S, MAX_TOKEN_COUNT, shown } from './bounds.js';

/*
 * Leaves are `z.custom` with our own one-line message so that every failure of a leaf (wrong
 * type, out of range, not an integer) yields exactly one issue whose text we control; zod's
 * own leaf types would emit several issues per value, in its own wording. Structure (strict
 * objects, discriminated unions, optional keys) stays with zod.
 */

interface NumRule {
  int?: boolean;
  gt?: number;
  gte?: number;
  lte?: number;
  /** Why the upper bound is what it is: said when a value is above it. */
  why?: string;
  /** Why the lower bound is what it is: said when a value is below it. */
  lowWhy?: string;
}

export function num({ int = false, gt, gte, lte, why, lowWhy }: NumRule): z.ZodType<number> {
  // With both, gt is the sign (> 0) and gte the working minimum: state the tighter one.
  const lower = gte !== undefined ? `≥ ${shown(gte)}` : gt !== undefined ? `> ${shown(gt)}` : '';
  const upper = lte !== undefined ? `≤ ${shown(lte)}` : '';
  const bounds = [lower, upper].filter(Boolean).join(' and ');
  const kind = int ? 'an integer' : 'a number';
  const below = (v: number): boolean => (gt !== undefined && !(v > gt)) || (gte !== undefined && !(v >= gte));
  const ok = (v: unknown): boolean =>
    typeof v === 'number' && Number.isFinite(v) && (!int || Number.isSafeInteger(v)) && !below(v) && (lte === undefined || v <= lte);
  const because = (reason: string | undefined): string => (reason ? ` (${reason})` : '');
  const message = (v: unknown): string => {
    const full = `must be ${kind}${bounds ? ' ' + bounds : ''}`;
    if (typeof v !== 'number' || Number.isNaN(v)) return full;
    // Past a limit that has a reason, name only that limit and why ("1e999" reads as Infinity).
    if (lte !== undefined && v > lte && why !== undefined) return `must be ${kind} ${upper}${because(why)}`;
    const intWord = int ? 'an integer ' : '';
    if (below(v) && (lowWhy !== undefined || why !== undefined)) {
      // A value on the wrong side of zero hears "> 0"; one just short of the minimum hears the minimum and why.
      return gt !== undefined && !(v > gt) ? `must be ${intWord}> ${shown(gt)}` : `must be ${intWord}${lower}${because(lowWhy)}`;
    }
    // "must be > 0, got -3" reads best when the type is right; say the type when it is not.
    return Number.isFinite(v) && !int ? `must be ${bounds}` : full;
  };
  return z.custom<number>(ok, (v: unknown) => ({ message: message(v) }));
}

export const positive = num({ gt: 0 });
export const intAtLeast = (min: number): z.ZodType<number> => num({ int: true, gte: min });
export const positiveInt = intAtLeast(1);

export const INT32_WHY = 'the outputs store counts as int32';
/** A count of tokens or sequences: at least 1, and what the int32 output columns hold. */
export const count32 = num({ int: true, gte: 1, lte: MAX_TOKEN_COUNT, why: INT32_WHY });
export const tokens = count32;
export const TIME_WHY = `simulated time is limited to ${shown(MAX_TIME_S)} s`;
/** A duration in seconds or milliseconds: finite, and within the simulated time limit. */
export const seconds = (rule: { gt?: number; gte?: number }): z.ZodType<number> => num({ ...rule, lte: MAX_TIME_S, why: TIME_WHY });
export const millis = (rule: { gt?: number; gte?: number }): z.ZodType<number> => num({ ...rule, lte: MAX_TIME_S * 1000, why: TIME_WHY });
/**
 * Arrival rates: the mean gap 1/rate must fit the time limit; above 1e9/s the gaps are below a
 * nanosecond, which process "burst" (all at t = 0) says plainly.
 */
export const rate = num({
  gt: 0,
  gte: 1 / MAX_TIME_S,
  lte: 1e9,
  lowWhy: `the mean gap 1/rate must fit in the ${shown(MAX_TIME_S)} s time limit`,
  why: 'gaps below a nanosecond: use process burst for all at t = 0',
});
/**
 * Gamma shape is 1/cv². Below 1e-3 the gaps vary by under 0.1 % of their mean (process constant); above
 * 1e3 over 99.9 % of the gaps underflow to 0 (U^(cv²) < 5e-324: a single burst); far beyond, 1/cv² itself
 * overflows or underflows and every gap is NaN.
 */
export const cv = num({
  gt: 0,
  gte: 1e-3,
  lte: 1e3,
  lowWhy: 'below it the gaps vary by under 0.1 % of their mean: use process constant',
  why: 'above it over 99.9 % of the gaps round to 0: use process burst',
});

export function oneOf<const T extends string>(values: readonly T[]): z.ZodType<T> {
  return z.custom<T>((v) => values.includes(v as T), { message: `must be one of ${values.join(', ')}` });
}

export const text = z.custom<string>((v) => typeof v === 'string' && v.trim() !== '', {
  message: 'must be a non-empty string',
});
export const bool = z.custom<boolean>((v) => typeof v === 'boolean', { message: 'must be true or false' });
