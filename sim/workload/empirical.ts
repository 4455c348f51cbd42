import { fieldError, rowError } from '../errors.js';
import { forEachCsvRecord } from '../io/csv.js';
import { forEachJsonlRecord } from '../io/jsonl.js';
import { readText } from '../io/readText.js';
import { missingColumnError, ownValue, toCount } from './fields.js';
import { MAX_TOKEN_COUNT } from '../scenario/bounds.js';

/**
 * The integer values of one column of a CSV (with header) or JSONL file; `.jsonl`/`.ndjson`
 * means JSONL. Zeros become 1, since every request has at least one prompt and one output token.
 */
export function loadEmpiricalColumn(path: string, column: string, field: string): Int32Array {
  const text = readText(path, `${field}.path`);
  const values: number[] = [];
  const take = (raw: unknown, line: number): void => {
    const value = toCount(raw);
    if (Number.isNaN(value)) throw rowError(path, line, `${column} must be an integer from 0 to ${MAX_TOKEN_COUNT} (token counts are stored as int32)`, raw);
    values.push(Math.max(1, value));
  };
  if (/\.(jsonl|ndjson)$/i.test(path)) {
    forEachJsonlRecord(text, path, (row, line) => {
      // Own properties only: a column named "constructor" must not find Object's.
      const raw = ownValue(row, column);
      if (raw === undefined) {
        if (values.length === 0) throw missingColumnError(`${field}.column`, column, path, Object.keys(row));
        throw rowError(path, line, `missing ${JSON.stringify(column)}`);
      }
      take(raw, line);
    });
  } else {
    let at = -1;
    forEachCsvRecord(text, path, (fields, line) => {
      if (at === -1) {
        const header = fields.map((name) => name.trim());
        at = header.indexOf(column);
        if (at === -1) throw missingColumnError(`${field}.column`, column, path, header);
        return;
      }
      take(fields[at] ?? '', line);
    });
  }
  if (values.length === 0) throw fieldError(`${field}.path`, `no values in column ${JSON.stringify(column)} of ${path}`);
  return Int32Array.from(values);
}
