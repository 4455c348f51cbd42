// node bench/reruns.mjs (after npm run build): how much warmer the band's re-runs start than a
// fresh process. Runs the Azure trace's main run (no files) and then its low- and high-edge
// re-runs twice, in one thread, as `infersim run` does on two cores, and prints each run's time
// and the first re-runs' cost over the warm second ones (the median of BENCH_RUNS processes).
// A re-run that starts much slower than the second round is recompiling the step code the main
// run had optimised: V8 hidden classes, field kinds or call targets that differ between runs
// (docs/performance.md, "eighteenth session"). `node --trace-deopt bench/reruns.mjs --child`
// shows which functions are thrown away, and why.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const scenarioFile = join(here, 'azure-conv-llama2-7b-h100.yaml');
const trace = join(here, '../../shared/data/traces/AzureLLMInferenceTrace_conv.csv');
const ORDER = ['main', 'low', 'high', 'low', 'high'];

if (process.argv[2] === '--child') {
  const lib = await import('../dist/sim/index.js');
  const { input } = lib.loadScenario(scenarioFile);
  input.metrics = { ...(input.metrics ?? {}), uncertainty: false };
  const setup = lib.resolveScenario(input);
  const times_s = ORDER.map((run) => {
    const t0 = performance.now();
    if (run === 'main') lib.runSimulation(setup, { iterations: false, band_threads: false });
    else lib.runSimulation(setup, { band_edge: run, band_threads: false, iterations: false });
    return (performance.now() - t0) / 1000;
  });
  console.log(JSON.stringify(times_s));
} else {
  if (!existsSync(trace)) {
    console.log(`skipped: the Azure trace is not at ${trace} (../shared holds it)`);
    process.exit(0);
  }
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const rows = [];
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    rows.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const med = ORDER.map((_, k) => median(rows.map((row) => row[k])));
  console.log(`medians of ${runs} processes, s: ${ORDER.map((run, k) => `${run} ${med[k].toFixed(3)}`).join(', ')}`);
  const first = med[1] + med[2];
  const warm = med[3] + med[4];
  console.log(`first re-runs ${first.toFixed(3)} s, warm re-runs ${warm.toFixed(3)} s: ${(first / warm).toFixed(2)}× (1.00 would be re-runs as warm as they get)`);
}
