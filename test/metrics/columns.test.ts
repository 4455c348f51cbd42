import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ArrowFileWriter } from '../../sim/metrics/arrowFile.js';
import { columnsMarkdown, ITERATION_COLUMNS, newRow, REQUEST_COLUMNS, TOKEN_COLUMNS, EVENT_COLUMNS, CLUSTER_COLUMNS, withDictionaries, type ColumnDef } from '../../sim/metrics/columns.js';
import { rowWriter } from '../../sim/metrics/rowWriter.js';
import { tempDirs } from './helpers.js';

const FILES: [string, readonly ColumnDef[]][] = [
  ['requests.arrow', REQUEST_COLUMNS],
  ['iterations.arrow', ITERATION_COLUMNS],
  ['tokens.arrow', TOKEN_COLUMNS],
  ['events.arrow', EVENT_COLUMNS],
  ['cluster.arrow', CLUSTER_COLUMNS],
];

/** A table as a run writes it: the per-run dictionaries (pools, models, event details) filled. */
const filled = (table: readonly ColumnDef[]): readonly ColumnDef[] =>
  withDictionaries(table, { pool: ['', 'h100', 'a100'], model: ['', 'llama-3.1-8b', 'llama-3.1-70b'], detail: ['held', 'stepped up'] });

/** The markdown table that follows the README paragraph opening with `` `file` — ``. */
function readmeTable(file: string): string[] {
  const lines = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith(`\`${file}\``) && l.includes(' — '));
  expect(at, `README has no paragraph opening with \`${file}\` —`).toBeGreaterThanOrEqual(0);
  const start = lines.findIndex((l, i) => i > at && l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  return lines.slice(start, end);
}

describe('column tables', () => {
  // A column added, moved or retyped in the table must show in the README users read.
  it.each(FILES)('%s: the README lists exactly the table\'s columns, in order, with type, unit and meaning', (file, table) => {
    expect(readmeTable(file)).toEqual(columnsMarkdown(table));
  });

  it.each(FILES)('%s: names are unique identifiers, and times carry _s', (_file, table) => {
    const names = table.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const c of table) {
      expect(c.name).toMatch(/^[a-z_][a-z0-9_]*$/);
      expect(c.unit === 's').toBe(c.name.endsWith('_s'));
      expect(c.null_when === undefined || c.kind === 'f64', `${c.name}: only float64 columns carry nulls`).toBe(true);
    }
  });
});

describe('rowWriter', () => {
  const tmp = tempDirs();

  // Every field a different value: a writer that put any field in another column, or skipped one, reads back wrong.
  it.each(FILES)('%s: each record field lands in the column of its name, nulls as null', (file, declared) => {
    const table = filled(declared);
    const path = join(tmp(), file);
    const w = new ArrowFileWriter(path, table, 4);
    const write = rowWriter(w, table);
    const rows = [0, 1, 2, 3, 4].map((k) => {
      const rec = newRow(table) as Record<string, unknown>;
      table.forEach((c, i) => {
        if (c.kind === 'dict') rec[c.name] = c.values[(i + k) % c.values.length];
        else if (c.kind === 'bool') rec[c.name] = (i + k) % 2 === 1;
        else if (c.null_when !== undefined && k === 2) rec[c.name] = null;
        else rec[c.name] = c.kind === 'f64' ? 100 * k + i + 0.25 : 100 * k + i;
      });
      return rec;
    });
    // One reused record, as the engine does: the writer keeps values, not the record.
    const reused = newRow(table) as Record<string, unknown>;
    for (const rec of rows) write(Object.assign(reused, rec) as never);
    w.close();
    const t = tableFromIPC(readFileSync(path));
    expect(t.schema.fields.map((f) => f.name)).toEqual(table.map((c) => c.name));
    expect(t.toArray().map((r) => r.toJSON())).toEqual(rows);
  });

  it('refuses a category outside the dictionary instead of writing code 0', () => {
    const w = new ArrowFileWriter(join(tmp(), 'r.arrow'), REQUEST_COLUMNS);
    const rec = newRow(REQUEST_COLUMNS);
    (rec as { status: string }).status = 'lost';
    expect(() => rowWriter(w, REQUEST_COLUMNS)(rec)).toThrow(/status: "lost" is not one of finished, rejected, timed_out/);
    w.abort();
  });

  // RowOf lets a nullable column take null, but only f64 buffers have a null (NaN): an int32 would store 0.
  it.each([
    { name: 'queue_len', kind: 'i32', unit: 'count', meaning: 'm', null_when: 'never' },
    { name: 'state', kind: 'dict', values: ['a', 'b'], unit: '', meaning: 'm', null_when: 'never' },
  ] as const satisfies readonly ColumnDef[])('refuses a nullable $kind column when generating the writer, naming it', (col) => {
    const table = [TOKEN_COLUMNS[0], col] as const satisfies readonly ColumnDef[];
    const w = new ArrowFileWriter(join(tmp(), 'n.arrow'), table);
    expect(() => rowWriter(w, table)).toThrow(new RegExp(`column ${col.name}: only f64 columns can be null`));
    expect(() => newRow(table)).toThrow(new RegExp(`column ${col.name}: only f64`));
    w.abort();
  });

  it('refuses a column name that is not an identifier', () => {
    const table = [{ name: 'a-b', kind: 'i32', unit: '', meaning: 'm' }] as const satisfies readonly ColumnDef[];
    const w = new ArrowFileWriter(join(tmp(), 'i.arrow'), table);
    expect(() => rowWriter(w, table)).toThrow(/column name "a-b" is not an identifier/);
    w.abort();
  });

  it("refuses a writer built from another table's columns", () => {
    const w = new ArrowFileWriter(join(tmp(), 't.arrow'), TOKEN_COLUMNS);
    expect(() => rowWriter(w, ITERATION_COLUMNS)).toThrow(/not this table's/);
    w.abort();
  });
});
