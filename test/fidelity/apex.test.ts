import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorFigures } from '../../sim/fidelity/figures.js';
import { apexScenario, compareApexRun, readApexRuns } from '../../sim/fidelity/apex.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { infersim } from '../cli/cli.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/measured/apex_vllm060');
const haveData = existsSync(DIR);
if (!haveData) console.warn(`skipping the apex replays: ${DIR} is absent (the shared data lives beside the checkout)`);

describe.skipIf(!haveData)('real vLLM 0.6 runs replayed (../shared/data/measured/apex_vllm060)', () => {
  const runs = haveData ? readApexRuns(DIR) : [];

  it('reads every results file with its configuration and trace', () => {
    expect(runs.length).toBe(14);
    const tp = (name: string) => runs.find((r) => r.name === name)?.tensor_parallel;
    expect([tp('llama_creation_05_validation_8TP'), tp('llama_creation_05_validation_4TP'), tp('llama_creation_05_validation_2DP4TP_0'), tp('llama_creation_05_validation_4DP2TP_0')]).toEqual([8, 4, 4, 2]);
    // The results file states the servers' means (vLLM TTFT 0.04547810911511382 s for the 4TP run at 0.5 req/s).
    expect(runs.find((r) => r.name === 'llama_creation_05_validation_4TP')?.ttft_mean_s).toBe(0.04547810911511382);
  });

  it('resolves each run as its server ran: vLLM 0.6 defaults, chunking past a 32K context', () => {
    const engine = (name: string) => resolveScenario(parseScenarioObject(apexScenario(runs.find((r) => r.name === name)!))).scenario.engine;
    expect(engine('llama_creation_05_validation_8TP')).toMatchObject({ vllm_version: '0.6', scheduler: 'sarathi', max_num_batched_tokens: 512, max_num_seqs: 256 });
    expect(engine('llama_creation_05_validation_4DP2TP_0')).toMatchObject({ vllm_version: '0.6', scheduler: 'vllm-v0', max_num_batched_tokens: 24272 });
  });

  it('predicts the time per output token: median |error| ≤ 5 %, none over 10 %', () => {
    const tpot = errorFigures(runs.map((r) => compareApexRun(r).tpot_error));
    expect(tpot.median_abs_error).toBeLessThanOrEqual(0.05);
    expect(tpot.max_abs_error).toBeLessThanOrEqual(0.1);
  });

  it('infersim validate real prints the table and the error summary', () => {
    const r = infersim(['validate', 'real', DIR]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^run\s+TP\s+req\s+TTFT real\s+sim\s+error\s+TPOT real\s+sim\s+error$/);
    expect(lines.length).toBe(1 + 14 + 1);
    expect(lines[lines.length - 1]).toMatch(/^TTFT \|error\| median [\d.]+ %, max [\d.]+ %; TPOT \|error\| median [\d.]+ %, max [\d.]+ % \(14 runs;/);
  });
});

describe('validate real: bad input', () => {
  it('a missing path is one clear line', () => {
    const r = infersim(['validate', 'real', '/nonexistent/apex']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('infersim: error: path: must be a folder of real runs in the apex layout (results/*.txt and traces/*.jsonl) or a CSV of vLLM start-up capacities, got "/nonexistent/apex"');
  });
});
