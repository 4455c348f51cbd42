import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compareReal, compareRequests, type CompareResult } from '../../sim/compare/compare.js';
import { readReal } from '../../sim/compare/read.js';
import { choosePlan, simulateReal } from '../../sim/compare/simulate.js';
import { toVllmResult } from '../../sim/compare/vllm.js';
import type { RealRun } from '../../sim/compare/types.js';
import { infersim } from '../cli/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIO = join(ROOT, 'scenarios/quickstart.yaml');
const VLLM = join(ROOT, 'test/fixtures/compare/vllm-bench-serve.json');
const GUIDELLM = join(ROOT, 'test/fixtures/compare/guidellm-benchmarks.json');
const tmp = mkdtempSync(join(tmpdir(), 'infersim-compare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const row = (c: CompareResult, metric: string, stat: string) => c.rows.find((r) => r.metric === metric && r.stat === stat)!;

/**
 * The acceptance check: a "real" run produced by infersim itself with every step time × 1.10,
 * written as vllm bench serve writes it, then compared against the unscaled scenario. Generated here,
 * not checked in, so it always matches the current simulator.
 */
describe('a real run that is the simulator with every step × 1.10', () => {
  // The vLLM fixture's 20 requests (its lengths), sent one every 2 s: low load, each request alone.
  const lengths = readReal(VLLM).requests;
  const times_s = lengths.map((_, k) => 2 * k);
  const run: RealRun = { format: 'vllm', file: 'generated', requests: lengths, failed: 0, recorded: { kind: 'recorded', times_s }, traffic: 'one every 2 s', notes: [] };
  const slow = simulateReal(run, run.recorded!, { scenario: SCENARIO, time_scale: 1.1 });
  const file = join(tmp, 'scaled-vllm.json');
  writeFileSync(file, JSON.stringify(toVllmResult(slow.requests, { request_rate: 0.5, model_id: 'meta-llama/Llama-3.1-8B-Instruct' })));
  const c = compareReal({ real: file, scenario: SCENARIO });

  it('rebuilds the same requests at the same send times', () => {
    expect(slow.requests).toHaveLength(20);
    expect(c.real.requests).toBe(20);
    expect(c.simulated).toEqual({ requests: 20, unfinished: 0 });
    expect(c.arrivals).toBe('the recorded send times (open loop, 20 requests)');
  });

  it('reports the real run 10 % slower on TPOT and ITL (the simulation error 1/1.1 − 1 = −9.1 %)', () => {
    for (const metric of ['tpot', 'itl']) {
      for (const stat of ['mean', 'p50', 'p90', 'p99']) {
        const r = row(c, metric, stat);
        expect(r.real_vs_sim, `${metric} ${stat}`).toBeCloseTo(0.1, 3);
        expect(r.error, `${metric} ${stat}`).toBeCloseTo(1 / 1.1 - 1, 3);
      }
    }
  });

  it('and about 10 % on TTFT and E2E at this low load (the front-end terms are not step time)', () => {
    for (const metric of ['ttft', 'e2e']) {
      for (const stat of ['mean', 'p50', 'p90', 'p99']) {
        const r = row(c, metric, stat);
        expect(r.real_vs_sim, `${metric} ${stat}`).toBeGreaterThan(0.085);
        expect(r.real_vs_sim, `${metric} ${stat}`).toBeLessThanOrEqual(0.1 + 1e-9);
      }
    }
  });
});

describe('infersim compare (the command)', () => {
  it('prints the table and writes compare.json with per-request samples for CDF overlays', () => {
    const out = join(tmp, 'cmp.json');
    const r = infersim(['compare', VLLM, '--scenario', SCENARIO, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^compare: .*vllm-bench-serve\.json \(vllm, 20 requests; request_rate 4\/s, burstiness 1 \(Poisson\)\)/);
    expect(r.stdout).toMatch(/\nTPOT mean +\d+\.\d\d +\d+\.\d\d +[+−]\d+\.\d %/);
    expect(existsSync(out)).toBe(true);
    const c = JSON.parse(readFileSync(out, 'utf8')) as CompareResult;
    expect(c.per_request.real.ttft_s).toHaveLength(20);
    expect(c.per_request.sim.ttft_s).toHaveLength(20);
    expect(c.per_request.sim.e2e_s).toHaveLength(20);
    expect(c.rows).toHaveLength(16);
  });

  it('a bad file is one line naming file, path and expectation', () => {
    const f = join(tmp, 'bad.json');
    writeFileSync(f, JSON.stringify({ input_lens: [1], output_lens: [2], ttfts: [-1], itls: [[0.1]] }));
    const r = infersim(['compare', f, '--scenario', SCENARIO]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe('infersim: error: bad.json: ttfts[0]: must be a number ≥ 0, got -1');
  });

  it('every simulated request rejected (prompts longer than max_model_len): dashes, not NaN, and nulls in compare.json', () => {
    const doc = JSON.parse(readFileSync(VLLM, 'utf8'));
    const f = join(tmp, 'long-prompts.json');
    writeFileSync(f, JSON.stringify({ ...doc, input_lens: doc.input_lens.map(() => 4000) }));
    const out = join(tmp, 'long-prompts-cmp.json');
    const r = infersim(['compare', f, '--scenario', SCENARIO, '--set', 'engine.max_model_len=2048', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('NaN');
    expect(r.stdout).toMatch(/\nTTFT mean +\d+\.\d\d +— +— +—\n/);
    expect(r.stdout).toMatch(/\noutput tok\/s +\d+\.\d +— +— +—\n/);
    expect(r.stdout).toContain('note: 20 simulated request(s) did not finish');
    const c = JSON.parse(readFileSync(out, 'utf8')) as CompareResult;
    expect(c.simulated).toEqual({ requests: 0, unfinished: 20 });
    expect(c.rows).toHaveLength(16);
    for (const row of c.rows) {
      expect(row.real_s).toBeGreaterThan(0);
      expect([row.sim_s, row.error, row.real_vs_sim]).toEqual([null, null, null]);
    }
    expect(c.output_throughput.real_tok_s).toBeGreaterThan(0);
    expect([c.output_throughput.sim_tok_s, c.output_throughput.error]).toEqual([null, null]);
  });

  it('no simulated sample: the figures are null in memory too (not NaN)', () => {
    const t = compareRequests('vllm', readReal(VLLM).requests, []);
    expect(t.rows.every((row) => row.sim_s === null && row.error === null && row.real_vs_sim === null)).toBe(true);
    expect(t.output_throughput.sim_tok_s).toBeNull();
    expect(t.output_throughput.error).toBeNull();
  });

  it('--dir: summary.json records the real workload replayed, not the placeholder the run stood on; the report reads it', () => {
    const dir = join(tmp, 'dir-run');
    const r = infersim(['compare', VLLM, '--scenario', SCENARIO, '--dir', dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.scenario.workload).toEqual({
      replayed_from: VLLM,
      format: 'vllm',
      num_requests: 20,
      arrivals: 'the recorded send times (open loop, 20 requests)',
      traffic: 'request_rate 4/s, burstiness 1 (Poisson)',
      lengths: "each request's prompt and output tokens as the file records them",
    });
    // The rest of the scenario is the one simulated.
    expect(summary.scenario.model).toBeDefined();
    const rep = infersim(['report', dir]);
    expect(rep.stderr).toBe('');
    expect(rep.status).toBe(0);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('replayed_from');
  });

  it('a rate the simulation cannot replay names the real file and its field, not a scenario key', () => {
    const doc = JSON.parse(readFileSync(VLLM, 'utf8'));
    const f = join(tmp, 'slow-rate.json');
    writeFileSync(f, JSON.stringify({ ...doc, request_rate: 1e-9 }));
    const r = infersim(['compare', f, '--scenario', SCENARIO, '--arrivals', 'configured']);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      'infersim: error: slow-rate.json: request_rate: at 1e-9/s the 20 requests cannot be replayed: the simulation takes rates from 1e-9 to 1e9 per second, ' +
        'and arrivals within its 1e9 s time limit; replay the recorded send times instead (--arrivals recorded)',
    );
    expect(r.stderr).not.toContain('workload.');
    // GuideLLM's constant rate, replayed at k ÷ rate (no draw to fail): the same check, naming its strategy's rate.
    const g = JSON.parse(readFileSync(GUIDELLM, 'utf8'));
    g.benchmarks[0].config.strategy = { type_: 'constant', rate: 1e-12 };
    const gf = join(tmp, 'slow-guidellm.json');
    writeFileSync(gf, JSON.stringify(g));
    const run = readReal(gf);
    let message = '';
    try {
      simulateReal(run, choosePlan(run, 'configured'), { scenario: SCENARIO });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^slow-guidellm\.json: benchmarks\[0\]\.config\.strategy\.rate: at 1e-12\/s the 10 requests cannot be replayed: /);
  });
});
