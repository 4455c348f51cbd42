import { join } from 'node:path';
import { ArrowFileWriter } from './arrowFile.js';
import { EVENT_COLUMNS, newRow, withDictionaries, type EventKind } from './columns.js';
import { rowWriter } from './rowWriter.js';

/** A decision of the traffic rules (later: of the autoscaler), as events.arrow and summary.json list it. */
export interface RunEvent {
  time_s: number;
  kind: EventKind;
  pool: string;
  /** One line: the rule that fired and the figures it compared. */
  detail: string;
  /** The same figures as numbers (summary.json only). */
  data?: Record<string, number | string | null>;
}

/**
 * Events are few (one per canary interval): they are kept and written at the end, when every
 * pool and detail text is known for the file's dictionaries.
 */
export class EventLog {
  readonly events: RunEvent[] = [];

  record(event: RunEvent): void {
    const last = this.events[this.events.length - 1];
    if (last !== undefined && event.time_s < last.time_s) throw new Error(`event at ${event.time_s} s recorded after one at ${last.time_s} s`);
    this.events.push(event);
  }

  /** Writes events.arrow into `dir` (an empty table when nothing happened). */
  write(dir: string): void {
    const unique = (values: string[]): string[] => [...new Set(values)];
    const table = withDictionaries(EVENT_COLUMNS, { pool: unique(this.events.map((e) => e.pool)), detail: unique(this.events.map((e) => e.detail)) });
    // Written once, at the end: one batch of exactly the events there are.
    const writer = new ArrowFileWriter(join(dir, 'events.arrow'), table, Math.max(1, this.events.length));
    try {
      const write = rowWriter(writer, table);
      const row = newRow(table);
      for (const e of this.events) {
        row.time_s = e.time_s;
        row.kind = e.kind;
        row.pool = e.pool;
        row.detail = e.detail;
        write(row);
      }
      writer.close();
    } catch (err) {
      writer.abort();
      throw err;
    }
  }

  /** summary.json `events`. */
  summary(): (Omit<RunEvent, 'data'> & Record<string, unknown>)[] {
    return this.events.map(({ data, ...e }) => ({ ...e, ...(data ?? {}) }));
  }
}
