import { rowError } from '../errors.js';
import { forEachCsvRecord } from '../io/csv.js';
import { missingColumnError } from './fields.js';
import { TraceBuilder } from './trace-builder.js';
import type { TraceTable } from './types.js';

/** Where a CSV trace keeps each field, and what a bad value in it means. */
export interface CsvTraceLayout {
  input: string;
  output: string;
  arrival?: {
    column: string;
    /** A vidur stats file has no arrived_at: then the trace simply has no timestamps. */
    optional: boolean;
    /** Seconds, or NaN when the cell is not a valid time. May keep state (Azure differences against row 1). */
    toSeconds: (raw: string) => number;
    /** e.g. "must be a non-negative number of seconds". */
    problem: string;
  };
  /** Columns of each request's model and user id (generic csv only). */
  model?: string;
  user?: string;
  /** Column of each request's LoRA adapter name (generic csv only; an empty cell: the base model). */
  adapter?: string;
  /** Field path blamed when a column is missing, per role. */
  field: (role: Role) => string;
  /**
   * Per-row checks on further columns (a named format's own): a row any of them declines is left out
   * and counted in the table's `dropped_rows`; a check may also throw a row error.
   */
  filters?: { column: string; keep: (raw: string | undefined, line: number) => boolean }[];
  /** Turns the model column's cell into the request's model (a named format's mapping); may throw a row error. */
  modelOf?: (raw: string | undefined, line: number) => string;
}

type Role = 'arrival' | 'input' | 'output' | 'model' | 'user' | 'adapter' | 'filter';

/** Positions of the layout's columns in the header; -1 for a column the trace does not have. */
interface Positions {
  arrival: number;
  input: number;
  output: number;
  model: number;
  user: number;
  adapter: number;
}

export function readCsvTrace(text: string, file: string, layout: CsvTraceLayout): TraceTable {
  let builder: TraceBuilder | undefined;
  let at: Positions = { arrival: -1, input: -1, output: -1, model: -1, user: -1, adapter: -1 };
  let filterAt: number[] = [];
  let dropped_rows = 0;
  forEachCsvRecord(text, file, (fields, line) => {
    if (builder === undefined) {
      at = headerPositions(fields, file, layout);
      const header = fields.map((name) => name.trim());
      filterAt = (layout.filters ?? []).map(({ column }) => {
        const i = header.indexOf(column);
        if (i === -1) throw missingColumnError(layout.field('filter'), column, file, header);
        return i;
      });
      const arrivalName = at.arrival === -1 ? undefined : layout.arrival?.column;
      builder = new TraceBuilder(file, { arrival: arrivalName, input: layout.input, output: layout.output, model: layout.model, user: layout.user, adapter: layout.adapter });
      return;
    }
    if (layout.filters !== undefined && !layout.filters.every((filter, i) => filter.keep(fields[filterAt[i]], line))) {
      dropped_rows++;
      return;
    }
    let arrival_s = 0;
    if (at.arrival !== -1) {
      const raw = fields[at.arrival];
      arrival_s = raw === undefined ? NaN : layout.arrival!.toSeconds(raw);
      if (Number.isNaN(arrival_s)) throw rowError(file, line, `${layout.arrival!.column} ${layout.arrival!.problem}`, raw ?? '');
    }
    const input = fields[at.input];
    const output = fields[at.output];
    if (input === undefined || output === undefined) {
      throw rowError(file, line, `row has ${fields.length} fields, the header has more (missing ${input === undefined ? layout.input : layout.output})`);
    }
    // A short row reaches the builder as a missing value, which it refuses naming the column.
    const model = at.model === -1 ? undefined : layout.modelOf !== undefined ? layout.modelOf(fields[at.model], line) : fields[at.model];
    const user = at.user === -1 ? undefined : fields[at.user];
    // A short row's missing adapter cell reads as empty: the base model.
    const adapter = at.adapter === -1 ? undefined : fields[at.adapter];
    builder.add(line, arrival_s, input, output, undefined, model, user, adapter);
  });
  if (builder === undefined) throw rowError(file, 1, 'empty file: expected a header line');
  const table = builder.build();
  return layout.filters === undefined ? table : { ...table, dropped_rows };
}

function headerPositions(fields: string[], file: string, layout: CsvTraceLayout): Positions {
  const header = fields.map((name) => name.trim());
  const find = (column: string, role: Role): number => {
    const at = header.indexOf(column);
    if (at === -1) throw missingColumnError(layout.field(role), column, file, header);
    return at;
  };
  const arrival = layout.arrival;
  return {
    input: find(layout.input, 'input'),
    output: find(layout.output, 'output'),
    arrival: arrival === undefined ? -1 : arrival.optional ? header.indexOf(arrival.column) : find(arrival.column, 'arrival'),
    model: layout.model === undefined ? -1 : find(layout.model, 'model'),
    user: layout.user === undefined ? -1 : find(layout.user, 'user'),
    adapter: layout.adapter === undefined ? -1 : find(layout.adapter, 'adapter'),
  };
}
