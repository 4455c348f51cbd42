// Part of `npm run bench`: a million requests (8 H100 replicas of Llama-3.1-8B, Poisson near
// saturation, every output file written) in a fresh process, through the compiled library: wall
// time, events per second and peak RSS. BENCH_SCALE_REQUESTS lists the sizes, e.g.
// BENCH_SCALE_REQUESTS=1000000,10000000 for the 10 M case (about 31–40 s and 230 MiB on a 2-core
// machine; not run by default). One run per size: a run this long varies by a few per cent, and
// the figures are read for the trend with the request count (time linear, memory flat).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const scenarioFile = join(here, 'scale-8x-h100.yaml');

if (process.argv[2] === '--child') {
  const lib = await import('../dist/sim/index.js');
  const { input } = lib.loadScenario(scenarioFile);
  input.workload.num_requests = Number(process.argv[4]);
  const t0 = performance.now();
  const result = lib.runSimulation(lib.resolveScenario(input), { outDir: process.argv[3] });
  const run_s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ run_s, requests: result.totals.requests, steps: result.totals.steps, events: result.totals.events, max_rss_mib: process.resourceUsage().maxRSS / 1024 }));
} else {
  if (!existsSync(join(here, '../dist/sim/index.js'))) {
    console.error('bench: run `npm run build` first (npm run bench does)');
    process.exit(1);
  }
  const sizes = (process.env.BENCH_SCALE_REQUESTS ?? '1000000').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'infersim-bench-scale-'));
  console.log('8 × H100, Llama-3.1-8B, Poisson at 235 req/s (~93 % of saturation), outputs written; one fresh process per size:');
  for (const n of sizes) {
    const start = performance.now();
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', join(dir, `out-${n}`), String(n)], { encoding: 'utf8' });
    const wall_s = (performance.now() - start) / 1000;
    rmSync(join(dir, `out-${n}`), { recursive: true, force: true });
    if (child.status !== 0) {
      console.error(child.stderr);
      rmSync(dir, { recursive: true, force: true });
      process.exit(1);
    }
    const r = JSON.parse(child.stdout.trim().split('\n').pop());
    const eventsPerS = Math.round(r.events / r.run_s).toLocaleString('en-US');
    console.log(`  ${n.toLocaleString('en-US')} requests: whole process ${wall_s.toFixed(1)} s, simulation + outputs ${r.run_s.toFixed(1)} s, ${eventsPerS} events/s, ${r.steps.toLocaleString('en-US')} steps, peak RSS ${r.max_rss_mib.toFixed(0)} MiB`);
  }
  console.log(`  load average ${loadavg()[0].toFixed(2)} (other work skews these figures)`);
  rmSync(dir, { recursive: true, force: true });
}
