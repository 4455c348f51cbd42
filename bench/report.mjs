// `npm run bench:report`: the report of a million-request run. Simulates 1,000,000 requests on 8
// H100 replicas of Llama-3.1-8B at ~93 % of their capacity (235 req/s against ~253 at saturation;
// ~1 min), writes report.html with `infersim report`, and opens it 3 times in headless Chromium
// (Debian's /usr/bin/chromium, or INFERSIM_CHROMIUM), each in a fresh browser context: the time from
// navigation to the page's script having drawn every chart and the next frame painted. Prints the
// file's size and the median. BENCH_REQUESTS and BENCH_RATE change the run; the machine's load
// average is printed, since other work skews the figures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const requests = Number(process.env.BENCH_REQUESTS ?? 1_000_000);
const rate = Number(process.env.BENCH_RATE ?? 235);
const exe = [process.env.INFERSIM_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
if (exe === undefined) throw new Error('no Chromium: apt-get install chromium, or set INFERSIM_CHROMIUM');
const dir = mkdtempSync(join(tmpdir(), 'infersim-bench-report-'));
const scenario = join(dir, 'scenario.yaml');
writeFileSync(
  scenario,
  `seed: 5
model: llama-3.1-8b
hardware: { gpu: h100-sxm }
cluster: { replicas: 8, router: least-outstanding }
workload:
  arrival: { process: poisson, rate_per_s: ${rate} }
  input_tokens: { dist: uniform, min: 50, max: 1000 }
  output_tokens: { dist: uniform, min: 20, max: 300 }
  num_requests: ${requests}
slo: { ttft_ms: 500, tpot_ms: 50 }
metrics: { uncertainty: false }
`,
);

function infersim(args) {
  const start = process.hrtime.bigint();
  const p = spawnSync(process.execPath, [join(root, 'bin/infersim.js'), ...args], { encoding: 'utf8', env: { ...process.env, INFERSIM_FROM_SOURCE: '0' } });
  if (p.status !== 0) throw new Error(`infersim ${args.join(' ')} failed: ${p.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const out = join(dir, 'run');
const simS = infersim(['run', scenario, '--out', out, '--quiet']);
const reportS = infersim(['report', out]);
const file = join(out, 'report.html');
const mb = (bytes) => (bytes / 1e6).toFixed(2);
console.log(`${requests.toLocaleString('en-US')} requests at ${rate} req/s on 8 replicas: simulated in ${simS.toFixed(1)} s; requests.arrow ${mb(statSync(join(out, 'requests.arrow')).size)} MB, iterations.arrow ${mb(statSync(join(out, 'iterations.arrow')).size)} MB`);
const size = statSync(file).size;
console.log(`infersim report: ${reportS.toFixed(2)} s; report.html ${mb(size)} MB`);

const browser = await chromium.launch({ executablePath: exe, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const times = [];
for (let i = 0; i < 3; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const start = performance.now();
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  const ms = performance.now() - start;
  const charts = await page.evaluate(() => window.__infersimCharts.length);
  if (errors.length > 0) throw new Error(`the page logged errors: ${errors.join('; ')}`);
  times.push(ms);
  console.log(`load ${i + 1}: ${ms.toFixed(0)} ms to ${charts} charts drawn (load average ${loadavg()[0].toFixed(2)})`);
  await context.close();
}
await browser.close();
rmSync(dir, { recursive: true, force: true });
const median = [...times].sort((a, b) => a - b)[1];
console.log(`report.html ${mb(size)} MB; median of 3: ${median.toFixed(0)} ms from navigation to every chart drawn`);
