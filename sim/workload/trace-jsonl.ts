import { rowError } from '../errors.js';
import { forEachJsonlRecord } from '../io/jsonl.js';
import { missingColumnError, ownValue, toNonNegative } from './fields.js';
import { TraceBuilder } from './trace-builder.js';
import type { TraceTable } from './types.js';

/** Which keys of each JSON object hold each field. */
export interface JsonlTraceLayout {
  input: string;
  output: string;
  arrival?: string;
  /** Timestamps are stored in seconds × divisor (1000 for ms). */
  arrivalDivisor: number;
  hashIds?: string;
  /** Keys of each request's model (a string) and user id (a string or number). */
  model?: string;
  user?: string;
  /** Key of each request's LoRA adapter name (absent, null or empty: the base model). */
  adapter?: string;
  field: (role: Role) => string;
}

type Role = 'arrival' | 'input' | 'output' | 'hash_ids' | 'model' | 'user' | 'adapter';

export function readJsonlTrace(text: string, file: string, layout: JsonlTraceLayout): TraceTable {
  const { arrival, input, output, model, user, adapter } = layout;
  const builder = new TraceBuilder(file, { arrival, input, output, model, user, adapter }, layout.hashIds !== undefined);
  let first = true;
  forEachJsonlRecord(text, file, (row, line) => {
    const get = (key: string, role: Role): unknown => {
      const value = ownValue(row, key);
      if (value !== undefined) return value;
      // The first row stands for the file's columns; later gaps are bad rows.
      if (first) throw missingColumnError(layout.field(role), key, file, Object.keys(row));
      throw rowError(file, line, `missing ${JSON.stringify(key)}`);
    };
    let arrival_s = 0;
    if (arrival !== undefined) {
      const raw = get(arrival, 'arrival');
      arrival_s = toNonNegative(raw) / layout.arrivalDivisor;
      if (Number.isNaN(arrival_s)) throw rowError(file, line, `${arrival} must be a non-negative number`, raw);
    }
    const rawInput = get(input, 'input');
    const rawOutput = get(output, 'output');
    const hashIds = layout.hashIds === undefined ? undefined : checkHashIds(get(layout.hashIds, 'hash_ids'), layout.hashIds, file, line);
    const rawModel = model === undefined ? undefined : get(model, 'model');
    const rawUser = user === undefined ? undefined : get(user, 'user');
    // A row without the adapter key asks for the base model: the key is optional row by row.
    const rawAdapter = adapter === undefined ? undefined : ownValue(row, adapter);
    first = false;
    builder.add(line, arrival_s, rawInput, rawOutput, hashIds, rawModel, rawUser, rawAdapter);
  });
  return builder.build();
}

function checkHashIds(value: unknown, key: string, file: string, line: number): number[] {
  if (!Array.isArray(value) || !value.every((id) => Number.isInteger(id))) {
    throw rowError(file, line, `${key} must be an array of integers`, value);
  }
  return value as number[];
}
