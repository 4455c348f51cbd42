import type { ArrowFileWriter, ColumnBuffer } from './arrowFile.js';
import { checkGeneratable, type ColumnDef, type RowOf } from './columns.js';

/** Writes one record as the writer's next row (then `endRow`). */
export type RowWriter<R> = (rec: R) => void;

/**
 * The row writer of a column table: column i receives the record's field named like it (null →
 * NaN, which the Arrow writer turns back into null; a dictionary column's string → its code).
 *
 * Generated as straight-line code, one assignment per column with the buffers bound once: it is
 * on the hot path (an iterations row per engine step, millions in a long run), where a loop over
 * the columns reading `rec[name]` makes every read a megamorphic keyed load. This keeps the
 * speed of the hand-written positional writes it replaces while the column order comes from the
 * table alone. Columns are checked first (checkGeneratable), so the generated text cannot be anything else.
 */
export function rowWriter<T extends readonly ColumnDef[]>(w: ArrowFileWriter, table: T): RowWriter<RowOf<T>> {
  if (w.columns.length !== table.length || table.some((c, i) => w.schema.fields[i].name !== c.name)) {
    throw new Error(`${w.path}: the writer's columns are not this table's`);
  }
  const lines = table.map((c, i) => {
    checkGeneratable(c);
    const value = `rec.${c.name}`;
    if (c.kind === 'dict') return `c${i}[r] = code(${i}, ${value});`;
    if (c.kind === 'bool') return `c${i}[r] = ${value} ? 1 : 0;`;
    return c.null_when !== undefined ? `c${i}[r] = ${value} ?? NaN;` : `c${i}[r] = ${value};`;
  });
  const bind = table.map((_, i) => `const c${i} = c[${i}];`).join('\n');
  const source = `${bind}\nreturn function writeRow(rec) {\nconst r = w.row;\n${lines.join('\n')}\nw.endRow();\n};`;
  const codes = table.map((c) => (c.kind === 'dict' ? new Map(c.values.map((v, k) => [v, k])) : undefined));
  // Unlike a silent 0 in an Int32Array, an unknown category is a bug to report.
  const code = (i: number, value: string): number => {
    const k = codes[i]?.get(value);
    if (k === undefined) throw new Error(`column ${table[i].name}: ${JSON.stringify(value)} is not one of ${(codes[i] ? [...codes[i].keys()] : []).join(', ')}`);
    return k;
  };
  const make = new Function('w', 'c', 'code', source) as (w: ArrowFileWriter, c: readonly ColumnBuffer[], code: (i: number, v: string) => number) => RowWriter<RowOf<T>>;
  return make(w, w.columns, code);
}
