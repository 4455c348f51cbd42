import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { fieldError } from '../errors.js';
import type { TraceSpec } from '../scenario/types.js';
import { readText } from '../io/readText.js';
import { readArrowTrace } from './trace-arrow.js';
import { readTraceFormat } from './trace-formats.js';
import { TraceBuilder } from './trace-builder.js';
import { isStreamedFormat, openAzure2024 } from './trace-stream.js';
import type { TraceTable } from './types.js';

export interface TraceLimits {
  /** Keep the first N rows in arrival order. */
  num_requests?: number;
  /** Keep rows arriving before this time (after rebasing and speedup). Ignored for traces without timestamps. */
  duration_s?: number;
}

/**
 * Reads a trace into columns in arrival order (stable sort when the file is not sorted).
 * Only azure-2023 is rebased to start at t=0, since its timestamps are wall-clock dates; other
 * formats already count from their own origin and keep it. `speedup` divides times.
 */
export function loadTrace(spec: TraceSpec, limits: TraceLimits = {}): TraceTable {
  if (isStreamedFormat(spec.format)) return collectStreamed(spec, limits);
  const key = cacheKey(spec, limits);
  if (key !== undefined && lastRead?.key === key) return lastRead.table;
  const table = readTable(spec, limits);
  if (key !== undefined) lastRead = { key, table };
  return table;
}

/**
 * The last table read and what it was read from. The band's two re-runs and a sweep's points read
 * the same file again (~15 ms for the Azure trace each time); one entry, so a sweep over several
 * traces keeps at most one. Callers only read a table.
 */
let lastRead: { key: string; table: TraceTable } | undefined;

/** The spec, the limits and the file's identity (size, modification time, inode); undefined if the file cannot be stat'ed (the read then says why). */
function cacheKey(spec: TraceSpec, limits: TraceLimits): string | undefined {
  try {
    const st = statSync(spec.path);
    return JSON.stringify([spec, limits.num_requests ?? null, limits.duration_s ?? null, st.size, st.mtimeMs, st.ino, st.dev]);
  } catch {
    return undefined;
  }
}

function readTable(spec: TraceSpec, limits: TraceLimits): TraceTable {
  let table = spec.format === 'arrow' ? readArrowTrace(spec.path, spec.columns) : readTraceFormat(spec, readText(spec.path, 'workload.trace.path'));
  if (table.length === 0) throw fieldError('workload.trace.path', `${basename(spec.path)} has no data rows`);
  const times = table.arrival_s;
  if (times !== undefined) {
    if (!isSorted(times)) table = permuted(table, arrivalOrder(times));
    const sorted = table.arrival_s!;
    const origin = spec.format === 'azure-2023' ? sorted[0] : 0;
    const speedup = spec.speedup ?? 1;
    if (origin !== 0 || speedup !== 1) for (let i = 0; i < sorted.length; i++) sorted[i] = (sorted[i] - origin) / speedup;
  }
  let keep = table.length;
  if (limits.num_requests !== undefined) keep = Math.min(keep, limits.num_requests);
  if (limits.duration_s !== undefined && table.arrival_s !== undefined) {
    keep = Math.min(keep, countBefore(table.arrival_s, limits.duration_s));
  }
  return keep === table.length ? table : truncated(table, keep);
}

/**
 * A streamed format (azure-2024) as a table, for callers that want one (tools, tests): rows are read
 * only up to the limits, so `num_requests` or `duration_s` bound the memory; the simulator itself
 * pulls the rows lazily instead (index.ts). Times come rebased and ÷ speedup from the reader.
 */
function collectStreamed(spec: TraceSpec, limits: TraceLimits): TraceTable {
  const rows = openAzure2024(spec);
  const builder = new TraceBuilder(spec.path, { arrival: 'TIMESTAMP', input: 'ContextTokens', output: 'GeneratedTokens' });
  const max = limits.num_requests ?? Infinity;
  let n = 0;
  // The limit is checked before a row is read: a bad row past num_requests is never parsed.
  for (let row = n < max ? rows.next() : undefined; row !== undefined; row = n < max ? rows.next() : undefined) {
    if (limits.duration_s !== undefined && !(row.arrival_s < limits.duration_s)) break;
    builder.add(row.line, row.arrival_s, row.input_tokens, row.output_tokens);
    n++;
  }
  rows.close();
  const table = builder.build();
  return { ...table, zero_output_rows: rows.zero_output_rows };
}

function isSorted(times: Float64Array): boolean {
  for (let i = 1; i < times.length; i++) if (times[i] < times[i - 1]) return false;
  return true;
}

/** Row indices by time; equal times keep file order. */
function arrivalOrder(times: Float64Array): number[] {
  return Array.from(times, (_, i) => i).sort((a, b) => times[a] - times[b] || a - b);
}

function permuted(table: TraceTable, order: number[]): TraceTable {
  const pick = <T extends Float64Array | Int32Array>(column: T): T => column.map((_, i) => column[order[i]]) as T;
  return {
    ...table,
    arrival_s: table.arrival_s && pick(table.arrival_s),
    input_tokens: pick(table.input_tokens),
    output_tokens: pick(table.output_tokens),
    hash_ids: table.hash_ids && order.map((i) => table.hash_ids![i]),
    ...(table.model && { model: pick(table.model) }),
    ...(table.user && { user: pick(table.user) }),
    ...(table.adapter && { adapter: pick(table.adapter) }),
  };
}

/** Rows with time < limit, in a sorted column (binary search). */
function countBefore(times: Float64Array, limit_s: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < limit_s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function truncated(table: TraceTable, n: number): TraceTable {
  return {
    ...table,
    length: n,
    arrival_s: table.arrival_s?.subarray(0, n),
    input_tokens: table.input_tokens.subarray(0, n),
    output_tokens: table.output_tokens.subarray(0, n),
    hash_ids: table.hash_ids?.slice(0, n),
    ...(table.model && { model: table.model.subarray(0, n) }),
    ...(table.user && { user: table.user.subarray(0, n) }),
    ...(table.adapter && { adapter: table.adapter.subarray(0, n) }),
  };
}
