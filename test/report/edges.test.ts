import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import { reportData } from '../../sim/report/index.js';
import type { LineChart } from '../../sim/report/model.js';
import { infersim, ROOT } from '../cli/cli.js';
import { suiteDir } from '../helpers.js';

const dir = suiteDir();
const quickstart = join(ROOT, 'scenarios/quickstart.yaml');

describe('report edge cases', () => {
  it('a run where every request timed out before its first step: no empty chart, and the sections say what they left out', () => {
    const out = join(dir, 'timed-out');
    const r = infersim(['run', quickstart, '--set', `output.dir=${out}`, '--set', 'workload.num_requests=20', '--set', 'workload.timeout_s=0.001', '--quiet']);
    expect(r.status).toBe(0);
    const data = reportData(out);
    for (const section of data.sections) {
      for (const chart of section.charts as LineChart[]) {
        expect(chart.series.some((s) => s.x.length > 0), `${section.title}: ${chart.title}`).toBe(true);
      }
    }
    const engine = data.sections.find((s) => s.title === 'Engine over time')!;
    expect(engine.note).toMatch(/Nothing to draw for .*Queue length/);
  });

  it('a truncated or foreign requests.arrow is one clear error, not a stack trace', () => {
    const good = join(dir, 'good');
    expect(infersim(['run', quickstart, '--set', `output.dir=${good}`, '--set', 'workload.num_requests=20', '--quiet']).status).toBe(0);
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    for (const f of ['summary.json', 'iterations.arrow']) copyFileSync(join(good, f), join(broken, f));
    const bytes = readFileSync(join(good, 'requests.arrow'));
    writeFileSync(join(broken, 'requests.arrow'), bytes.subarray(0, bytes.length >> 1));
    expect(() => reportData(broken)).toThrow(InfersimError);
    expect(() => reportData(broken)).toThrow(/requests\.arrow is not a readable Arrow IPC file/);
    // iterations.arrow under the name requests.arrow: a file without the request columns.
    copyFileSync(join(good, 'iterations.arrow'), join(broken, 'requests.arrow'));
    expect(() => reportData(broken)).toThrow(/has no column/);
    const cli = infersim(['report', broken]);
    expect(cli.status).toBe(1);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('report titles', () => {
  it('a run with pools of different GPUs names each pool', () => {
    const out = join(dir, 'mixed');
    expect(infersim(['run', join(ROOT, 'scenarios/mixed-h100-a100.yaml'), '--set', `output.dir=${out}`, '--set', 'workload.num_requests=40', '--quiet']).status).toBe(0);
    expect(reportData(out).title).toBe('infersim report: llama-3.1-8b on 2 × h100-sxm + 2 × a100-sxm-80gb');
  });
});

describe('engine features in the overview', () => {
  it('a pipelined run shows summary.json pipeline as a table; a plain run shows none', () => {
    const out = join(dir, 'pp');
    expect(infersim(['run', join(ROOT, 'scenarios/llama3.1-70b-pp2-h200.yaml'), '--set', `output.dir=${out}`, '--set', 'workload.num_requests=20', '--quiet']).status).toBe(0);
    const tables = reportData(out).sections[0].tables;
    const pipeline = tables.find((t) => t.title === 'Pipeline parallelism')!;
    expect(pipeline.rows).toContainEqual(['stages', '2']);
    expect(pipeline.rows).toContainEqual(['link', 'nvlink']);
    const plain = join(dir, 'plain-overview');
    expect(infersim(['run', quickstart, '--set', `output.dir=${plain}`, '--set', 'workload.num_requests=20', '--quiet']).status).toBe(0);
    expect(reportData(plain).sections[0].tables).toHaveLength(1);
  });
});
