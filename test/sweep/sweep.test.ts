import { CLI_FROM_SOURCE } from '../cliMode.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../sim/setup/load.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { infersim, ROOT } from '../cli/cli.js';
import { expectSweepError, SMALL_SCENARIO } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'infersim-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Saturating load: all 2,000 requests arrive at t = 0 (burst), prompts ≤ 400 and outputs ≤ 200
 * tokens. Llama-3.1-8B on one H100 has ~28k usable KV blocks of 16 tokens.
 */
const SCENARIO = `
seed: 3
model: llama-3.1-8b
hardware: { gpu: h100-sxm }
workload:
  arrival: { process: burst }
  input_tokens: { dist: uniform, min: 50, max: 400 }
  output_tokens: { dist: uniform, min: 20, max: 200 }
  num_requests: 2000
slo: { ttft_ms: 2000, tpot_ms: 50 }
`;
const SEQS = [8, 16, 32, 64, 128, 256];
const BLOCKS = [16, 32, 64];
const GRID = ['--grid', `engine.max_num_seqs=${SEQS.join(',')}`, '--grid', `engine.block_size=${BLOCKS.join(',')}`];
const scenarioFile = join(dir, 'burst.yaml');
writeFileSync(scenarioFile, SCENARIO);

function readTable(file: string): Table {
  return tableFromIPC(readFileSync(file));
}

/** The table's bytes with wall_s left out: equal for two runs of the same sweep, however they ran. */
function withoutWallTime(file: string): Uint8Array {
  const t = readTable(file);
  return tableToIPC(t.select(t.schema.fields.map((f) => f.name).filter((n) => n !== 'wall_s')), 'file');
}

function sweep(args: string[]) {
  const r = infersim(['sweep', scenarioFile, ...args]);
  if (r.status !== 0) throw new Error(`sweep failed (${r.status}): ${r.stderr}`);
  return r;
}

const pointFiles = (out: string): string[] =>
  existsSync(join(out, 'points')) ? readdirSync(join(out, 'points')).filter((f) => /^\d+\.json$/.test(f)) : [];

const full = join(dir, 'full');
let fullRun: { stdout: string; stderr: string };
beforeAll(() => {
  fullRun = sweep([...GRID, '--jobs', '2', '--out', full]);
});

