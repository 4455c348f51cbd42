import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ArrowFileWriter, dictCode, type ColumnSpec } from '../../sim/metrics/arrowFile.js';
import { tempDirs } from './helpers.js';

const SPECS: readonly ColumnSpec[] = [
  { name: 'x_s', kind: 'f64' },
  { name: 'n', kind: 'i32' },
  { name: 'u', kind: 'u32' },
  { name: 'status', kind: 'dict', values: ['finished', 'rejected', 'timed_out'] },
];

function writeRows(path: string, rows: number, batchRows: number): void {
  const w = new ArrowFileWriter(path, SPECS, batchRows);
  const [x, n, u, status] = w.columns;
  for (let i = 0; i < rows; i++) {
    x[w.row] = i % 3 === 0 ? NaN : i / 4;
    n[w.row] = -i;
    u[w.row] = 3_000_000_000 + i;
    status[w.row] = i % 3;
    w.endRow();
  }
  w.close();
}

describe('ArrowFileWriter', () => {
  const tmp = tempDirs();

  it('writes typed columns that read back with nulls and dictionary strings', () => {
    const path = join(tmp(), 'a.arrow');
    writeRows(path, 7, 3);
    const t = tableFromIPC(readFileSync(path));
    expect(t.numRows).toBe(7);
    expect(t.batches.length).toBe(3);
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`)).toEqual([
      'x_s:Float64:true',
      'n:Int32:false',
      'u:Uint32:false',
      'status:Dictionary<Int32, Utf8>:false',
    ]);
    const x = t.getChild('x_s')!;
    expect([x.get(0), x.get(1), x.get(3), x.get(5)]).toEqual([null, 0.25, null, 1.25]);
    expect(x.nullCount).toBe(3);
    expect(t.getChild('n')!.get(6)).toBe(-6);
    expect(t.getChild('u')!.get(4)).toBe(3_000_000_004);
    expect(Array.from({ length: 4 }, (_, i) => t.getChild('status')!.get(i))).toEqual(['finished', 'rejected', 'timed_out', 'finished']);
  });

  it('writes a valid file with the schema and no rows for an empty table', () => {
    const path = join(tmp(), 'empty.arrow');
    writeRows(path, 0, 4);
    const t = tableFromIPC(readFileSync(path));
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['x_s', 'n', 'u', 'status']);
    expect(String(t.schema.fields[3].type)).toBe('Dictionary<Int32, Utf8>');
  });

  it('produces byte-identical files for the same rows, even across other writers in the process', () => {
    const dir = tmp();
    writeRows(join(dir, 'a.arrow'), 1000, 64);
    new ArrowFileWriter(join(dir, 'other.arrow'), SPECS).close();
    writeRows(join(dir, 'b.arrow'), 1000, 64);
    expect(readFileSync(join(dir, 'a.arrow')).equals(readFileSync(join(dir, 'b.arrow')))).toBe(true);
  });

  it('writes a null as the same bytes whatever the NaN payload behind it', () => {
    const dir = tmp();
    const oddNaN = new Float64Array(new BigUint64Array([0x7ff800000000beefn]).buffer)[0];
    const paths = [NaN, oddNaN].map((nan, i) => {
      const path = join(dir, `${i}.arrow`);
      const w = new ArrowFileWriter(path, SPECS.slice(0, 1));
      w.columns[0][w.row] = nan;
      w.endRow();
      w.close();
      return path;
    });
    expect(readFileSync(paths[0]).equals(readFileSync(paths[1]))).toBe(true);
  });

  it('streams 200k rows in bounded batches and reads all of them back', () => {
    const path = join(tmp(), 'big.arrow');
    writeRows(path, 200_000, 65_536);
    const t = tableFromIPC(readFileSync(path));
    expect(t.numRows).toBe(200_000);
    expect(t.batches.map((b) => b.numRows)).toEqual([65_536, 65_536, 65_536, 3_392]);
    const n = t.getChild('n')!;
    expect(n.get(199_999)).toBe(-199_999);
    expect(t.getChild('x_s')!.nullCount).toBe(Math.ceil(200_000 / 3));
  });

  it('maps dictionary values to codes and rejects unknown ones', () => {
    expect(dictCode(SPECS[3], 'timed_out')).toBe(2);
    expect(() => dictCode(SPECS[3], 'lost')).toThrow(/not one of/);
    expect(() => dictCode(SPECS[0], 'x')).toThrow(/not dictionary-encoded/);
  });
});
