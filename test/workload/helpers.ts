import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestStream } from '../../sim/workload/request.js';
import type { TraceRequest } from '../../sim/workload/types.js';

/** Writes `content` to a fresh temp folder under `name` (the name shows up in row errors). */
export function tempFile(name: string, content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'infersim-workload-')), name);
  writeFileSync(file, content);
  return file;
}

/** Every request an open-loop stream yields. */
export function drain(stream: RequestStream): TraceRequest[] {
  const out: TraceRequest[] = [];
  for (let r = stream.next(); r !== undefined; r = stream.next()) out.push(r);
  return out;
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

export function cv(values: ArrayLike<number>): number {
  const m = mean(values);
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - m) ** 2;
  return Math.sqrt(squares / (values.length - 1)) / m;
}

/** The message of the error `fn` throws (fails the test if it throws nothing). */
export function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** The shared real traces beside the checkout (`../shared/data/traces` from the repo root). */
export const TRACES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/traces');
