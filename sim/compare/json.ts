import { basename } from 'node:path';
import { fieldError, InfersimError } from '../errors.js';
import { readText } from '../io/readText.js';

/** A benchmark's JSON output, parsed; a file that is not JSON is one line naming it. */
export function readJsonFile(file: string, field = 'real'): unknown {
  const text = readText(file, field);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InfersimError(`${basename(file)}: is not JSON (${(err as Error).message})`);
  }
}

/**
 * Reads fields of one file with the JSON path in every error: `run.json: ttfts[3]: must be a
 * number ≥ 0, got "x"`. Paths are written as a reader of the file would look them up.
 */
export class JsonReader {
  constructor(readonly file: string) {}

  fail(path: string, problem: string, got?: unknown): InfersimError {
    return fieldError(`${basename(this.file)}: ${path}`, problem, got);
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw this.fail(path, 'must be an object', value);
    return value as Record<string, unknown>;
  }

  array(value: unknown, path: string, length?: number): unknown[] {
    if (!Array.isArray(value)) throw this.fail(path, value === undefined ? 'is missing (an array is expected)' : 'must be an array', value);
    if (length !== undefined && value.length !== length) throw this.fail(path, `must hold ${length} entries (one per request), has ${value.length}`);
    return value;
  }

  number(value: unknown, path: string, min = 0): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw this.fail(path, value === undefined ? `is missing (a number ≥ ${min} is expected)` : `must be a number ≥ ${min}`, value);
    }
    return value;
  }

  /** A token count: an integer ≥ min. */
  count(value: unknown, path: string, min = 0): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw this.fail(path, value === undefined ? `is missing (an integer ≥ ${min} is expected)` : `must be an integer ≥ ${min}`, value);
    }
    return value;
  }

  optionalNumber(value: unknown, path: string, min = 0): number | undefined {
    return value === undefined || value === null ? undefined : this.number(value, path, min);
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') throw this.fail(path, value === undefined ? 'is missing (a string is expected)' : 'must be a string', value);
    return value;
  }
}

/** The earliest value of a list (Infinity when empty), without spreading a long list onto the stack. */
export function minOf(values: readonly number[]): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}
