import { CLI_FROM_SOURCE } from '../cliMode.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { runSimulation } from '../../sim/cluster/simulate.js';
import { InfersimError } from '../../sim/errors.js';
import { loadScenario } from '../../sim/setup/load.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { combineGrid, parseListFlag } from '../../sim/sweep/grid.js';
import { buildPlan } from '../../sim/sweep/plan.js';
import { findMaxRate, type PointOutcome } from '../../sim/sweep/point.js';
import { startPool } from '../../sim/sweep/pool.js';
import { bestPoint, formatReport } from '../../sim/sweep/report.js';
import type { PointRecord } from '../../sim/sweep/record.js';
import { infersim, ROOT } from '../cli/cli.js';
import { expectSweepError, SMALL_SCENARIO } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'infersim-sweep-review-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SMALL = SMALL_SCENARIO;
const small = join(dir, 'small.yaml');
writeFileSync(small, SMALL);

/** The CLI from the sources, with extra environment variables. */
function sweepWithEnv(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/infersim.js'), 'sweep', ...args], {
    encoding: 'utf8',
    env: { ...process.env, INFERSIM_FROM_SOURCE: CLI_FROM_SOURCE, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const recorded = (out: string): number[] =>
  existsSync(join(out, 'points'))
    ? readdirSync(join(out, 'points'))
        .filter((f) => /^\d+\.json$/.test(f))
        .map((f) => Number(f.split('.')[0]))
        .sort((a, b) => a - b)
    : [];

/** Exit 1 and exactly one error line on stderr. */
const expectOneLine = (args: string[], pattern: RegExp): void => void expectSweepError(dir, args, pattern);

describe('sweep review fixes: values, seed, paths, fingerprint', () => {
  it('--seed with a swept seed is refused (flag or the file\'s sweep: section), not silently overriding it', () => {
    expectOneLine([small, '--grid', 'seed=1,2,3', '--seed', '5'], /^infersim: error: --seed: the sweep varies seed itself \(--grid seed=1,2,3\); drop --seed or the seed list$/);
    const file = join(dir, 'seeds.yaml');
    writeFileSync(file, SMALL + 'sweep:\n  zip: { seed: [1, 2], engine.max_num_seqs: [8, 16] }\n');
    expectOneLine([file, '--seed', '5'], /^infersim: error: --seed: the sweep varies seed itself \(the scenario's sweep\.zip seed=1,2\)/);
    // Without --seed, the swept seeds give different points.
    const plan = buildPlan({ scenario: small, grid: [parseListFlag('--grid', 'seed=1,2')] });
    expect(plan.inputs.map((i) => i.seed)).toEqual([1, 2]);
  });

  it('grid values are validated exactly as --set values (no JSON round trip turning .inf into null)', () => {
    const run = infersim(['run', small, '--set', 'slo.ttft_ms=.inf', '--out', join(dir, 'inf-run')]);
    expect(run.status).toBe(1);
    const setError = run.stderr.trim().split('\n').filter((l) => !l.includes('Unknown user config'))[0];
    expect(setError).toMatch(/^infersim: error: slo\.ttft_ms: /);
    expectOneLine([small, '--grid', 'slo.ttft_ms=.inf,200'], new RegExp(`^${setError.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    // Values reach the point as parsed: a string that looks like a number stays a string.
    const plan = buildPlan({ scenario: small, grid: [parseListFlag('--grid', 'engine.max_num_seqs=8,16')], set: ['engine.block_size=32'] });
    expect(plan.inputs.map((i) => [i.engine?.max_num_seqs, i.engine?.block_size])).toEqual([
      [8, 32],
      [16, 32],
    ]);
  });

  it("paths in the scenario's sweep: section resolve against the scenario's folder; flag paths against the cwd", () => {
    const scenDir = join(dir, 'scen');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(scenDir, { recursive: true });
    mkdirSync(elsewhere, { recursive: true });
    const file = join(scenDir, 'trace.yaml');
    writeFileSync(
      file,
      `model: llama-3.1-8b
hardware: { gpu: h100-sxm }
workload: { trace: { path: a.jsonl, format: jsonl } }
sweep:
  grid: { workload.trace.path: [a.jsonl, b.jsonl] }
`,
    );
    const fromFile = buildPlan({ scenario: file, cwd: elsewhere });
    expect(fromFile.inputs.map((i) => i.workload.trace?.path)).toEqual([join(scenDir, 'a.jsonl'), join(scenDir, 'b.jsonl')]);
    const fromFlag = buildPlan({ scenario: file, cwd: elsewhere, grid: [parseListFlag('--grid', 'workload.trace.path=c.jsonl')] });
    expect(fromFlag.inputs.map((i) => i.workload.trace?.path)).toEqual([join(elsewhere, 'c.jsonl')]);
    // The same command from another folder reads other files: a different sweep.
    const plain = join(scenDir, 'plain.yaml');
    writeFileSync(plain, 'model: llama-3.1-8b\nhardware: { gpu: h100-sxm }\nworkload: { trace: { path: a.jsonl, format: jsonl } }\n');
    const withSet = (cwd: string) => buildPlan({ scenario: plain, cwd, set: ['workload.trace.path=x.jsonl'], grid: [parseListFlag('--grid', 'seed=1')] }).plan.fingerprint;
    expect(withSet(elsewhere)).not.toBe(withSet(scenDir));
    // …while the file's own paths do not depend on the cwd.
    expect(buildPlan({ scenario: file, cwd: scenDir }).plan.fingerprint).toBe(fromFile.plan.fingerprint);
  });

  it('the fingerprint covers the files the points read (size and modification time)', () => {
    const scenDir = join(dir, 'fp');
    mkdirSync(scenDir, { recursive: true });
    const trace = join(scenDir, 't.jsonl');
    writeFileSync(trace, '{}\n');
    utimesSync(trace, 1_000_000, 1_000_000);
    const file = join(scenDir, 's.yaml');
    writeFileSync(file, `model: llama-3.1-8b\nhardware: { gpu: h100-sxm }\nworkload: { trace: { path: t.jsonl, format: jsonl } }\n`);
    const fp = () => buildPlan({ scenario: file, grid: [parseListFlag('--grid', 'engine.max_num_seqs=8,16')] }).plan.fingerprint;
    const before = fp();
    expect(fp()).toBe(before);
    utimesSync(trace, 2_000_000, 2_000_000);
    expect(fp()).not.toBe(before);
  });
});

describe('sweep review fixes: error wording', () => {
  it('names the flag, the whole flag value, the file section and the merge input', () => {
    expect(() => parseListFlag('--grid', '=1,2')).toThrow(/^--grid: expected key\.path=value1,value2,… \(the key is empty\), got "=1,2"$/);
    expect(() => parseListFlag('--zip', 'a..b=1,2')).toThrow(/^--zip: .*empty part\), got "a\.\.b=1,2"$/);
    expect(() => combineGrid({ zip: { a: [1, 2], b: [1] } }, [], [])).toThrow(/^sweep\.zip: zipped lists .*a has 2, b has 1$/);
    expect(() => combineGrid(undefined, [], [parseListFlag('--zip', 'a=1,2'), parseListFlag('--zip', 'b=1')])).toThrow(/^--zip: zipped/);
    const bogus = join(dir, 'bogus-sweep');
    mkdirSync(bogus, { recursive: true });
    writeFileSync(join(bogus, 'sweep.json'), '{ not json');
    const r = infersim(['sweep', 'merge', bogus, '--out', join(dir, 'bogus-merged')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`infersim: error: sweep merge: ${join(bogus, 'sweep.json')} is not an infersim sweep.json`);
  });
});

describe('sweep review fixes: the output folder', () => {
  it('refuses a different sweep and a different shard in the same folder', () => {
    const out = join(dir, 'refuse');
    expect(infersim(['sweep', small, '--grid', 'engine.max_num_seqs=8,16', '--shard', '1/2', '--out', out]).status).toBe(0);
    const other = infersim(['sweep', small, '--grid', 'engine.max_num_seqs=8,16', '--set', 'workload.num_requests=100', '--shard', '1/2', '--out', out]);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/--out: holds a different sweep/);
    const shard = infersim(['sweep', small, '--grid', 'engine.max_num_seqs=8,16', '--shard', '2/2', '--out', out]);
    expect(shard.status).toBe(1);
    expect(shard.stderr).toMatch(/--out: holds shard 1\/2 of this sweep, not shard 2\/2; give --shard 1\/2 to resume it/);
    expect(JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')).shard).toEqual({ k: 1, n: 2 });
    const same = infersim(['sweep', small, '--grid', 'engine.max_num_seqs=8,16', '--shard', '1/2', '--out', out]);
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/0 run now, 1 already recorded/);
  });

  it('--keep-runs keeps each point\'s folder, and a killed run\'s temporary folders are cleaned', () => {
    const out = join(dir, 'keep');
    const r = infersim(['sweep', small, '--grid', 'engine.max_num_seqs=8,16', '--keep-runs', '--out', out]);
    expect(r.status).toBe(0);
    for (const i of [0, 1]) {
      expect(readdirSync(join(out, 'runs', String(i)))).toEqual(expect.arrayContaining(['requests.arrow', 'summary.json']));
    }
    const summary = JSON.parse(readFileSync(join(out, 'runs', '1', 'summary.json'), 'utf8'));
    const row = tableFromIPC(readFileSync(join(out, 'sweep.arrow'))).get(1)!.toJSON();
    expect(summary.overall.throughput.output_tokens_per_s).toBeCloseTo(row.output_tokens_per_s as number, 9);
    // What a run killed mid-point leaves: a temporary folder beside the finished ones.
    mkdirSync(join(out, 'runs', '2.tmp-99999'), { recursive: true });
    writeFileSync(join(out, 'runs', '2.tmp-99999', 'requests.arrow'), 'partial');
    expect(infersim(['sweep', small, '--grid', 'engine.max_num_seqs=8,16', '--keep-runs', '--out', out]).status).toBe(0);
    expect(readdirSync(join(out, 'runs')).sort()).toEqual(['0', '1']);
  });
});

describe('sweep review fixes: crashes', () => {
  const GRID = ['--grid', 'engine.max_num_seqs=8,16,32,64'];

  it('a worker that dies mid-point: the point is not recorded, the worker is replaced, exit 1; a rerun retries it', () => {
    const out = join(dir, 'crash');
    const r = sweepWithEnv([small, ...GRID, '--jobs', '1', '--out', out], { INFERSIM_SWEEP_TEST_DIE: '2' });
    expect(r.status).toBe(1);
    expect(recorded(out)).toEqual([0, 1, 3]);
    expect(existsSync(join(out, 'sweep.arrow'))).toBe(false);
    expect(r.stderr).toMatch(/point 2 crashed \(not recorded\): worker process exited with code 70/);
    expect(r.stderr).toMatch(/1 point crashed; rerun the same command to retry them/);
    expect(r.stdout).toMatch(/3 of 4 points recorded/);
    const rerun = sweepWithEnv([small, ...GRID, '--jobs', '1', '--out', out]);
    expect(rerun.status).toBe(0);
    expect(rerun.stdout).toMatch(/4 points: 4 ok, 0 failed; 1 run now, 3 already recorded/);
    expect(recorded(out)).toEqual([0, 1, 2, 3]);
  });

  it('a fresh worker that dies before finishing any point stops the sweep', () => {
    const out = join(dir, 'crash-fresh');
    const r = sweepWithEnv([small, ...GRID, '--jobs', '1', '--out', out], { INFERSIM_SWEEP_TEST_DIE: '0' });
    expect(r.status).toBe(1);
    expect(recorded(out)).toEqual([]);
    expect(r.stderr).toMatch(/sweep stopped: a new worker process died before finishing any point \(worker process exited with code 70\); 3 points not started/);
  });

  it('--retry-failed reruns the points recorded as failed', () => {
    const out = join(dir, 'retry');
    const args = [small, '--grid', 'engine.block_size=16,24', '--out', out];
    expect(infersim(['sweep', ...args]).status).toBe(0);
    const again = infersim(['sweep', ...args]);
    expect(again.stdout).toMatch(/0 run now, 2 already recorded/);
    const retried = infersim(['sweep', ...args, '--retry-failed']);
    expect(retried.status).toBe(0);
    expect(retried.stdout).toMatch(/1 ok, 1 failed; 1 run now, 1 already recorded/);
  });

  it('when recording a point fails, the pool shuts down: no further outcomes, no false "exited" records', async () => {
    const { inputs } = buildPlan({ scenario: small, grid: [parseListFlag('--grid', 'engine.max_num_seqs=8,16,32,64,128,256')] });
    const pool = startPool(2);
    const seen: PointOutcome[] = [];
    const run = pool.run(
      inputs.map((input, index) => ({ index, input })),
      (o) => {
        seen.push(o);
        throw new Error('disk full');
      },
    );
    await expect(run).rejects.toThrow('disk full');
    await pool.close();
    // The one outcome that threw; the other worker's point, killed by the shutdown, is not reported.
    expect(seen).toHaveLength(1);
    expect(seen[0].status).toBe('ok');
  });
});

describe('sweep review fixes: --find-max-rate and the report', () => {
  const { input } = loadScenario(small);
  const attainment = (rate: number): number =>
    runSimulation(resolveScenario({ ...input, workload: { ...input.workload, arrival: { process: 'poisson', rate_per_s: rate } } })).summary.overall.slo.attainment ?? 0;

  it('finds the rate to 2 %: the rate 2 % above misses the target', () => {
    const f = { target: 0.9, precision: 0.02 };
    const { result, summary } = findMaxRate(input, f);
    expect(result.max_rate_per_s).not.toBeNull();
    const rate = result.max_rate_per_s as number;
    expect(summary?.overall.slo.attainment).toBeGreaterThanOrEqual(0.9);
    expect(attainment(rate)).toBeGreaterThanOrEqual(0.9);
    expect(attainment(rate * 1.02)).toBeLessThan(0.9);
  });

  it('null when no rate passes; an error when no rate misses', () => {
    const impossible = { ...input, slo: { ttft_ms: 0.001 } };
    const none = findMaxRate(impossible, { target: 0.9, precision: 0.02 });
    expect(none.result).toEqual({ max_rate_per_s: null, rate_runs: 13 });
    const easy = { ...input, slo: { e2e_ms: 1e12 } };
    expect(() => findMaxRate(easy, { target: 0.9, precision: 0.02 })).toThrow(InfersimError);
    expect(() => findMaxRate(easy, { target: 0.9, precision: 0.02 })).toThrow(/SLO attainment still ≥ 0\.9 at 81920 req\/s .*raise workload\.arrival\.rate_per_s/);
  });

  const rec = (index: number, tokens: number | null, goodput: number | null): PointRecord => ({
    plan: 'p',
    index,
    values: [index],
    status: tokens === null ? 'failed' : 'ok',
    error: tokens === null ? 'bad' : null,
    metrics: tokens === null ? null : ({ output_tokens_per_s: tokens, requests_per_s: tokens / 10, goodput_req_per_s: goodput, slo_attainment: 1, ttft_p99_s: 1 } as PointRecord['metrics']),
    max_rate: null,
    wall_s: 0,
  });

  it('bestPoint: ties go to the lower index; without an SLO the highest throughput wins', () => {
    const records = [rec(3, 100, 5), rec(1, 50, 5), rec(2, null, null), rec(0, 80, 4)];
    expect(bestPoint(records, { keys: ['k'], latency: 'ttft_p99_s', slo: true, findMaxRate: false })?.index).toBe(1);
    expect(bestPoint(records, { keys: ['k'], latency: 'ttft_p99_s', slo: false, findMaxRate: false })?.index).toBe(3);
    expect(bestPoint([rec(0, null, null)], { keys: ['k'], latency: 'ttft_p99_s', slo: true, findMaxRate: false })).toBeUndefined();
  });

  it('without an SLO the report shows throughput, not goodput and SLO attainment', () => {
    const text = formatReport([rec(0, 100, 10), rec(1, 50, 5)], { keys: ['k'], latency: 'ttft_p99_s', slo: false, findMaxRate: false });
    expect(text).toMatch(/highest throughput \(the scenario has no SLO\): point 0 \(k=0\): 100\.0 output tok\/s, 10\.00 req\/s$/m);
    expect(text).not.toMatch(/goodput|SLO %|attainment/);
    const withSlo = formatReport([rec(0, 100, 10)], { keys: ['k'], latency: 'ttft_p99_s', slo: true, findMaxRate: false });
    expect(withSlo).toMatch(/goodput 10\.00 req\/s, SLO attainment 100\.0 %/);
  });
});
