import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { oneLine } from '../../sim/cli/guarded.js';
import { InfersimError } from '../../sim/errors.js';
import { FileSystemError, makeFolders, recoverPublish } from '../../sim/fsErrors.js';
import { ArrowFileWriter } from '../../sim/metrics/arrowFile.js';
import { REQUEST_COLUMNS } from '../../sim/metrics/columns.js';
import { publish } from '../../sim/metrics/outputDir.js';
import { MetricsSink } from '../../sim/metrics/sink.js';
import { iteration, outcome, tempDirs } from './helpers.js';

const CTX = { gpus: 1, usd_per_gpu_hour: 2 };

function sinkAt(dir: string | undefined, writeTokens = false): MetricsSink {
  return new MetricsSink({ dir, writeTokens, replicas: 2, warmup_s: 0, slo: { ttft_ms: 600 } });
}

/** The same small run every time: three requests (one rejected before routing) and three iterations. */
function feed(sink: MetricsSink): void {
  sink.recordIteration(iteration({ replica: 0, start_s: 1.2, end_s: 1.5, prefill_seqs: 1, prefill_tokens: 100, kv_blocks_used: 7, kv_blocks_total: 100, running: 1 }));
  sink.recordIteration(iteration({ replica: 1, start_s: 1.2, end_s: 1.4, prefill_seqs: 1, prefill_tokens: 50, kv_blocks_used: 3, kv_blocks_total: 100, waiting: 2, running: 1, kv_blocks_cached: 5, kv_blocks_swapped: 2, kv_slots_unused: 13, swap_out_blocks: 2, kv_blocks_evicted: 1 }));
  sink.recordIteration({
    replica: 0, start_s: 1.5, end_s: 1.6, prefill_seqs: 0, decode_seqs: 1, prefill_tokens: 0, decode_tokens: 1,
    kv_blocks_used: 8, kv_blocks_total: 100, waiting: 0, running: 1, swapped: 0, preempted: 1,
    kv_blocks_cached: 4, kv_blocks_swapped: 3, kv_slots_unused: 9, swap_in_blocks: 1, swap_out_blocks: 0, kv_blocks_evicted: 2,
  });
  sink.recordRequest(outcome({ request_id: 0, preemptions: 1 }));
  sink.recordRequest(outcome({ request_id: 1, replica: 1, token_times_s: [1.4], output_tokens: 1, finish_s: 1.4, priority: 2, samples: 3, sequences: 5 }));
  sink.recordRequest(outcome({ request_id: 2, replica: -1, status: 'rejected', token_times_s: [], output_tokens: 0, first_scheduled_s: NaN, finish_s: 1.0 }));
}

const read = (path: string) => tableFromIPC(readFileSync(path));

