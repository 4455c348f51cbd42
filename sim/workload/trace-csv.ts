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
  /** Field path blamed when a column is missing, per role. */
  field: (role: 'arrival' | 'input' | 'output') => string;
}

export function readCsvTrace(text: string, file: string, layout: CsvTraceLayout): TraceTable {
  let builder: TraceBuilder | undefined;
  let arrivalAt = -1;
  let inputAt = -1;
  let outputAt = -1;
  forEachCsvRecord(text, file, (fields, line) => {
    if (builder === undefined) {
      const header = fields.map((name) => name.trim());
      const find = (column: string, role: 'arrival' | 'input' | 'output'): number => {
        const at = header.indexOf(column);
        if (at === -1) throw missingColumnError(layout.field(role), column, file, header);
        return at;
      };
      inputAt = find(layout.input, 'input');
      outputAt = find(layout.output, 'output');
      const arrival = layout.arrival;
      if (arrival !== undefined) {
        arrivalAt = arrival.optional ? header.indexOf(arrival.column) : find(arrival.column, 'arrival');
      }
      const arrivalName = arrivalAt === -1 ? undefined : arrival?.column;
      builder = new TraceBuilder(file, { arrival: arrivalName, input: layout.input, output: layout.output });
      return;
    }
    let arrival_s = 0;
    if (arrivalAt !== -1) {
      const raw = fields[arrivalAt];
      arrival_s = raw === undefined ? NaN : layout.arrival!.toSeconds(raw);
      if (Number.isNaN(arrival_s)) throw rowError(file, line, `${layout.arrival!.column} ${layout.arrival!.problem}`, raw ?? '');
    }
    const input = fields[inputAt];
    const output = fields[outputAt];
    if (input === undefined || output === undefined) {
      throw rowError(file, line, `row has ${fields.length} fields, the header has more (missing ${input === undefined ? layout.input : layout.output})`);
    }
    builder.add(line, arrival_s, input, output);
  });
  if (builder === undefined) throw rowError(file, 1, 'empty file: expected a header line');
  return builder.build();
}
