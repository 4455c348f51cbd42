import { closeSync, openSync, writeSync } from 'node:fs';
import type { Bool, Data, DataType, Dictionary, Float64, Int32, RecordBatchFileWriter, Schema, Utf8, Vector } from 'apache-arrow';
import { withPath } from '../fsErrors.js';
import { arrowLib } from '../io/arrowLib.js';

type ArrowLib = typeof import('apache-arrow');

/**
 * Column kinds the simulator needs. `f64` is nullable: NaN in the buffer is written as null
 * (validity bitmap), so callers never handle nulls on the hot path. `dict` stores int32 codes
 * into a fixed utf8 dictionary (readers see a categorical / dictionary<utf8> column). `bool` holds
 * 0 or 1 per row, packed into Arrow's bitmap when a batch is written.
 */
export type ColumnSpec =
  | { readonly name: string; readonly kind: 'f64' | 'i32' | 'u32' | 'bool' }
  | { readonly name: string; readonly kind: 'dict'; readonly values: readonly string[] };

export type ColumnBuffer = Float64Array | Int32Array | Uint32Array | Uint8Array;

export const DEFAULT_BATCH_ROWS = 65_536;

/** What an I/O error names: the files are a run's output. */
const FIELD = 'output.dir';

/**
 * Streams rows into an Arrow IPC *file* with memory bounded by one batch: callers fill the
 * typed-array `columns` at index `row`, call `endRow()`, and every `batchRows` rows a
 * RecordBatch is built over those same buffers and written synchronously, so they can be reused.
 */
export class ArrowFileWriter {
  readonly schema: Schema;
  /** One buffer per column, in schema order; stable for the writer's lifetime. */
  readonly columns: readonly ColumnBuffer[];
  /** Index of the row being filled in the current batch. */
  row = 0;
  rowsWritten = 0;

  private readonly specs: readonly ColumnSpec[];
  private readonly dictionaries: (Vector<Utf8> | undefined)[];
  /** One validity bitmap per f64 column: a batch's columns are all built before it is written. */
  private readonly validity: (Uint8Array | undefined)[];
  private readonly arrow: ArrowLib;
  private readonly sink: FdSink;
  private readonly writer: RecordBatchFileWriter;
  private batches = 0;
  private closed = false;

  constructor(
    readonly path: string,
    specs: readonly ColumnSpec[],
    readonly batchRows = DEFAULT_BATCH_ROWS,
  ) {
    this.specs = specs;
    const { arrow, FdSink } = loadArrow();
    this.arrow = arrow;
    const { Field, Schema, makeVector } = arrow;
    // Explicit dictionary ids: the library's default is a process-global counter, which would
    // make the bytes depend on how many writers were created before this one.
    this.schema = new Schema(specs.map((s, i) => new Field(s.name, arrowType(arrow, s, i), s.kind === 'f64')));
    this.columns = specs.map((s) => newBuffer(s.kind, batchRows));
    this.dictionaries = specs.map((s) => (s.kind === 'dict' ? makeVector(utf8Data(arrow, s.values)) : undefined));
    this.validity = specs.map((s) => (s.kind === 'f64' || s.kind === 'bool' ? new Uint8Array((batchRows + 7) >> 3) : undefined));
    // The writer before the file: nothing after openSync may throw and leak the descriptor.
    this.writer = new arrow.RecordBatchFileWriter();
    this.sink = new FdSink(withPath(FIELD, 'create', path, () => openSync(path, 'w')));
    this.writer.reset(this.sink);
  }

  endRow(): void {
    if (++this.row === this.batchRows) this.flush();
  }

  /** Writes any buffered rows as one batch. */
  flush(): void {
    if (this.row === 0) return;
    withPath(FIELD, 'write', this.path, () => this.writeBatch(this.row));
    this.rowsWritten += this.row;
    this.row = 0;
  }

  /** Flushes, writes the footer and closes the file. An empty table still gets a schema-bearing, valid file. */
  close(): void {
    if (this.closed) return;
    this.flush();
    // Readers disagree on files with no record batch at all; one empty batch is valid everywhere.
    withPath(FIELD, 'write', this.path, () => {
      if (this.batches === 0) this.writeBatch(0);
      this.writer.close();
      this.sink.flushToFd();
    });
    this.closed = true;
    withPath(FIELD, 'write', this.path, () => closeSync(this.sink.fd));
  }

