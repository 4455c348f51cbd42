import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { run, scenario } from '../helpers.js';
import { loadTrace } from '../../sim/workload/index.js';

/**
 * A second engine reads every output file: nodejs-polars (Rust arrow2/polars IPC reader, not the
 * apache-arrow JS library that writes them). Loaded by require so a machine where its native
 * binding is missing skips with a message instead of failing to import.
 */
type Polars = typeof import('nodejs-polars');
let pl: Polars | undefined;
let why = '';
try {
  pl = createRequire(import.meta.url)('nodejs-polars') as Polars;
} catch (error) {
  why = (error as Error).message.split('\n')[0];
}
if (pl === undefined) console.warn(`skipping the second-reader test: nodejs-polars does not load here (${why})`);

const FILES = ['requests.arrow', 'iterations.arrow', 'events.arrow', 'cluster.arrow'] as const;
const MAGIC = Buffer.from('ARROW1');

describe.skipIf(pl === undefined)('output files read by a second engine (nodejs-polars)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'infersim-readers-'));
  // Two replicas, a rate high enough to queue, and a scripted fault so events.arrow has rows too.
  // (Not run at all when the suite is skipped: describe bodies are still collected.)
  const observed = pl === undefined ? (undefined as never) : run(
    scenario({ cluster: { replicas: 2, router: 'least-outstanding', max_retries: 1 }, faults: [{ at_s: 3, replica: 1, down_s: 2 }], metrics: { uncertainty: false } }),
    dir,
  );

  it('every file is an Arrow IPC *file* (ARROW1 magic at both ends), which pandas, polars and pyarrow.feather read', () => {
    for (const name of FILES) {
      const bytes = readFileSync(join(dir, name));
      expect(bytes.subarray(0, 6).equals(MAGIC), name).toBe(true);
      expect(bytes.subarray(bytes.length - 6).equals(MAGIC), name).toBe(true);
    }
  });

  it.each(FILES)('%s: same row count, columns and values in both readers', (name) => {
    const bytes = readFileSync(join(dir, name));
    const arrow: Table = tableFromIPC(bytes);
    const df = pl!.readIPC(bytes);
    expect(df.height).toBe(arrow.numRows);
    expect(df.columns).toEqual(arrow.schema.fields.map((f) => f.name));
    if (name === 'requests.arrow') expect(df.height).toBe(observed.result.totals.requests);
    expect(df.height).toBeGreaterThan(0);
    // Every numeric column, value for value (nulls as null); string/dictionary columns as strings.
    for (const field of arrow.schema.fields) {
      const fromArrow = Array.from({ length: arrow.numRows }, (_, i) => normalise(arrow.getChild(field.name)!.get(i)));
      const fromPolars = (df.getColumn(field.name).toArray() as unknown[]).map(normalise);
      expect(fromPolars, `${name}.${field.name}`).toEqual(fromArrow);
    }
  });

  it('a few values checked by meaning: polars sees the ids, replicas and TTFTs the run reported', () => {
    const df = pl!.readIPC(readFileSync(join(dir, 'requests.arrow')));
    const ids = (df.getColumn('request_id').toArray() as number[]).slice().sort((x, y) => x - y);
    expect(ids).toEqual(Array.from({ length: observed.result.totals.requests }, (_, i) => i));
    const replicas = new Set(df.getColumn('replica').toArray() as number[]);
    expect(replicas).toEqual(new Set([0, 1]));
    const finished = df.filter(pl!.col('status').eq(pl!.lit('finished')));
    expect(finished.height).toBe(observed.result.totals.finished);
    const byId = new Map(observed.outcomes.map((o) => [o.request_id, o]));
    const rows = finished.select('request_id', 'arrival_s', 'ttft_s').toRecords() as { request_id: number; arrival_s: number; ttft_s: number }[];
    for (const row of rows.slice(0, 20)) {
      const o = byId.get(row.request_id)!;
      expect(row.arrival_s).toBe(o.arrival_s);
      expect(row.ttft_s).toBeCloseTo(o.token_times_s[0] - o.arrival_s, 12);
    }
  });

  it('requests.arrow replays as a trace (format arrow): the same requests arrive at the same times', () => {
    const table = loadTrace({ path: join(dir, 'requests.arrow'), format: 'arrow' });
    const outcomes = observed.outcomes.slice().sort((x, y) => x.arrival_s - y.arrival_s || x.request_id - y.request_id);
    expect(table.length).toBe(outcomes.length);
    expect(Array.from(table.arrival_s!)).toEqual(outcomes.map((o) => o.arrival_s));
    expect(Array.from(table.input_tokens)).toEqual(outcomes.map((o) => o.input_tokens));
  });
});

/** A cell as both engines can agree on: bigint → number, a missing value → null (dictionary cells are their strings in both). */
function normalise(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint') return Number(value);
  return value;
}
