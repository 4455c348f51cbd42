import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { tableFromIPC as flechetteFromIPC } from '@uwdata/flechette';
import { describe, expect, it } from 'vitest';
import { run, scenario } from '../helpers.js';
import { loadTrace } from '../../sim/workload/index.js';

/**
 * A second engine reads every output file: flechette (@uwdata/flechette, UW Interactive Data Lab's
 * Arrow IPC decoder, written independently of the apache-arrow JS library that writes them).
 * nodejs-polars was tried first: its native packages for other platforms are missing from the
 * registry at the last version that runs on Node 20, so `npm ci` cannot install it from a lock.
 */
const FILES = ['requests.arrow', 'iterations.arrow', 'events.arrow', 'cluster.arrow'] as const;
const MAGIC = Buffer.from('ARROW1');

describe('output files read by a second engine (flechette)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'infersim-readers-'));
  // Two replicas, a rate high enough to queue, and a scripted fault so events.arrow has rows too.
  const observed = run(
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
    const df = flechetteFromIPC(bytes);
    expect(df.numRows).toBe(arrow.numRows);
    expect(df.schema.fields.map((f) => f.name)).toEqual(arrow.schema.fields.map((f) => f.name));
    if (name === 'requests.arrow') expect(df.numRows).toBe(observed.result.totals.requests);
    expect(df.numRows).toBeGreaterThan(0);
    // Every numeric column, value for value (nulls as null); string/dictionary columns as strings.
    for (const field of arrow.schema.fields) {
      const fromArrow = Array.from({ length: arrow.numRows }, (_, i) => normalise(arrow.getChild(field.name)!.get(i)));
      const fromFlechette = Array.from(df.getChild(field.name).toArray() as ArrayLike<unknown>, normalise);
      expect(fromFlechette, `${name}.${field.name}`).toEqual(fromArrow);
    }
  });

  it('a few values checked by meaning: the second reader sees the ids, replicas and TTFTs the run reported', () => {
    const df = flechetteFromIPC(readFileSync(join(dir, 'requests.arrow')));
    const col = (name: string) => Array.from(df.getChild(name).toArray() as ArrayLike<unknown>, normalise);
    const ids = (col('request_id') as number[]).slice().sort((x, y) => x - y);
    expect(ids).toEqual(Array.from({ length: observed.result.totals.requests }, (_, i) => i));
    expect(new Set(col('replica'))).toEqual(new Set([0, 1]));
    const status = col('status');
    const requestIds = col('request_id') as number[];
    const arrivals = col('arrival_s') as number[];
    const ttfts = col('ttft_s') as number[];
    const finished = status.map((s, i) => (s === 'finished' ? i : -1)).filter((i) => i >= 0);
    expect(finished.length).toBe(observed.result.totals.finished);
    const byId = new Map(observed.outcomes.map((o) => [o.request_id, o]));
    for (const i of finished.slice(0, 20)) {
      const o = byId.get(requestIds[i])!;
      expect(arrivals[i]).toBe(o.arrival_s);
      expect(ttfts[i]).toBeCloseTo(o.token_times_s[0] - o.arrival_s, 12);
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
