import { basename } from 'node:path';
import type { Table } from 'apache-arrow';
import { fieldError, formatValue, InfersimError } from '../errors.js';
import { arrowLib } from '../io/arrowLib.js';
import { readBytes } from '../io/readText.js';
import type { TraceColumns } from '../scenario/types.js';
import { missingColumnError } from './fields.js';
import { TraceBuilder } from './trace-builder.js';
import type { TraceTable } from './types.js';

/** What a run writes to requests.arrow, so a previous run's requests replay with no `columns`. */
export const ARROW_DEFAULT_COLUMNS: TraceColumns = { arrival: 'arrival_s', input_tokens: 'input_tokens', output_tokens: 'output_tokens' };

const UNIT_DIVISOR = { s: 1, ms: 1e3, us: 1e6 } as const;

/**
 * An Arrow IPC file (or stream) as a trace: a previous run's requests.arrow, or any table with an
 * arrival column and two token-count columns (integer or float columns holding whole numbers; int64
 * too). `columns` names them as for csv/jsonl; default arrival_s, input_tokens, output_tokens in
 * seconds. Rows are numbered from 1 in errors ("requests.arrow row 17"), across record batches.
 */
export function readArrowTrace(file: string, columns: TraceColumns | undefined): TraceTable {
  const names = columns ?? ARROW_DEFAULT_COLUMNS;
  const bytes = readBytes(file, 'workload.trace.path');
  let table: Table;
  try {
    table = arrowLib().tableFromIPC(bytes);
  } catch (error) {
    throw fieldError('workload.trace.path', `not an Arrow IPC file (${(error as Error).message})`, file);
  }
  const present = table.schema.fields.map((f) => f.name);
  const field = (role: string): string => (columns === undefined ? 'workload.trace.path (format arrow)' : `workload.trace.columns.${role}`);
  const column = (name: string | undefined, role: string) => {
    if (name === undefined) return undefined;
    const vector = table.getChild(name);
    if (vector === null) throw missingColumnError(field(role), name, file, present);
    return vector;
  };
  const arrival = column(names.arrival, 'arrival');
  const input = column(names.input_tokens, 'input_tokens')!;
  const output = column(names.output_tokens, 'output_tokens')!;
  const model = column(names.model, 'model');
  const user = column(names.user, 'user');
  const adapter = column(names.adapter, 'adapter');
  // A run's requests.arrow holds the mirrored copies of traffic.shadow as rows of their own: replaying
  // them would send each mirrored request twice, so with the default columns they are left out.
  const shadow = columns === undefined ? table.getChild('shadow') : null;
  let dropped_rows = 0;
  const divisor = UNIT_DIVISOR[names.arrival_unit ?? 's'];
  const where = (row: number): string => `${basename(file)} row ${row}`;
  const builder = new TraceBuilder(
    file,
    { arrival: names.arrival, input: names.input_tokens, output: names.output_tokens, model: names.model, user: names.user, adapter: names.adapter },
    false,
    where,
  );
  for (let i = 0; i < table.numRows; i++) {
    const row = i + 1;
    if (shadow !== null && shadow.get(i) === true) {
      dropped_rows++;
      continue;
    }
    let arrival_s = 0;
    if (arrival !== undefined) {
      const raw = plain(arrival.get(i));
      arrival_s = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? raw / divisor : NaN;
      if (Number.isNaN(arrival_s)) {
        throw new InfersimError(`${where(row)}: ${names.arrival} must be a non-negative number (${names.arrival_unit ?? 's'}), got ${formatValue(raw)}`);
      }
    }
    const rawAdapter = adapter === undefined ? undefined : plain(adapter.get(i));
    builder.add(
      row,
      arrival_s,
      plain(input.get(i)),
      plain(output.get(i)),
      undefined,
      model === undefined ? undefined : plain(model.get(i)),
      user === undefined ? undefined : plain(user.get(i)),
      rawAdapter === null ? undefined : rawAdapter,
    );
  }
  const built = builder.build();
  return dropped_rows === 0 ? built : { ...built, dropped_rows };
}

/** Arrow cells as the builder's checks expect: int64 (bigint) as a number when exact, null as null. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : String(value);
  return value;
}
