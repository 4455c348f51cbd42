import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptJson } from '../../sim/report/html.js';
import type { ReportData } from '../../sim/report/model.js';
import { infersim } from '../cli/cli.js';
import { suiteDir } from '../helpers.js';
import { checkReport, chromiumPath, launchChromium } from './browser.js';

/*
 * The report opened in a real browser: Debian's Chromium, headless, driven by playwright-core.
 * .ci/run installs Chromium on a fresh machine; without it these tests skip and say why.
 */
const exe = chromiumPath();
if (exe === undefined) console.warn('test/report/browser.test.ts: skipped: no Chromium (apt-get install chromium, or set INFERSIM_CHROMIUM to its path)');

// .ci/run sets INFERSIM_REQUIRE_CHROMIUM: there a missing browser is a failure, not a quiet skip.
describe.runIf(exe === undefined && process.env.INFERSIM_REQUIRE_CHROMIUM === '1')('Chromium where it is required', () => {
  it('is installed (.ci/run installs Debian\'s chromium before the tests)', () => {
    expect.fail('no Chromium found, but INFERSIM_REQUIRE_CHROMIUM=1: the report\'s browser test would not run');
  });
});

const dir = suiteDir();
let browser: Browser;

function cli(args: string[]): void {
  const r = infersim(args);
  if (r.status !== 0) throw new Error(`infersim ${args.join(' ')} failed:\n${r.stderr}`);
}

/** The report at `file` with its embedded data changed by `edit` and `extra` HTML added to its end. */
function broken(file: string, name: string, edit: (d: ReportData) => void, extra = ''): string {
  const html = readFileSync(file, 'utf8');
  const re = /(<script type="application\/json" id="infersim-data">)(.*?)(<\/script>)/s;
  const data = JSON.parse(re.exec(html)![2]!) as ReportData;
  edit(data);
  const out = join(dir, name);
  writeFileSync(out, html.replace(re, (_, open: string, __: string, close: string) => open + scriptJson(data) + close).replace('</body>', `${extra}</body>`));
  return out;
}

describe.skipIf(exe === undefined)('the report in headless Chromium', () => {
  beforeAll(async () => {
    // Two replicas, KV pressure (preemptions) and shared prefixes (cache hits): every panel has data.
    cli(['run', 'scenarios/kv-pressure-l4.yaml', '--set', 'cluster.replicas=2', '--set', 'workload.num_requests=128', '--set', 'workload.prefix.groups=4', '--set', 'workload.prefix.tokens=800', '--set', 'workload.prefix.fraction=0.7', '--out', join(dir, 'run'), '--report', '--quiet']);
    cli(['sweep', 'scenarios/quickstart.yaml', '--grid', 'engine.max_num_seqs=8,64', '--grid', 'engine.block_size=16,32', '--set', 'workload.num_requests=60', '--jobs', '1', '--out', join(dir, 'sweep'), '--report']);
    browser = await launchChromium(exe!);
  }, 120_000);
  afterAll(async () => browser?.close());

  it("draws every chart of a run's report with data, logs no error, and is screenshotted", async () => {
    const shot = join(dir, 'run.png');
    const r = await checkReport(browser, join(dir, 'run', 'report.html'), shot);
    expect(r.problems).toEqual([]);
    expect(r.expected).toEqual(expect.arrayContaining(['cdf-ttft', 'cdf-tpot', 'cdf-itl', 'cdf-e2e', 'ttft-arrival', 'throughput', 'waiting', 'running', 'kv', 'preemptions', 'prefix-hits']));
    expect(r.charts.map((c) => c.id).sort()).toEqual([...r.expected].sort());
    expect(r.charts.find((c) => c.id === 'kv')?.points).toHaveLength(2);
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    console.log(`report screenshot: ${shot} (loaded and drawn in ${Math.round(r.loadMs)} ms)`);
  }, 60_000);

  it("draws a sweep's Pareto fronts and heat maps", async () => {
    const r = await checkReport(browser, join(dir, 'sweep', 'report.html'), join(dir, 'sweep.png'));
    expect(r.problems).toEqual([]);
    expect(r.expected).toEqual(['pareto-output_tokens_per_s', 'pareto-usd_per_million_output_tokens', 'heat-goodput_req_per_s', 'heat-ttft_p99_s']);
    expect(existsSync(join(dir, 'sweep.png'))).toBe(true);
  }, 60_000);

  it('fails a chart left empty', async () => {
    const file = broken(join(dir, 'run', 'report.html'), 'empty-chart.html', (d) => {
      const c = d.sections.flatMap((s) => s.charts).find((x) => x.id === 'cdf-tpot')!;
      if (c.type !== 'heatmap') c.series[0] = { label: 'TPOT', x: [], y: [] };
    });
    const r = await checkReport(browser, file);
    expect(r.problems).toEqual(['chart cdf-tpot (TPOT CDF): no data in any series']);
  }, 60_000);

  it('fails a chart whose data is there but not drawn (its canvas blanked)', async () => {
    const blank = `<script>(window.__infersimCharts || []).filter(function (c) { return c.id === 'kv'; }).forEach(function (c) { var x = c.canvas.getContext('2d'); x.fillStyle = '#fff'; x.fillRect(0, 0, c.canvas.width, c.canvas.height); });</script>`;
    const r = await checkReport(browser, broken(join(dir, 'run', 'report.html'), 'blank-chart.html', () => undefined, blank));
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^chart kv \(KV-cache use\): its plot box is blank/);
  }, 60_000);

  it('fails a page that logs an error or throws, or a chart that fails to draw', async () => {
    const logs = await checkReport(browser, broken(join(dir, 'run', 'report.html'), 'logs.html', () => undefined, '<script>console.error("boom")</script>'));
    expect(logs.problems).toEqual(['console: boom']);
    const throws = await checkReport(browser, broken(join(dir, 'run', 'report.html'), 'throws.html', () => undefined, '<script>null.x</script>'));
    expect(throws.problems).toHaveLength(1);
    expect(throws.problems[0]).toMatch(/^page error: .*null/);
    const failed = broken(join(dir, 'run', 'report.html'), 'bad-chart.html', (d) => {
      const c = d.sections.flatMap((s) => s.charts).find((x) => x.id === 'throughput')!;
      if (c.type !== 'heatmap') (c as { series: unknown }).series = null;
    });
    const r = await checkReport(browser, failed);
    expect(r.problems).toEqual([expect.stringMatching(/^console: chart throughput failed/), 'chart throughput: not drawn']);
  }, 60_000);
});