describe('infersim sweep: a 6×3 grid', () => {
  it('writes one row per point with typed columns, and prints the Pareto front and the best point', () => {
    const t = readTable(join(full, 'sweep.arrow'));
    expect(t.numRows).toBe(18);
    const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({
      point: 'Int32',
      'engine.max_num_seqs': 'Int64',
      'engine.block_size': 'Int64',
      status: 'Utf8',
      error: 'Utf8',
      requests_per_s: 'Float64',
      output_tokens_per_s: 'Float64',
      goodput_req_per_s: 'Float64',
      slo_attainment: 'Float64',
      ttft_p99_s: 'Float64',
      tpot_p50_s: 'Float64',
      e2e_p90_s: 'Float64',
      kv_mean_utilization: 'Float64',
      preemptions: 'Int64',
      usd_per_million_output_tokens: 'Float64',
      wall_s: 'Float64',
    });
    expect(t.schema.fields.at(-1)?.name).toBe('wall_s');
    const rows = t.toArray().map((r) => r.toJSON());
    // Cartesian order, the first key outermost.
    expect(rows.map((r) => [Number(r['engine.max_num_seqs']), Number(r['engine.block_size'])])).toEqual(SEQS.flatMap((s) => BLOCKS.map((b) => [s, b])));
    expect(rows.map((r) => r.point)).toEqual([...Array(18).keys()]);
    for (const r of rows) {
      expect(r.status).toBe('ok');
      expect(r.error).toBeNull();
      expect(r.requests_per_s).toBeGreaterThan(0);
      expect(r.ttft_p99_s).toBeGreaterThanOrEqual(r.ttft_p50_s);
    }
    expect(readdirSync(join(full, 'points')).sort()).toEqual([...Array(18).keys()].map((i) => `${i}.json`).sort());
    const manifest = JSON.parse(readFileSync(join(full, 'sweep.json'), 'utf8'));
    expect(manifest).toMatchObject({ scenario: scenarioFile, keys: ['engine.max_num_seqs', 'engine.block_size'], points: 18, shard: null });
    expect(fullRun.stdout).toMatch(/Pareto front \(output tok\/s vs p99 TTFT s\)/);
    expect(fullRun.stdout).toMatch(/best for the scenario's SLO \(max goodput\): point \d+ \(engine\.max_num_seqs=\d+ engine\.block_size=\d+\)/);
    expect(fullRun.stdout).toMatch(/18 points: 18 ok, 0 failed; 18 run now, 0 already recorded/);
    // Not a terminal: one plain line per point on stderr.
    expect(fullRun.stderr.split('\n').filter((l) => /^\[\d+\/18\] point \d+ /.test(l))).toHaveLength(18);
  });

  it('under a saturating load, throughput never falls as max_num_seqs grows (no point is KV-bound)', () => {
    // Why it must hold here: with every request waiting from t = 0 the running batch is always
    // full (max_num_seqs sequences) until the final drain, and a step's time is dominated by
    // reading the 16 GB of weights once per step, with a much smaller per-sequence KV read, so
    // tokens per step ÷ step time = b ÷ (w + b·k) grows with the batch b. The token budget
    // (8,192 by default) stays above every max_num_seqs. None of the points is KV-bound: even 256
    // sequences at the longest request (400 + 200 tokens) hold fewer blocks than the pool has,
    // so the scheduler never waits for blocks and never preempts (checked below).
    const { input } = loadScenario(scenarioFile, { set: ['engine.max_num_seqs=256', 'engine.block_size=16'] });
    const usable = resolveScenario(input).kv.usable_blocks;
    expect(256 * Math.ceil(600 / 16)).toBeLessThan(usable);
    const rows = readTable(join(full, 'sweep.arrow')).toArray().map((r) => r.toJSON());
    for (const block of BLOCKS) {
      const series = rows.filter((r) => Number(r['engine.block_size']) === block);
      expect(series.map((r) => Number(r['engine.max_num_seqs']))).toEqual(SEQS);
      for (const r of series) expect(Number(r.preemptions)).toBe(0);
      for (let i = 1; i < series.length; i++) {
        expect(series[i].output_tokens_per_s).toBeGreaterThanOrEqual(series[i - 1].output_tokens_per_s);
        expect(series[i].requests_per_s).toBeGreaterThanOrEqual(series[i - 1].requests_per_s);
      }
      // And it really grows: 32× the batch is well over 3× the throughput.
      expect(series[5].output_tokens_per_s).toBeGreaterThan(3 * series[0].output_tokens_per_s);
    }
  });

  it('killed mid-sweep and rerun: finished points are not recomputed, and the result equals the uninterrupted run', async () => {
    const out = join(dir, 'killed');
    const child = spawn(process.execPath, [join(ROOT, 'bin/infersim.js'), 'sweep', scenarioFile, ...GRID, '--jobs', '1', '--out', out], {
      env: { ...process.env, INFERSIM_FROM_SOURCE: CLI_FROM_SOURCE },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // SIGKILL (a crash: nothing runs on the way out) once a few points are on disk.
    while (pointFiles(out).length < 4 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await exited;
    const before = pointFiles(out);
    expect(before.length).toBeGreaterThanOrEqual(4);
    expect(before.length).toBeLessThan(18);
    expect(existsSync(join(out, 'sweep.arrow'))).toBe(false);
    const stamps = new Map(before.map((f) => [f, statSync(join(out, 'points', f))]));

    const rerun = sweep([...GRID, '--jobs', '2', '--out', out]);
    expect(rerun.stdout).toContain(`${18 - before.length} run now, ${before.length} already recorded`);
    // Only the missing points were reported as run…
    expect(rerun.stderr.split('\n').filter((l) => /^\[\d+\/18\] point /.test(l))).toHaveLength(18 - before.length);
    // …and the recorded ones were left alone (same file, same modification time).
    for (const [f, st] of stamps) {
      const now = statSync(join(out, 'points', f));
      expect([now.ino, now.mtimeMs]).toEqual([st.ino, st.mtimeMs]);
    }
    expect(pointFiles(out)).toHaveLength(18);
    expect(readdirSync(join(out, 'points')).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(Buffer.from(withoutWallTime(join(out, 'sweep.arrow')))).toEqual(Buffer.from(withoutWallTime(join(full, 'sweep.arrow'))));
  });

  it('shards 1/3, 2/3 and 3/3 merged equal the full run', async () => {
    const shards = [1, 2, 3].map((k) => join(dir, `shard-${k}`));
    // The three shards run at once, as they would on three machines.
    await Promise.all(
      shards.map(
        (out, i) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, [join(ROOT, 'bin/infersim.js'), 'sweep', scenarioFile, ...GRID, '--jobs', '1', '--shard', `${i + 1}/3`, '--out', out], {
              env: { ...process.env, INFERSIM_FROM_SOURCE: CLI_FROM_SOURCE },
              stdio: 'ignore',
            });
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`shard ${i + 1} exited ${code}`))));
          }),
      ),
    );
    shards.forEach((out, i) => {
      const t = readTable(join(out, 'sweep.arrow'));
      expect(t.toArray().map((r) => r.point)).toEqual([0, 1, 2, 3, 4, 5].map((j) => 3 * j + i));
    });
    const merged = join(dir, 'merged');
    const r = infersim(['sweep', 'merge', ...shards, '--out', merged]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/18 points merged from 3 folders/);
    expect(Buffer.from(withoutWallTime(join(merged, 'sweep.arrow')))).toEqual(Buffer.from(withoutWallTime(join(full, 'sweep.arrow'))));
    // A missing shard is named, not silently merged.
    const partial = infersim(['sweep', 'merge', shards[0], shards[2], '--out', join(dir, 'partial')]);
    expect(partial.status).toBe(1);
    expect(partial.stderr).toMatch(/6 of 18 points are in none of the folders .*shards given: 1\/3, 3\/3/);
  });
});

