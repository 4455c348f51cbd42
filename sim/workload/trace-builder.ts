import { InfersimError, formatValue, rowError } from '../errors.js';
import { toCount } from './fields.js';
import { MAX_TOKEN_COUNT } from '../scenario/bounds.js';
import type { TraceTable } from './types.js';

/** Names of the trace's own columns, so row errors speak the file's language. */
export interface ColumnNames {
  arrival?: string;
  input: string;
  output: string;
  model?: string;
  user?: string;
  adapter?: string;
}

/** Accumulates rows into growable typed arrays and checks token counts as they arrive. */
export class TraceBuilder {
  private length = 0;
  private arrival_s: Float64Array | undefined;
  private input_tokens = new Int32Array(1024);
  private output_tokens = new Int32Array(1024);
  private readonly hash_ids: number[][] | undefined;
  private zero_output_rows = 0;
  /** Per row, an index into model_names: a few distinct names over millions of rows. */
  private model: Int32Array | undefined;
  private readonly model_names: string[] = [];
  private readonly modelIndex = new Map<string, number>();
  private user: Int32Array | undefined;
  private readonly userIndex = new Map<string, number>();
  /** Per row, an adapter id (−1: the base model), ids in order of first appearance of the names. */
  private adapter: Int32Array | undefined;
  private readonly adapter_names: string[] = [];
  private readonly adapterIndex = new Map<string, number>();

  constructor(
    private readonly file: string,
    private readonly names: ColumnNames,
    keepHashIds = false,
    /** Where row `line` is, for files without lines (Arrow: "requests.arrow row 17"); default "<file> line N". */
    private readonly locate?: (line: number) => string,
  ) {
    if (names.arrival !== undefined) this.arrival_s = new Float64Array(1024);
    this.hash_ids = keepHashIds ? [] : undefined;
    if (names.model !== undefined) this.model = new Int32Array(1024);
    if (names.user !== undefined) this.user = new Int32Array(1024);
    if (names.adapter !== undefined) this.adapter = new Int32Array(1024);
  }

  /**
   * `arrival_s` is ignored for traces without timestamps; `hash_ids` for formats without them;
   * `rawModel`, `rawUser` and `rawAdapter` unless the model, user and adapter columns are named.
   */
  add(line: number, arrival_s: number, rawInput: unknown, rawOutput: unknown, hash_ids?: number[], rawModel?: unknown, rawUser?: unknown, rawAdapter?: unknown): void {
    const input = toCount(rawInput);
    if (Number.isNaN(input)) throw this.rowError(line, `${this.names.input} must be an integer from 1 to ${MAX_TOKEN_COUNT} (token counts are stored as int32)`, rawInput);
    if (input === 0) throw this.rowError(line, `${this.names.input} must be ≥ 1 (a request needs a prompt)`, rawInput);
    let output = toCount(rawOutput);
    if (Number.isNaN(output)) throw this.rowError(line, `${this.names.output} must be an integer from 0 to ${MAX_TOKEN_COUNT} (token counts are stored as int32)`, rawOutput);
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
    if (this.model !== undefined) this.model[i] = this.modelOf(line, rawModel);
    if (this.user !== undefined) this.user[i] = this.userOf(line, rawUser);
    if (this.adapter !== undefined) this.adapter[i] = this.adapterOf(line, rawAdapter);
  }

  /**
   * An adapter name (spaces around it dropped) → its id, numbered 0, 1, 2, … in order of first
   * appearance in the file; an empty or absent value (JSON null too) is the base model, −1.
   */
  private adapterOf(line: number, raw: unknown): number {
    if (raw === undefined || raw === null) return -1;
    if (typeof raw !== 'string') throw this.rowError(line, `${this.names.adapter} must be a LoRA adapter name (a string; empty for the base model)`, raw);
    const name = raw.trim();
    return name === '' ? -1 : interned(this.adapterIndex, name, () => this.adapter_names.push(name));
  }

  /** Surrounding spaces are dropped: a model name is matched against the pools' models. */
  private modelOf(line: number, raw: unknown): number {
    const name = typeof raw === 'string' ? raw.trim() : '';
    if (name === '') throw this.rowError(line, `${this.names.model} must be a non-empty model name`, raw);
    return interned(this.modelIndex, name, () => this.model_names.push(name));
  }

  /**
   * Users are numbered 0, 1, 2, … in order of first appearance in the file. A JSON number and the
   * same digits in a string are one user, as a CSV cell cannot tell them apart.
   */
  private userOf(line: number, raw: unknown): number {
    const key = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : '';
    if (key === '') throw this.rowError(line, `${this.names.user} must be a user id (a non-empty string or a number)`, raw);
    return interned(this.userIndex, key);
  }

  private rowError(line: number, problem: string, got: unknown): InfersimError {
    if (this.locate === undefined) return rowError(this.file, line, problem, got);
    return new InfersimError(`${this.locate(line)}: ${problem}${got === undefined ? '' : `, got ${formatValue(got)}`}`);
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
      // Only traces that name these columns carry them, so other tables keep their shape.
      ...(this.model !== undefined && { model: this.model.slice(0, n), model_names: this.model_names }),
      ...(this.user !== undefined && { user: this.user.slice(0, n) }),
      ...(this.adapter !== undefined && { adapter: this.adapter.slice(0, n), adapter_names: this.adapter_names }),
    };
  }

  private grow(): void {
    const size = this.input_tokens.length * 2;
    this.input_tokens = resized(this.input_tokens, new Int32Array(size));
    this.output_tokens = resized(this.output_tokens, new Int32Array(size));
    if (this.arrival_s !== undefined) this.arrival_s = resized(this.arrival_s, new Float64Array(size));
    if (this.model !== undefined) this.model = resized(this.model, new Int32Array(size));
    if (this.user !== undefined) this.user = resized(this.user, new Int32Array(size));
    if (this.adapter !== undefined) this.adapter = resized(this.adapter, new Int32Array(size));
  }
}

/** The id of `key`, giving it the next one (and telling `onNew`) the first time it is seen. */
function interned(index: Map<string, number>, key: string, onNew?: () => void): number {
  let id = index.get(key);
  if (id === undefined) {
    id = index.size;
    index.set(key, id);
    onNew?.();
  }
  return id;
}

function resized<T extends Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
