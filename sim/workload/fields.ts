import { basename } from 'node:path';
import { InfersimError, fieldError } from '../errors.js';
import { MAX_TOKEN_COUNT } from '../scenario/bounds.js';

export function missingColumnError(field: string, column: string, file: string, present: readonly string[]): InfersimError {
  const list = present.length > 0 ? present.map((c) => JSON.stringify(c)).join(', ') : '(none)';
  return fieldError(field, `column ${JSON.stringify(column)} not found in ${basename(file)}; columns present: ${list}`);
}

/**
 * A non-negative integer token count from a CSV cell or JSON value, or NaN. A cell must be plain
 * decimal digits (spaces around allowed): Number() would also read "0x64", "1e2" and "100.0" as
 * 100, and a count written that way is a sign the column is not what the user thinks.
 */
export function toCount(raw: unknown): number {
  if (typeof raw === 'number') return Number.isInteger(raw) && raw >= 0 && raw <= MAX_TOKEN_COUNT ? raw : NaN;
  if (typeof raw !== 'string') return NaN;
  const n = raw.length;
  if (n === 0 || n > 9) return paddedCount(raw);
  let value = 0;
  for (let i = 0; i < n; i++) {
    const digit = raw.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return paddedCount(raw);
    value = value * 10 + digit;
  }
  return value;
}

/** The slow path: surrounding spaces, leading zeros, or too many digits for the loop's int32. */
function paddedCount(raw: string): number {
  const text = raw.trim();
  if (!/^\d+$/.test(text)) return NaN;
  const value = Number(text);
  return value <= MAX_TOKEN_COUNT ? value : NaN;
}

/** The value stored under `key` in a parsed JSON object, never one inherited ("constructor", "__proto__"). */
export function ownValue(row: Record<string, unknown>, key: string): unknown {
  return Object.getOwnPropertyDescriptor(row, key)?.value;
}

/** A finite, non-negative number (a timestamp) from a CSV cell or JSON value, or NaN. */
export function toNonNegative(raw: unknown): number {
  let value: number;
  if (typeof raw === 'number') value = raw;
  else if (typeof raw === 'string' && raw.trim() !== '') value = Number(raw);
  else return NaN;
  return Number.isFinite(value) && value >= 0 ? value : NaN;
}