  /** Releases the file descriptor without finishing the file (the caller deletes it). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.sink.fd);
  }

  private writeBatch(length: number): void {
    const { RecordBatch, Struct, makeData } = this.arrow;
    const children = this.specs.map((spec, i) => this.columnData(spec, i, length));
    const data = makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children });
    this.writer.write(new RecordBatch(this.schema, data));
    this.batches++;
  }

  private columnData(spec: ColumnSpec, i: number, length: number): Data {
    const { makeData } = this.arrow;
    const type = this.schema.fields[i].type as DataType;
    const buffer = this.columns[i];
    if (spec.kind === 'dict') {
      const codes = buffer.subarray(0, length) as Int32Array;
      // The same dictionary instance in every batch, or the file writer sees a replacement dictionary.
      return makeData({ type: type as Dictionary, length, nullCount: 0, data: codes, dictionary: this.dictionaries[i] });
    }
    if (spec.kind === 'bool') return this.boolData(buffer as Uint8Array, i, length);
    if (spec.kind !== 'f64') return makeData({ type: type as Int32, length, nullCount: 0, data: buffer.subarray(0, length) as Int32Array });
    const values = buffer as Float64Array;
    const nullCount = nanCount(values, length);
    if (nullCount === 0) return makeData({ type: type as Float64, length, nullCount: 0, data: values.subarray(0, length) });
    const bitmap = (this.validity[i] as Uint8Array).subarray(0, (length + 7) >> 3);
    nullsToBitmap(values, bitmap, length);
    return makeData({ type: type as Float64, length, nullCount, nullBitmap: bitmap, data: values.subarray(0, length) });
  }

  /** A bool column's bytes (0 or 1 per row) packed into the bitmap Arrow stores booleans as. */
  private boolData(bytes: Uint8Array, i: number, length: number): Data {
    const packed = (this.validity[i] as Uint8Array).subarray(0, (length + 7) >> 3);
    packed.fill(0);
    for (let r = 0; r < length; r++) if (bytes[r] !== 0) packed[r >> 3] |= 1 << (r & 7);
    return this.arrow.makeData({ type: this.schema.fields[i].type as Bool, length, nullCount: 0, data: packed });
  }
}

// The passes over a batch's values are functions of their own: inside columnData, whose branches
// differ from column to column, V8 optimised them on the stack and threw that code away at each
// column kind or null it had not met yet (~20 deoptimisations a run).

/** How many of values[0..length) are NaN (null). */
function nanCount(values: Float64Array, length: number): number {
  let n = 0;
  for (let r = 0; r < length; r++) if (values[r] !== values[r]) n++;
  return n;
}

/** The validity bitmap of values[0..length): a bit per non-NaN value; each NaN becomes 0. */
function nullsToBitmap(values: Float64Array, bitmap: Uint8Array, length: number): void {
  bitmap.fill(0);
  for (let r = 0; r < length; r++) {
    if (values[r] === values[r]) bitmap[r >> 3] |= 1 << (r & 7);
    // NaN payloads vary by how they were produced; a fixed 0 under the null keeps files byte-identical.
    else values[r] = 0;
  }
}

function newBuffer(kind: ColumnSpec['kind'], rows: number): ColumnBuffer {
  if (kind === 'f64') return new Float64Array(rows);
  if (kind === 'u32') return new Uint32Array(rows);
  if (kind === 'bool') return new Uint8Array(rows);
  return new Int32Array(rows);
}

/** Code of `value` in a dict column's fixed dictionary. */
export function dictCode(spec: ColumnSpec, value: string): number {
  if (spec.kind !== 'dict') throw new Error(`column ${spec.name} is not dictionary-encoded`);
  const code = spec.values.indexOf(value);
  if (code < 0) throw new Error(`column ${spec.name}: ${JSON.stringify(value)} is not one of ${spec.values.join(', ')}`);
  return code;
}

function arrowType(arrow: ArrowLib, spec: ColumnSpec, index: number): DataType {
  const { Bool, Dictionary, Float64, Int32, Uint32, Utf8 } = arrow;
  switch (spec.kind) {
    case 'bool':
      return new Bool();
    case 'f64':
      return new Float64();
    case 'i32':
      return new Int32();
    case 'u32':
      return new Uint32();
    case 'dict':
      return new Dictionary(new Utf8(), new Int32(), index, false);
  }
}

function utf8Data(arrow: ArrowLib, values: readonly string[]): Data<Utf8> {
  const { Utf8, makeData } = arrow;
  const encoded = values.map((v) => new TextEncoder().encode(v));
  const valueOffsets = new Int32Array(values.length + 1);
  encoded.forEach((bytes, i) => (valueOffsets[i + 1] = valueOffsets[i] + bytes.length));
  const data = new Uint8Array(valueOffsets[values.length]);
  encoded.forEach((bytes, i) => data.set(bytes, valueOffsets[i]));
  return makeData({ type: new Utf8(), length: values.length, nullCount: 0, valueOffsets, data });
}

type FdSink = InstanceType<ReturnType<typeof loadArrow>['FdSink']>;
let loaded: ReturnType<typeof defineArrow> | undefined;

/** apache-arrow (loaded by the first writer, see io/arrowLib.ts) with the file sink built on it. */
function loadArrow(): ReturnType<typeof defineArrow> {
  return (loaded ??= defineArrow(arrowLib()));
}

function defineArrow(arrow: ArrowLib) {
  /**
   * The writer's byte sink, made synchronous: the library queues chunks for async readers, which
   * would hold the whole file in memory. Small chunks (message headers, padding) are coalesced so
   * a batch costs a few write syscalls rather than dozens.
   */
  class FdSink extends arrow.AsyncByteQueue {
    private readonly staging = new Uint8Array(1 << 20);
    private staged = 0;

    constructor(readonly fd: number) {
      super();
    }

    override write(value: unknown): void {
      const chunk = value as Uint8Array;
      if (chunk.byteLength === 0) return;
      const large = chunk.byteLength >= this.staging.byteLength >> 2;
      if (large || this.staged + chunk.byteLength > this.staging.byteLength) this.flushToFd();
      if (large) return writeFully(this.fd, chunk);
      this.staging.set(chunk, this.staged);
      this.staged += chunk.byteLength;
    }

    flushToFd(): void {
      if (this.staged === 0) return;
      writeFully(this.fd, this.staging.subarray(0, this.staged));
      this.staged = 0;
    }
  }
  return { arrow, FdSink };
}

function writeFully(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.byteLength) offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
}
