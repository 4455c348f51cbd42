import { readFileSync } from 'node:fs';
import type { Data, RecordBatch } from 'apache-arrow';
import { InfersimError } from '../errors.js';
import { withPath } from '../fsErrors.js';
import { arrowLib } from '../io/arrowLib.js';

type ArrowLib = typeof import('apache-arrow');

/** One record batch of an output file, its columns as plain numbers (null → NaN). */
export interface Batch {
  readonly length: number;
  has(name: string): boolean;
  /** Numeric column as float64; NaN where null. Throws naming the file if the column is missing. */
  num(name: string): Float64Array;
  /** A bool column as 0/1 (null → 0); undefined when the file has no such column. */
  flag(name: string): Uint8Array | undefined;
  /** A dictionary (categorical) column: the code per row and the dictionary's strings. */
  dict(name: string): { codes: Int32Array; values: string[] } | undefined;
}


/**
 * Calls `each` per record batch of the Arrow IPC file at `path`, in order: memory holds the
 * file's bytes and one batch's converted columns at a time.
 */
export function forEachBatch(field: string, path: string, each: (b: Batch) => void): void {
  const bytes = withPath(field, 'read', path, () => readFileSync(path));
  let table: ReturnType<ArrowLib['tableFromIPC']>;
  try {
    table = arrowLib().tableFromIPC(bytes);
  } catch (err) {
    throw new InfersimError(`${field}: ${path} is not a readable Arrow IPC file (${(err as Error).message}); write it again with infersim run`);
  }
  for (const batch of table.batches) each(wrap(path, batch));
}

function wrap(path: string, batch: RecordBatch): Batch {
  const child = (name: string): Data => {
    const v = batch.getChild(name);
    if (v === null) throw new InfersimError(`report: ${path} has no column ${name}: it is not the file infersim run writes under that name`);
    return v.data[0] as Data;
  };
  return {
    length: batch.numRows,
    has: (name) => batch.getChild(name) !== null,
    num: (name) => numbers(child(name)),
    flag: (name) => (batch.getChild(name) === null ? undefined : bits(child(name))),
    dict: (name) => {
      if (batch.getChild(name) === null) return undefined;
      const d = child(name);
      const dictionary = d.dictionary;
      const values = dictionary === undefined ? [] : (dictionary.toArray() as unknown as string[]).map(String);
      return { codes: Int32Array.from(d.values as Int32Array), values };
    },
  };
}

function numbers(d: Data): Float64Array {
  const raw = d.values as ArrayLike<number | bigint>;
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(raw[i]);
  const bitmap = d.nullBitmap;
  if (d.nullCount > 0 && bitmap !== undefined && bitmap.length > 0) {
    for (let i = 0; i < d.length; i++) {
      const j = d.offset + i;
      if ((bitmap[j >> 3]! & (1 << (j & 7))) === 0) out[i] = NaN;
    }
  }
  return out;
}

function bits(d: Data): Uint8Array {
  const packed = d.values as Uint8Array;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const j = d.offset + i;
    out[i] = (packed[j >> 3]! >> (j & 7)) & 1;
  }
  return out;
}
