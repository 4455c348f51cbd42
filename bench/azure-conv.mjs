// npm run bench: replays the Azure conversation trace (19,366 requests) on Llama-2-7B / H100
// through the compiled library, outputs included, in fresh processes; prints medians.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const scenarioFile = join(here, 'azure-conv-llama2-7b-h100.yaml');
const trace = join(here, '../../shared/data/traces/AzureLLMInferenceTrace_conv.csv');
const runs = Number(process.env.BENCH_RUNS ?? 5);

if (process.argv[2] === '--child') {
  const t0 = performance.now();
  const lib = await import('../dist/sim/index.js');
  const tImported = performance.now();
  const { input } = lib.loadScenario(scenarioFile);
  const result = lib.runSimulation(lib.resolveScenario(input), { outDir: process.argv[3] });
  const t1 = performance.now();
  console.log(
    JSON.stringify({
      run_s: (t1 - tImported) / 1000,
      import_s: (tImported - t0) / 1000,
      process_s: process.uptime(),
      requests: result.totals.requests,
      rejected: result.totals.rejected,
      steps: result.totals.steps,
      events: result.totals.events,
      max_rss_mib: process.resourceUsage().maxRSS / 1024,
    }),
  );
} else {
  if (!existsSync(trace)) {
    console.log(`bench skipped: ${trace} is absent (../shared/data is not checked out)`);
    process.exit(0);
  }
  if (!existsSync(join(here, '../dist/sim/index.js'))) {
    console.error('bench: run `npm run build` first (npm run bench does)');
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'infersim-bench-'));
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', join(dir, `out${i}`)], { encoding: 'utf8' });
    const wall_s = (performance.now() - start) / 1000;
    if (child.status !== 0) {
      console.error(child.stderr);
      process.exit(1);
    }
    samples.push({ ...JSON.parse(child.stdout.trim().split('\n').pop()), wall_s });
  }
  rmSync(dir, { recursive: true, force: true });
  const median = (key) => {
    const v = samples.map((s) => s[key]).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)];
  };
  const s = samples[0];
  console.log(`Azure conv trace on Llama-2-7B / H100: ${s.requests} requests (${s.rejected} rejected by max_model_len 4096), ${s.steps} steps, ${s.events} events`);
  console.log(`median of ${runs} fresh processes:`);
  console.log(`  whole process (start, load, simulate, write outputs, exit): ${median('wall_s').toFixed(2)} s`);
  console.log(`  simulation + outputs (after module load):                  ${median('run_s').toFixed(2)} s`);
  console.log(`  simulated requests per wall second:                        ${Math.round(s.requests / median('run_s')).toLocaleString('en-US')}`);
  console.log(`  events per wall second:                                    ${Math.round(s.events / median('run_s')).toLocaleString('en-US')}`);
  console.log(`  peak RSS:                                                  ${median('max_rss_mib').toFixed(0)} MiB`);
}