describe('MetricsSink files', () => {
  const tmp = tempDirs();

  it('writes requests.arrow with the contract columns, types, values and nulls', () => {
    const dir = join(tmp(), 'out');
    const sink = sinkAt(dir);
    feed(sink);
    sink.finish(CTX);
    expect(readdirSync(dir).sort()).toEqual(['cluster.arrow', 'events.arrow', 'iterations.arrow', 'requests.arrow', 'summary.json']);
    const t = read(join(dir, 'requests.arrow'));
    expect(t.numRows).toBe(3);
    const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({
      request_id: 'Int32', replica: 'Int32', ttft_s: 'Float64', tpot_s: 'Float64', status: 'Dictionary<Int32, Utf8>', priority: 'Int32', samples: 'Int32',
    });
    // New columns are appended: status keeps its place, the cluster's columns come last.
    expect(t.schema.fields.map((f) => f.name).slice(16)).toEqual(['preemptions', 'status', 'priority', 'samples', 'sequences', 'pool', 'model', 'shadow', 'reject_reason', 'retries', 'prefill_replica', 'decode_replica', 'kv_transfer_tokens', 'kv_wait_s', 'kv_transfer_s']);
    const rows = t.toArray().map((r) => r.toJSON());
    expect(rows[0].ttft_s).toBeCloseTo(0.5, 12);
    expect(rows[0].tpot_s).toBeCloseTo(0.15, 12);
    expect(rows[0].itl_p50_s).toBeCloseTo(0.15, 12);
    expect(rows[0].preemptions).toBe(1);
    expect(rows[0]).toMatchObject({ status: 'finished', priority: 0, samples: 1 });
    expect(rows[1]).toMatchObject({ request_id: 1, replica: 1, output_tokens: 1, tpot_s: null, itl_mean_s: null, status: 'finished', priority: 2, samples: 3, sequences: 5 });
    expect(rows[2]).toMatchObject({ replica: -1, first_scheduled_s: null, first_token_s: null, ttft_s: null, e2e_s: null, status: 'rejected', priority: 0, samples: 1 });
  });

  it('writes iterations.arrow in engine order with every column', () => {
    const dir = join(tmp(), 'out');
    const sink = sinkAt(dir);
    feed(sink);
    sink.finish(CTX);
    const t = read(join(dir, 'iterations.arrow'));
    expect(t.schema.fields.map((f) => f.name)).toHaveLength(19);
    expect(t.schema.fields.slice(13).map((f) => `${f.name}:${f.type}`)).toEqual([
      'kv_blocks_cached:Int32', 'kv_blocks_swapped:Int32', 'kv_slots_unused:Int32', 'swap_in_blocks:Int32', 'swap_out_blocks:Int32', 'kv_blocks_evicted:Int32',
    ]);
    const rows = t.toArray().map((r) => r.toJSON());
    // Positional, the six new arguments omitted: they default to 0.
    expect(rows[0]).toMatchObject({ replica: 0, kv_blocks_used: 7, preempted: 0, kv_blocks_cached: 0, kv_blocks_swapped: 0, kv_slots_unused: 0, swap_in_blocks: 0, swap_out_blocks: 0, kv_blocks_evicted: 0 });
    // Positional with all of them, in column order.
    expect(rows[1]).toMatchObject({ replica: 1, waiting: 2, kv_blocks_cached: 5, kv_blocks_swapped: 2, kv_slots_unused: 13, swap_in_blocks: 0, swap_out_blocks: 2, kv_blocks_evicted: 1 });
    expect(rows[2]).toEqual({
      replica: 0, start_s: 1.5, end_s: 1.6, prefill_seqs: 0, decode_seqs: 1, prefill_tokens: 0, decode_tokens: 1,
      kv_blocks_used: 8, kv_blocks_total: 100, waiting: 0, running: 1, swapped: 0, preempted: 1,
      kv_blocks_cached: 4, kv_blocks_swapped: 3, kv_slots_unused: 9, swap_in_blocks: 1, swap_out_blocks: 0, kv_blocks_evicted: 2,
    });
  });

  it('writes tokens.arrow only when asked', () => {
    const dir = join(tmp(), 'out');
    const sink = sinkAt(dir, true);
    feed(sink);
    sink.finish(CTX);
    const rows = read(join(dir, 'tokens.arrow')).toArray().map((r) => r.toJSON());
    expect(rows).toEqual([
      { request_id: 0, index: 0, time_s: 1.5 },
      { request_id: 0, index: 1, time_s: 1.6 },
      { request_id: 0, index: 2, time_s: 1.8 },
      { request_id: 1, index: 0, time_s: 1.4 },
    ]);
  });

  it('is deterministic: the same records give byte-identical files', () => {
    const root = tmp();
    for (const name of ['a', 'b']) {
      const sink = sinkAt(join(root, name), true);
      feed(sink);
      sink.finish({ ...CTX, scenario: { seed: 1 } });
    }
    for (const file of ['requests.arrow', 'iterations.arrow', 'tokens.arrow', 'summary.json']) {
      expect(readFileSync(join(root, 'a', file)).equals(readFileSync(join(root, 'b', file))), file).toBe(true);
    }
  });

  it('writes into a temporary sibling until finish', () => {
    const dir = join(tmp(), 'out');
    const sink = sinkAt(dir);
    feed(sink);
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(dirname(dir))).toEqual([`out.tmp-${process.pid}`]);
    sink.finish(CTX);
    expect(readdirSync(dirname(dir))).toEqual(['out']);
  });

  it('abort leaves no folder behind, and no-ops after finish', () => {
    const dir = join(tmp(), 'nested', 'out');
    const sink = sinkAt(dir);
    feed(sink);
    sink.abort();
    sink.abort();
    // `nested` did not exist before the sink made it, so it goes too; its parent stays.
    expect(existsSync(dirname(dir))).toBe(false);
    expect(existsSync(dirname(dirname(dir)))).toBe(true);
    expect(() => sink.recordRequest(outcome())).toThrow(/aborted/);
    expect(() => sink.recordIteration(iteration({ replica: 0, start_s: 0, end_s: 1, kv_blocks_total: 1 }))).toThrow(/aborted/);
    const done = sinkAt(dir);
    done.finish(CTX);
    done.abort();
    expect(existsSync(join(dir, 'summary.json'))).toBe(true);
  });

  it('a failure inside finish leaves neither the output nor the temporary folder', () => {
    const dir = join(tmp(), 'out');
    const sink = sinkAt(dir);
    feed(sink);
    expect(() => sink.finish({ ...CTX, scenario: { bad: 1n } })).toThrow(/BigInt/);
    expect(readdirSync(dirname(dir))).toEqual([]);
  });

  it('finish replaces an existing output folder as a whole', () => {
    const dir = join(tmp(), 'out');
    mkdirSync(dir);
    writeFileSync(join(dir, 'summary.json'), 'old');
    writeFileSync(join(dir, 'tokens.arrow'), 'old');
    const sink = sinkAt(dir);
    feed(sink);
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe('old');
    sink.finish(CTX);
    expect(readdirSync(dir).sort()).toEqual(['cluster.arrow', 'events.arrow', 'iterations.arrow', 'requests.arrow', 'summary.json']);
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).overall.requests.total).toBe(3);
    expect(readdirSync(dirname(dir))).toEqual(['out']);
  });

  it('puts the old output folder back when publishing the new one fails', () => {
    const root = tmp();
    const dir = join(root, 'out');
    const staged = join(root, 'staged');
    mkdirSync(dir);
    mkdirSync(staged);
    writeFileSync(join(dir, 'summary.json'), 'old');
    let calls = 0;
    const failSecond = (from: string, to: string) => {
      if (++calls === 2) throw new Error('EXDEV');
      renameSync(from, to);
    };
    expect(() => publish(staged, dir, failSecond)).toThrow('EXDEV');
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe('old');
    expect(readdirSync(root).sort()).toEqual(['out', 'staged']);
  });

  it('refuses to replace a folder holding anything but infersim output', () => {
    const dir = join(tmp(), 'out');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.md'), 'mine');
    expect(() => sinkAt(dir)).toThrow(InfersimError);
    expect(() => sinkAt(dir)).toThrow(/output\.dir: holds files that are not infersim output \(notes\.md\)/);
    expect(readdirSync(dirname(dir))).toEqual(['out']);
  });

  it('writes nothing without a folder but still summarizes', () => {
    const cwd = process.cwd();
    const here = tmp();
    process.chdir(here);
    try {
      const sink = sinkAt(undefined);
      feed(sink);
      expect(sink.finish(CTX).overall.requests.total).toBe(3);
      expect(readdirSync(here)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('rejects a replica outside the configured range', () => {
    const sink = sinkAt(undefined);
    expect(() => sink.recordRequest(outcome({ replica: 2 }))).toThrow(/replica 2 outside 0\.\.1/);
  });

  it('rejects samples below 1, fewer sequences than samples, and non-integer priorities', () => {
    const sink = sinkAt(undefined);
    expect(() => sink.recordRequest(outcome({ samples: 0, sequences: 1 }))).toThrow(/samples 0/);
    expect(() => sink.recordRequest(outcome({ samples: 3, sequences: 2 }))).toThrow(/1 ≤ samples ≤ sequences/);
    expect(() => sink.recordRequest(outcome({ priority: 0.5 }))).toThrow(/priority 0\.5/);
    expect(() => sinkAt(undefined).finish(CTX)).not.toThrow();
    expect(() => new MetricsSink({ dir: undefined, writeTokens: false, replicas: 1, warmup_s: 0, slo: {}, block_size: 0 })).toThrow(/block_size/);
  });
});

describe('MetricsSink: file-system faults', () => {
  const tmp = tempDirs();

  it('a write that fails (ENOSPC, through /dev/full) names the file and the problem, as an error the CLI prints in one line', () => {
    if (!existsSync('/dev/full')) {
      console.warn('skipped: no /dev/full here, so the ENOSPC write seam is not tested (test/hostile/filesystem.test.ts covers it on a tmpfs)');
      return;
    }
    const w = new ArrowFileWriter('/dev/full', REQUEST_COLUMNS, 2);
    let thrown: unknown;
    try {
      for (let i = 0; i < 2; i++) w.endRow();
      // Small batches are staged in memory: closing writes them.
      w.close();
    } catch (err) {
      thrown = err;
    }
    w.abort();
    expect(thrown).toBeInstanceOf(FileSystemError);
    expect(oneLine(thrown)).toBe('output.dir: cannot write /dev/full: no space left on the device (ENOSPC)');
  });

  it('the CLI prints any file-system error with a path in one line, and keeps a bug a bug', () => {
    const raw = Object.assign(new Error('EROFS: read-only file system, open'), { code: 'EROFS', syscall: 'open', path: '/ro/x' });
    expect(oneLine(raw)).toBe('cannot open /ro/x: read-only file system (EROFS)');
    // ENOENT is a missing file, except for a mkdir that fails under an existing folder (/proc).
    const missing = join(tmp(), 'missing.yaml');
    expect(oneLine(Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'open', path: missing }))).toBe(`cannot open ${missing}: no such file or folder (ENOENT)`);
    expect(oneLine(Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'mkdir', path: missing }))).toMatch(/does not accept new entries \(ENOENT\)$/);
    expect(oneLine(new TypeError('x is undefined'))).toBeUndefined();
    expect(oneLine(Object.assign(new Error('no path'), { code: 'ENOSPC', syscall: 'write' }))).toBeUndefined();
  });

  it('makes folders where recursive mkdirSync would loop forever (/proc), failing in one line', () => {
    expect(() => makeFolders('/proc/infersim-no/such')).toThrow(expect.objectContaining({ code: 'ENOENT', path: '/proc/infersim-no' }));
    const dir = join(tmp(), 'a', 'b', 'c');
    expect(makeFolders(dir)).toBe(join(dir, '..', '..'));
    expect(makeFolders(dir)).toBeUndefined();
  });

  it('makeFolders: a parent another process makes meanwhile is found, not created (nor ours to remove)', () => {
    const root = mkdtempSync(join(tmpdir(), 'infersim-race-'));
    try {
      const target = join(root, 'runs', '1.tmp-7');
      // The other process wins the race for runs/ between the walk and the mkdir.
      const racing = (d: string): void => {
        if (d === join(root, 'runs')) {
          mkdirSync(d);
          throw Object.assign(new Error(`EEXIST: file already exists, mkdir '${d}'`), { code: 'EEXIST', path: d });
        }
        mkdirSync(d);
      };
      expect(makeFolders(target, racing)).toBe(target);
      expect(statSync(target).isDirectory()).toBe(true);
      // The folder asked for itself existing is still an error: it was just removed for this run.
      const clash = (d: string): void => {
        throw Object.assign(new Error(`EEXIST: file already exists, mkdir '${d}'`), { code: 'EEXIST', path: d });
      };
      expect(() => makeFolders(join(root, 'runs', '2.tmp-7'), clash)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('recovers each moment of an interrupted publish: before, between and after its two renames', () => {
    const root = tmp();
    const dir = join(root, 'out');
    const pid = 999_999;
    const put = (path: string, marker: string) => (mkdirSync(path, { recursive: true }), writeFileSync(join(path, 'summary.json'), marker));
    // Before: the new output still in the temporary folder.
    put(dir, 'old');
    put(`${dir}.tmp-${pid}`, 'new');
    expect(recoverPublish(dir, pid)).toEqual({ removed: [`${dir}.tmp-${pid}`], restored: undefined });
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe('old');
    // Between: the old output moved aside, the new one not yet in place.
    renameSync(dir, `${dir}.old-${pid}`);
    put(`${dir}.tmp-${pid}`, 'new');
    expect(recoverPublish(dir, pid)).toEqual({ removed: [`${dir}.tmp-${pid}`], restored: `${dir}.old-${pid}` });
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe('old');
    // After: the new output in place, the old one not yet removed.
    renameSync(dir, `${dir}.old-${pid}`);
    put(dir, 'new');
    expect(recoverPublish(dir, pid)).toEqual({ removed: [`${dir}.old-${pid}`], restored: undefined });
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe('new');
    expect(readdirSync(root)).toEqual(['out']);
  });
});
