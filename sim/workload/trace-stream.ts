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
  return new Azure2024Stream(spec, options);
}

class Azure2024Stream implements TraceRowStream {
  private readonly file: string;
  private readonly reader: LineReader;
  private readonly speedup: number;
  private at = { arrival: -1, input: -1, output: -1 };
  private width = 0;
  private first: SplitTime | undefined;
  private readonly time: SplitTime = { whole_s: 0, fraction_s: 0 };
  private previous = { s: -Infinity, raw: '', line: 0 };
  private zeros = 0;
  private ahead: StreamedRow | undefined;
  private done = false;

  constructor(spec: TraceSpec, options: LineReaderOptions) {
    this.file = spec.path;
    this.reader = new LineReader(this.file, 'workload.trace.path', options);
    this.speedup = spec.speedup ?? 1;
  }

  get zero_output_rows(): number {
    return this.zeros;
  }

  peek(): StreamedRow | undefined {
    if (this.ahead === undefined && !this.done) {
      if (this.first === undefined && this.width === 0) this.header();
      this.ahead = this.read();
      if (this.ahead === undefined) this.done = true;
    }
    return this.ahead;
  }

  next(): StreamedRow | undefined {
    const row = this.peek();
    this.ahead = undefined;
    return row;
  }

  close(): void {
    this.reader.close();
  }

  private header(): void {
    const reader = this.reader;
    for (let text = reader.next(); text !== undefined; text = reader.next()) {
      if (text.trim() === '') continue;
      const names = text.split(',').map((name) => name.trim());
      const find = (column: string): number => {
        const i = names.indexOf(column);
        if (i === -1) throw missingColumnError('workload.trace.path (format azure-2024)', column, this.file, names);
        return i;
      };
      this.at = { arrival: find(COLUMNS.arrival), input: find(COLUMNS.input), output: find(COLUMNS.output) };
      this.width = Math.max(this.at.arrival, this.at.input, this.at.output) + 1;
      return;
    }
    throw rowError(this.file, 1, 'empty file: expected a header line');
  }

  private read(): StreamedRow | undefined {
    const reader = this.reader;
    for (let text = reader.next(); text !== undefined; text = reader.next()) {
      if (text.trim() !== '') return this.row(text, reader.line);
    }
    if (this.first === undefined) throw fieldError('workload.trace.path', `${basename(this.file)} has no data rows`);
    return undefined;
  }

  private row(text: string, line: number): StreamedRow {
    const file = this.file;
    if (text.indexOf('"') !== -1) throw rowError(file, line, 'quoted fields are not read by the streaming azure-2024 reader (the published files have none)');
    const fields = text.split(',');
    if (fields.length < this.width) throw rowError(file, line, `row has ${fields.length} fields, the header names column ${this.width}`);
    const t = this.arrival(fields[this.at.arrival], line);
    const input_tokens = toCount(fields[this.at.input]);
    if (Number.isNaN(input_tokens)) throw rowError(file, line, `${COLUMNS.input} must be an integer from 1 to ${MAX_TOKEN_COUNT} (token counts are stored as int32)`, fields[this.at.input]);
    if (input_tokens === 0) throw rowError(file, line, `${COLUMNS.input} must be ≥ 1 (a request needs a prompt)`, fields[this.at.input]);
    let output_tokens = toCount(fields[this.at.output]);
    if (Number.isNaN(output_tokens)) throw rowError(file, line, `${COLUMNS.output} must be an integer from 0 to ${MAX_TOKEN_COUNT} (token counts are stored as int32)`, fields[this.at.output]);
    if (output_tokens === 0) {
      output_tokens = 1;
      this.zeros++;
    }
    return { line, arrival_s: t / this.speedup, input_tokens, output_tokens };
  }

  /** Seconds after the first row; a row earlier than the one before is refused with both lines. */
  private arrival(raw: string, line: number): number {
    const time = this.time;
    if (!parseTimestamp(raw, time)) throw rowError(this.file, line, `${COLUMNS.arrival} must be a date-time like "2024-05-10 00:00:00.009930+00:00"`, raw);
    this.first ??= { ...time };
    const t = time.whole_s - this.first.whole_s + (time.fraction_s - this.first.fraction_s);
    const p = this.previous;
    if (t < p.s) {
      throw rowError(
        this.file,
        line,
        `${COLUMNS.arrival} ${JSON.stringify(raw.trim())} is earlier than line ${p.line}'s ${JSON.stringify(p.raw)}: ` +
          'format azure-2024 streams the file and needs its rows in time order (sort the rows after the header, or use format azure-2023, which sorts in memory)',
      );
    }
    this.previous = { s: t, raw: raw.trim(), line };
    return t;
  }
}

/** The 2024 files end every time with "+00:00": strip it so the fixed-layout fast path takes the rest. */
function parseTimestamp(raw: string | undefined, out: SplitTime): boolean {
  if (raw === undefined) return false;
  if (raw.endsWith('+00:00') && raw.length >= 25) return parseAzureTimestamp(raw.slice(0, -6), out);
  return parseAzureTimestamp(raw, out);
}
