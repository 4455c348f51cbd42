import type { Argv, Options } from 'yargs';
import { fieldError } from '../errors.js';

/**
 * Numeric flags whose errors echo what was typed. yargs's `type: 'number'` turns `--tp abc` into
 * NaN before a handler sees it ("got NaN"); a flag that is also a string keeps the typed text,
 * while the number declaration still labels it [number] in --help (yargs prints the last of
 * its type labels, and number comes after string).
 */
export function numericOption<T>(y: Argv<T>, name: string, options: Omit<Options, 'type'>): Argv<T> {
  // The handler sees a string (typed) or a number (the default); integerFlag/numberFlag take either.
  // requiresArg: a bare `--tp` would otherwise fall back to the default without a word.
  return y.option(name, { requiresArg: true, ...options, type: 'number' }).string(name) as unknown as Argv<T>;
}

/**
 * Refuses a flag given more than once: yargs then passes a list, which a handler expecting one
 * value would misread or crash on. `names` are the option names without dashes.
 */
export function eachOnce(args: Record<string, unknown>, names: readonly string[]): void {
  for (const name of names) {
    const raw = args[name];
    if (Array.isArray(raw)) throw fieldError(`--${name}`, `given ${raw.length} times; give it once`, raw.join(' '));
  }
}

export interface FlagRange {
  min?: number;
  max?: number;
  /** The lower bound itself is not allowed (a duration > 0). */
  minExclusive?: boolean;
  /** What the number counts, for the message: "seconds" gives "a number of seconds ≥ 0". */
  unit?: string;
}

const INTEGER = /^[+-]?\d+$/;
/** Plain decimal notation, with an optional exponent; not hex, not Infinity, not empty. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * An integer flag's value: `raw` is what numericOption parsed (the typed string, or the default);
 * undefined when the flag was not given and has no default. `name` includes the dashes.
 */
export function integerFlag(name: string, raw: unknown, range: FlagRange = {}): number | undefined {
  return flagValue(name, raw, true, range);
}

/** A real-valued flag's value, as integerFlag. */
export function numberFlag(name: string, raw: unknown, range: FlagRange = {}): number | undefined {
  return flagValue(name, raw, false, range);
}

function flagValue(name: string, raw: unknown, integer: boolean, range: FlagRange): number | undefined {
  if (raw === undefined) return undefined;
  const allowed = describeAllowed(integer, range);
  if (Array.isArray(raw)) throw fieldError(name, `given ${raw.length} times; give it once (${allowed})`, raw.join(' '));
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  const value = text === undefined ? raw : (integer ? INTEGER : DECIMAL).test(text) ? Number(text) : NaN;
  if (typeof value !== 'number' || !inRange(value, integer, range)) throw fieldError(name, `must be ${allowed}`, raw);
  return value;
}

function inRange(value: number, integer: boolean, { min, max, minExclusive }: FlagRange): boolean {
  if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) return false;
  if (min !== undefined && (minExclusive ? value <= min : value < min)) return false;
  return max === undefined || value <= max;
}

function describeAllowed(integer: boolean, { min, max, minExclusive, unit }: FlagRange): string {
  const bounds = [min === undefined ? '' : `${minExclusive ? '>' : '≥'} ${min}`, max === undefined ? '' : `≤ ${max}`].filter((b) => b !== '');
  const kind = `${integer ? 'an integer' : 'a number'}${unit === undefined ? '' : ` of ${unit}`}`;
  return bounds.length === 0 ? kind : `${kind} ${bounds.join(' and ')}`;
}