const SMALL = SMALL_SCENARIO;

describe('infersim sweep: failures, values and flags', () => {
  const small = join(dir, 'small.yaml');
  writeFileSync(small, SMALL);

  it('a failing point is recorded with its error and the others complete', () => {
    const out = join(dir, 'failing');
    const r = infersim(['sweep', small, '--grid', 'engine.block_size=16,24,32', '--out', out]);
    expect(r.status).toBe(0);
    const rows = readTable(join(out, 'sweep.arrow')).toArray().map((x) => x.toJSON());
    expect(rows.map((x) => x.status)).toEqual(['ok', 'failed', 'ok']);
    expect(rows[1].error).toMatch(/^engine\.block_size: must be a multiple of 16 .*got 24$/);
    expect(rows[1].requests_per_s).toBeNull();
    expect(rows[0].requests_per_s).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/1 point failed/);
  });

  it('grid values are typed as --set values, zipped lists advance together, and the file\'s sweep: section merges with the flags', () => {
    const file = join(dir, 'section.yaml');
    writeFileSync(file, SMALL + 'sweep:\n  grid: { engine.max_num_seqs: [8, 16], engine.enable_prefix_caching: [true] }\n');
    const out = join(dir, 'typed');
    const r = infersim([
      'sweep', file, '--out', out, '--jobs', '2',
      '--grid', 'engine.max_num_seqs=32',
      '--grid', 'hardware.gpu_memory_utilization=0.8,0.9',
      '--zip', 'hardware.gpu=h100-sxm,a100-sxm-80gb',
      '--zip', 'cost.usd_per_gpu_hour=2,1.5',
    ]);
    expect(r.status).toBe(0);
    const t = readTable(join(out, 'sweep.arrow'));
    const types = t.schema.fields.slice(0, 6).map((f) => `${f.name}:${f.type}`);
    expect(types).toEqual([
      'point:Int32',
      'hardware.gpu:Utf8',
      'cost.usd_per_gpu_hour:Float64',
      'engine.max_num_seqs:Int64',
      'engine.enable_prefix_caching:Bool',
      'hardware.gpu_memory_utilization:Float64',
    ]);
    const rows = t.toArray().map((x) => x.toJSON());
    expect(rows.map((x) => [x['hardware.gpu'], x['cost.usd_per_gpu_hour'], x['hardware.gpu_memory_utilization']])).toEqual([
      ['h100-sxm', 2, 0.8],
      ['h100-sxm', 2, 0.9],
      ['a100-sxm-80gb', 1.5, 0.8],
      ['a100-sxm-80gb', 1.5, 0.9],
    ]);
    expect(rows.every((x) => Number(x['engine.max_num_seqs']) === 32 && x.status === 'ok')).toBe(true);
  });

  it('--find-max-rate finds a rate that keeps the target, within 2 %', () => {
    const out = join(dir, 'maxrate');
    const r = infersim(['sweep', small, '--grid', 'engine.max_num_seqs=16,64', '--find-max-rate', '--target', '0.9', '--out', out]);
    expect(r.status).toBe(0);
    const rows = readTable(join(out, 'sweep.arrow')).toArray().map((x) => x.toJSON());
    for (const x of rows) {
      expect(x.max_rate_per_s).toBeGreaterThan(0);
      expect(x.slo_attainment).toBeGreaterThanOrEqual(0.9);
      expect(Number(x.rate_runs)).toBeGreaterThan(2);
    }
    expect(rows[1].max_rate_per_s).toBeGreaterThanOrEqual(rows[0].max_rate_per_s);
    expect(r.stdout).toMatch(/highest sustainable rate: point \d/);
  });

  /** Exit 1, one line on stderr, no output folder. */
  const expectOneLine = (args: string[], pattern: RegExp) => expect(existsSync(expectSweepError(dir, args, pattern))).toBe(false);

  it('bad flags give one clear error line', () => {
    expectOneLine([small, '--grid', 'engine.max_num_seq=8,16'], /^infersim: error: engine\.max_num_seq: unknown key \(did you mean "max_num_seqs"\?\)/);
    expectOneLine([small, '--grid', 'engine.max_num_seqs=8,0'], /^infersim: error: engine\.max_num_seqs: must be an integer ≥ 1, got 0$/);
    expectOneLine([small, '--zip', 'engine.max_num_seqs=8,16', '--zip', 'engine.block_size=16'], /^infersim: error: --zip: .*equal lengths: engine\.max_num_seqs has 2, engine\.block_size has 1$/);
    expectOneLine([small, '--grid', 'engine.max_num_seqs=8', '--shard', '0/3'], /^infersim: error: --shard: expected K\/N with 1 ≤ K ≤ N/);
    expectOneLine([small, '--grid', 'engine.max_num_seqs=8', '--jobs', 'two'], /^infersim: error: --jobs: must be an integer ≥ 1 and ≤ 256, got "two"$/);
    expectOneLine([small], /^infersim: error: sweep: nothing to sweep/);
    expectOneLine([scenarioFile, '--grid', 'engine.max_num_seqs=8', '--find-max-rate'], /^infersim: error: --find-max-rate needs an open-loop .*arrival burst$/);
    expectOneLine([small, '--grid', 'engine.max_num_seqs=8', '--find-max-rate', '--set', 'slo=null'], /^infersim: error: --find-max-rate needs an SLO/);
  });
});
