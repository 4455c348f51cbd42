import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareStartupRow } from '../../sim/fidelity/startup.js';
import { infersim } from '../cli/cli.js';

const CSV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/measured/vllm_startup_capacity.csv');
const haveData = existsSync(CSV);
if (!haveData) console.warn(`skipping validate real on the start-up table: ${CSV} is absent (the shared data lives beside the checkout)`);

describe('a start-up row mapped to a scenario', () => {
  const row = {
    source: 'https://github.com/llm-d-incubation/llm-d-planner PR #205', vllm_version: '0.19.0', engine: 'V1', gpu: 'H100 80GB', tp: '1', pp: '1',
    model: 'meta-llama/Llama-3.1-8B-Instruct', dtype: 'bfloat16', quantization: 'none', kv_cache_dtype: 'auto', gpu_memory_utilization: '0.95',
    max_model_len: '8192', max_num_seqs: '1024 (logged default)', max_num_batched_tokens: '8192', enforce_eager: 'false', block_size: '16 (default)',
    kv_cache_tokens: '476016',
  };

  it('reads the leading figure of each cell and compares tokens with tokens', () => {
    const c = compareStartupRow(row);
    expect(c).toMatchObject({ label: 'llm-d 0.19.0 Llama-3.1-8B-Instruct H100 tp1pp1 len 8192', unit: 'tokens', printed: 476016 });
    expect(Math.abs(c.error as number)).toBeLessThanOrEqual(0.03);
  });

  it('skips with a reason what it cannot map', () => {
    expect(compareStartupRow({ ...row, gpu: 'RTX 4090 24GB' }).skipped).toBe('GPU not in the catalog: RTX 4090 24GB');
    expect(compareStartupRow({ ...row, model: 'Qwen/Qwen3-14B' }).skipped).toBe('model not in the catalog: Qwen/Qwen3-14B');
    expect(compareStartupRow({ ...row, quantization: 'GPTQ 4-bit' }).label).toContain('GPTQ');
    expect(compareStartupRow({ ...row, vllm_version: 'main (not stated)' }).skipped).toMatch(/^no release from 0\.2 to 0\.19 named/);
    expect(compareStartupRow({ ...row, kv_cache_tokens: '' }).skipped).toBe('prints no KV figure');
  });
});

describe.skipIf(!haveData)('infersim validate real on vLLM start-up capacities', () => {
  it('reproduces the rows it can map, median |error| ≤ 3 %, and names why it skips the others', () => {
    const r = infersim(['validate', 'real', CSV, '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { rows: { skipped?: string }[]; kv_capacity: { median_abs_error: number } };
    expect(report.rows.length).toBe(34);
    expect(report.rows.filter((x) => x.skipped === undefined).length).toBeGreaterThanOrEqual(10);
    expect(report.kv_capacity.median_abs_error).toBeLessThanOrEqual(0.03);
    for (const x of report.rows) if (x.skipped !== undefined) expect(x.skipped.length).toBeGreaterThan(10);
  });
});

describe('validate real: a CSV that is not a start-up table', () => {
  it('is one clear line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'infersim-startup-'));
    try {
      const file = path.join(dir, 'x.csv');
      writeFileSync(file, 'a,b\n1,2\n');
      const r = infersim(['validate', 'real', file]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`infersim: error: path: ${file} has no vllm_version column (a start-up capacity table names vllm_version per row)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
