import { rowError } from '../errors.js';
import { toCount } from './fields.js';
import { MAX_TOKEN_COUNT } from '../scenario/bounds.js';
import type { TraceTable } from './types.js';

/** Names of the trace's own columns, so row errors speak the file's language. */
export interface ColumnNames {
  arrival?: string;
  input: string;
  output: string;
}

/** Accumulates rows into growable typed arrays and checks token counts as they arrive. */
export class TraceBuilder {
  private length = 0;
  private arrival_s: Float64Array | undefined;
  private input_tokens = new Int32Array(1024);
  private output_tokens = new Int32Array(1024);
  private readonly hash_ids: number[][] | undefined;
  private zero_output_rows = 0;

  constructor(
    private readonly file: string,
    private readonly names: ColumnNames,
    keepHashIds = false,
  ) {
    if (names.arrival !== undefined) this.arrival_s = new Float64Array(1024);
    this.hash_ids = keepHashIds ? [] : undefined;
  }

  /** `arrival_s` is ignored for traces without timestamps; `hash_ids` for formats without them. */
  add(line: number, arrival_s: number, rawInput: unknown, rawOutput: unknown, hash_ids?: number[]): void {
    const input = toCount(rawInput);
    if (Number.isNaN(input)) throw rowError(this.file, line, `${this.names.input} must be an integer from 1 to ${MAX_TOKEN_COUNT} (token counts are stored as int32)`, rawInput);
    if (input === 0) throw rowError(this.file, line, `${this.names.input} must be ≥ 1 (a request needs a prompt)`, rawInput);
    let output = toCount(rawOutput);
    if (Number.isNaN(output)) throw rowError(this.file, line, `${this.names.output} must be an integer from 0 to ${MAX_TOKEN_COUNT} (token counts are stored as int32)`, rawOutput);
    if (output === 0) {
      output = 1;
      this.zero_output_rows++;
    }
    if (this.length === this.input_tokens.length) this.grow();
    const i = this.length++;
    if (this.arrival_s !== undefined) this.arrival_s[i] = arrival_s;
    this.input_tokens[i] = input;
    this.output_tokens[i] = output;
    if (this.hash_ids !== undefined) this.hash_ids.push(hash_ids ?? []);
  }

  build(): TraceTable {
    const n = this.length;
    return {
      file: this.file,
      length: n,
      arrival_s: this.arrival_s?.slice(0, n),
      input_tokens: this.input_tokens.slice(0, n),
      output_tokens: this.output_tokens.slice(0, n),
      hash_ids: this.hash_ids,
      zero_output_rows: this.zero_output_rows,
    };
  }

  private grow(): void {
    const size = this.input_tokens.length * 2;
    this.input_tokens = resized(this.input_tokens, new Int32Array(size));
    this.output_tokens = resized(this.output_tokens, new Int32Array(size));
    if (this.arrival_s !== undefined) this.arrival_s = resized(this.arrival_s, new Float64Array(size));
  }
}

function resized<T extends Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
