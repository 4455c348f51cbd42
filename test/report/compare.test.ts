import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { infersim, ROOT } from '../cli/cli.js';
import { reportData } from '../../sim/report/index.js';
import type { LineChart } from '../../sim/report/model.js';
import { suiteDir } from '../helpers.js';

const dir = suiteDir();

describe('a report of `infersim compare --dir`', () => {
  it('shows the error table and overlays the real and simulated CDFs of each metric', () => {
    const out = join(dir, 'cmp');
    const r = infersim(['compare', join(ROOT, 'test/fixtures/compare/vllm-bench-serve.json'), '--scenario', join(ROOT, 'scenarios/quickstart.yaml'), '--dir', out]);
    expect(r.status).toBe(0);
    const data = reportData(out);
    const section = data.sections.find((s) => s.title === 'Real benchmark against the simulation');
    expect(section).toBeDefined();
    const rows = section!.tables[0].rows;
    // The vLLM fixture has TTFT, TPOT, ITL and E2E, each with mean, p50, p90 and p99.
    expect(rows.length).toBe(16);
    const charts = section!.charts as LineChart[];
    expect(charts.map((c) => c.id)).toEqual(['compare-ttft_s', 'compare-tpot_s', 'compare-itl_s', 'compare-e2e_s']);
    for (const c of charts) {
      expect(c.series.map((s) => s.label)).toEqual(['real', 'simulated']);
      for (const s of c.series) {
        expect(s.x.length).toBeGreaterThan(1);
        // A CDF: values and fractions never decrease, and it ends at 1.
        for (let i = 1; i < s.x.length; i++) expect(s.x[i]).toBeGreaterThanOrEqual(s.x[i - 1]);
        expect(s.y[s.y.length - 1]).toBe(1);
      }
    }
  });

  it('a run folder without compare.json has no such section', () => {
    const out = join(dir, 'plain');
    const r = infersim(['run', join(ROOT, 'scenarios/quickstart.yaml'), '--set', `output.dir=${out}`, '--set', 'workload.num_requests=30', '--quiet']);
    expect(r.status).toBe(0);
    expect(reportData(out).sections.some((s) => s.title.startsWith('Real benchmark'))).toBe(false);
  });

  it('a simulation where every request was rejected: dashes, not 0 ms, and the missing overlays named', () => {
    const real = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/compare/vllm-bench-serve.json'), 'utf8')) as { input_lens: number[] };
    real.input_lens = real.input_lens.map(() => 4000);
    const file = join(dir, 'long-prompts.json');
    writeFileSync(file, JSON.stringify(real));
    const out = join(dir, 'rejected');
    const r = infersim(['compare', file, '--scenario', join(ROOT, 'scenarios/quickstart.yaml'), '--set', 'engine.max_model_len=2048', '--dir', out]);
    expect(r.status).toBe(0);
    const section = reportData(out).sections.find((s) => s.title === 'Real benchmark against the simulation')!;
    for (const row of section.tables[0].rows) expect(row.slice(3)).toEqual(['—', '—', '—']);
    expect(section.charts).toHaveLength(0);
    expect(section.note).toMatch(/No overlay for TTFT \(no simulated values\)/);
  });
});
