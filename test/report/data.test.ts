import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportHtml, scriptJson } from '../../sim/report/html.js';
import { reportData, writeReport } from '../../sim/report/index.js';
import { sig, type LineChart, type ReportData } from '../../sim/report/model.js';
import { infersim } from '../cli/cli.js';
import { arrowRows, run, scenario, suiteDir } from '../helpers.js';

const dir = suiteDir();
let data: ReportData;

const chart = (d: ReportData, id: string): LineChart => d.sections.flatMap((s) => s.charts).find((c) => c.id === id) as LineChart;

beforeAll(() => {
  const input = scenario({ cluster: { replicas: 2 }, workload: { arrival: { process: 'poisson', rate_per_s: 40 }, input_tokens: { dist: 'uniform', min: 50, max: 2000 }, output_tokens: { dist: 'uniform', min: 2, max: 100 }, num_requests: 30 } });
  run(input, join(dir, 'run'));
  data = reportData(join(dir, 'run'));
});

describe('report data of a small run', () => {
  it("TTFT's CDF holds every request's TTFT in order at (r + 1) / n", () => {
    const ttft = arrowRows(join(dir, 'run'), 'requests.arrow')
      .map((r) => r.ttft_s as number | null)
      .filter((v): v is number => v !== null)
      .sort((a, b) => a - b);
    expect(ttft).toHaveLength(30);
    const s = chart(data, 'cdf-ttft').series[0]!;
    expect(s.x).toEqual(ttft.map(sig));
    expect(s.y).toEqual(ttft.map((_, i) => sig((i + 1) / 30)));
  });

  it('draws one line per replica and a per-replica table', () => {
    expect(chart(data, 'waiting').series.map((s) => s.label)).toEqual(['replica 0', 'replica 1']);
    const tables = data.sections.flatMap((s) => s.tables);
    expect(tables.find((t) => t.title === 'Per replica')?.rows.map((r) => r[0])).toEqual(['replica 0', 'replica 1']);
    const summary = JSON.parse(readFileSync(join(dir, 'run', 'summary.json'), 'utf8')) as { overall: { ttft_s: { p50: number } } };
    const row = tables.find((t) => t.title === 'Latency percentiles (ms)')!.rows[0]!;
    expect(row[0]).toBe('TTFT');
    expect(row[2]).toContain(Number((summary.overall.ttft_s.p50 * 1000).toPrecision(4)).toLocaleString('en-US', { maximumSignificantDigits: 4 }));
  });

  it('bounds every series by maxPoints and keeps the largest latency', () => {
    const small = reportData(join(dir, 'run'), 10);
    for (const c of small.sections.flatMap((s) => s.charts)) {
      if (c.type === 'heatmap' || c.id.startsWith('cdf-') || ['throughput', 'completions', 'preemptions', 'prefix-hits'].includes(c.id)) continue;
      for (const s of c.series) expect(s.x.length, `${c.id} ${s.label}`).toBeLessThanOrEqual(10);
    }
    const e2e = arrowRows(join(dir, 'run'), 'requests.arrow').map((r) => r.e2e_s as number);
    expect(Math.max(...chart(small, 'e2e-arrival').series[0]!.y)).toBe(sig(Math.max(...e2e)));
  });
});

describe('the HTML page', () => {
  it('is self-contained: no http(s) src or href, no external script or stylesheet, a CSP that forbids loading', () => {
    const html = reportHtml(data);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<script[^>]*\bsrc\s*=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain("default-src 'none'");
    expect(html).toContain(readFileSync('node_modules/uplot/dist/uPlot.iife.min.js', 'utf8'));
    const json = /<script type="application\/json" id="infersim-data">(.*?)<\/script>/s.exec(html)![1]!;
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(data)));
  });

  it('embeds JSON that cannot end its script element', () => {
    const text = scriptJson({ s: '</script><script>alert(1)</script>\u2028' });
    expect(text).not.toContain('<');
    expect(JSON.parse(text)).toEqual({ s: '</script><script>alert(1)</script>\u2028' });
  });
});

describe('infersim report (CLI)', () => {
  it('writes DIR/report.html, or the --out file', () => {
    const r = writeReport(join(dir, 'run'));
    expect(r.file).toBe(join(dir, 'run', 'report.html'));
    const cli = infersim(['report', join(dir, 'run'), '--out', join(dir, 'x', 'r.html')]);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/^wrote .*x\/r\.html \(\d+ KB, run report\)\n$/);
    expect(existsSync(join(dir, 'x', 'r.html'))).toBe(true);
  });

  it('names the missing folder or file in one line', () => {
    const missing = infersim(['report', join(dir, 'nowhere')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`infersim: error: report: ${join(dir, 'nowhere')} does not exist\n`);
    cpSync(join(dir, 'run'), join(dir, 'partial'), { recursive: true });
    rmSync(join(dir, 'partial', 'iterations.arrow'));
    const partial = infersim(['report', join(dir, 'partial')]);
    expect(partial.status).toBe(1);
    expect(partial.stderr).toContain(`${join(dir, 'partial', 'iterations.arrow')} does not exist`);
    expect(partial.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('run --report writes the page beside the outputs', () => {
    const out = join(dir, 'cli-run');
    const r = infersim(['run', 'scenarios/quickstart.yaml', '--set', 'workload.num_requests=20', '--set', 'metrics.uncertainty=false', '--out', out, '--report']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`wrote ${join(out, 'report.html')}`);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('infersim report: llama-3.1-8b');
    // The report is part of the output: a rerun into the folder replaces it rather than refusing a foreign file.
    const again = infersim(['run', 'scenarios/quickstart.yaml', '--set', 'workload.num_requests=20', '--set', 'metrics.uncertainty=false', '--out', out, '--quiet']);
    expect(again.stderr).toBe('');
    expect(existsSync(join(out, 'report.html'))).toBe(false);
  });
});
