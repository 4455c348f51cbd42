import { basename } from 'node:path';
import { fieldError, rowError } from '../errors.js';
import { LineReader, type LineReaderOptions } from '../io/lines.js';
import { MAX_TOKEN_COUNT } from '../scenario/bounds.js';
import type { TraceSpec } from '../scenario/types.js';
import { parseAzureTimestamp, type SplitTime } from './azure-time.js';
import { missingColumnError, toCount } from './fields.js';

/** One request row of a streamed trace; times are seconds after the first row, ÷ speedup. */
export interface StreamedRow {
  line: number;
  arrival_s: number;
  input_tokens: number;
  output_tokens: number;
}

/** Rows pulled one at a time from the file, in file order, which must be time order. */
export interface TraceRowStream {
  /** The next row without taking it (reads the file as far as that row). */
  peek(): StreamedRow | undefined;
  next(): StreamedRow | undefined;
  /** Rows read so far whose output was 0, raised to 1. */
  readonly zero_output_rows: number;
  close(): void;
}

/** Formats read by streaming rather than whole (week-long traces of millions of rows). */
export const STREAMED_FORMATS = ['azure-2024'] as const;

export function isStreamedFormat(format: string): boolean {
  return (STREAMED_FORMATS as readonly string[]).includes(format);
}

const COLUMNS = { arrival: 'TIMESTAMP', input: 'ContextTokens', output: 'GeneratedTokens' } as const;

/**
 * Azure LLM inference trace 2024 (AzureLLMInferenceTrace_{code,conv}_1week.csv): the 2023 columns,
 * timestamps with a UTC offset (`2024-05-10 00:00:00.009930+00:00`). The file is read in chunks as
 * the simulator pulls requests, so memory holds one chunk however long the week; hence rows must
 * come in time order, and one that goes back in time is refused with its line.
 */
export function openAzure2024(spec: TraceSpec, options: LineReaderOptions = {}): TraceRowStream {
  const file = spec.path;
  const reader = new LineReader(file, 'workload.trace.path', options);
  const speedup = spec.speedup ?? 1;
  let at = { arrival: -1, input: -1, output: -1 };
  let width = 0;
  let first: SplitTime | undefined;
  const time: SplitTime = { whole_s: 0, fraction_s: 0 };
  let previous_s = -Infinity;
  let previousRaw = '';
  let previousLine = 0;
  let zero_output_rows = 0;
  let ahead: StreamedRow | undefined;
  let done = false;

  const header = (): void => {
    for (let text = reader.next(); text !== undefined; text = reader.next()) {
      if (text.trim() === '') continue;
      const names = text.split(',').map((name) => name.trim());
      const find = (column: string): number => {
        const i = names.indexOf(column);
        if (i === -1) throw missingColumnError('workload.trace.path (format azure-2024)', column, file, names);
        return i;
      };
      at = { arrival: find(COLUMNS.arrival), input: find(COLUMNS.input), output: find(COLUMNS.output) };
      width = Math.max(at.arrival, at.input, at.output) + 1;
      return;
    }
    throw rowError(file, 1, 'empty file: expected a header line');
  };

  const read = (): StreamedRow | undefined => {
    for (let text = reader.next(); text !== undefined; text = reader.next()) {
      if (text.trim() === '') continue;
      const line = reader.line;
      if (text.indexOf('"') !== -1) throw rowError(file, line, 'quoted fields are not read by the streaming azure-2024 reader (the published files have none)');
      const fields = text.split(',');
      if (fields.length < width) throw rowError(file, line, `row has ${fields.length} fields, the header names column ${width}`);
      const raw = fields[at.arrival];
      if (!parseTimestamp(raw, time)) throw rowError(file, line, `${COLUMNS.arrival} must be a date-time like "2024-05-10 00:00:00.009930+00:00"`, raw);
      first ??= { ...time };
      const t = time.whole_s - first.whole_s + (time.fraction_s - first.fraction_s);
      if (t < previous_s) {
        throw rowError(
          file,
          line,
          `${COLUMNS.arrival} ${JSON.stringify(raw.trim())} is earlier than line ${previousLine}'s ${JSON.stringify(previousRaw)}: ` +
            'format azure-2024 streams the file and needs its rows in time order (sort the rows after the header, or use format azure-2023, which sorts in memory)',
        );
      }
      previous_s = t;
      previousRaw = raw.trim();
      previousLine = line;
      const input_tokens = toCount(fields[at.input]);
      if (Number.isNaN(input_tokens)) throw rowError(file, line, `${COLUMNS.input} must be an integer from 1 to ${MAX_TOKEN_COUNT} (token counts are stored as int32)`, fields[at.input]);
      if (input_tokens === 0) throw rowError(file, line, `${COLUMNS.input} must be ≥ 1 (a request needs a prompt)`, fields[at.input]);
      let output_tokens = toCount(fields[at.output]);
      if (Number.isNaN(output_tokens)) throw rowError(file, line, `${COLUMNS.output} must be an integer from 0 to ${MAX_TOKEN_COUNT} (token counts are stored as int32)`, fields[at.output]);
      if (output_tokens === 0) {
        output_tokens = 1;
        zero_output_rows++;
      }
      return { line, arrival_s: t / speedup, input_tokens, output_tokens };
    }
    if (first === undefined) throw fieldError('workload.trace.path', `${basename(file)} has no data rows`);
    return undefined;
  };

  const fill = (): StreamedRow | undefined => {
    if (ahead === undefined && !done) {
      if (first === undefined && width === 0) header();
      ahead = read();
      if (ahead === undefined) done = true;
    }
    return ahead;
  };

  return {
    peek: fill,
    next() {
      const row = fill();
      ahead = undefined;
      return row;
    },
    get zero_output_rows() {
      return zero_output_rows;
    },
    close: () => reader.close(),
  };
}

/** The 2024 files end every time with "+00:00": strip it so the fixed-layout fast path takes the rest. */
function parseTimestamp(raw: string | undefined, out: SplitTime): boolean {
  if (raw === undefined) return false;
  if (raw.endsWith('+00:00') && raw.length >= 25) return parseAzureTimestamp(raw.slice(0, -6), out);
  return parseAzureTimestamp(raw, out);
}
