// npm run bench: replays the Azure conversation trace (19,366 requests) on Llama-2-7B / H100
// through the compiled library, outputs included, in fresh processes; prints medians.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const scenarioFile = join(here, 'azure-conv-llama2-7b-h100.yaml');
const trace = join(here, '../../shared/data/traces/AzureLLMInferenceTrace_conv.csv');
const runs = Number(process.env.BENCH_RUNS ?? 5);
/** Vidur's whole run of this trace (issue 22: median, same machine class, same load). */
const VIDUR_S = 74;
/** Issue 22's acceptance for `infersim run` with bands, whole process. */
const TARGET_S = 0.5;
/** Rounds of the warm measurement; the median of those after the first two is the warm figure. */
const WARM_ROUNDS = 5;

if (process.argv[2] === '--warm-child') {
  // What `infersim run`'s thread does on two cores (the main run with its files, then the band's
  // two re-runs in the same thread, then the summary and files), WARM_ROUNDS times in one thread:
  // the first round pays V8's warm-up as a fresh process does, the later ones run optimised code.
  const lib = await import('../dist/sim/index.js');
  const setup = lib.resolveScenario(lib.loadScenario(scenarioFile).input);
  const rounds = [];
  for (let i = 0; i < WARM_ROUNDS; i++) {
    const t0 = performance.now();
    const { summary } = lib.runSimulation(setup, { outDir: join(process.argv[3], `round-${i}`), band_threads: false });
    const total_s = (performance.now() - t0) / 1000;
    const { wall_s, uncertainty_wall_s } = summary.simulator;
    rounds.push({ main_s: wall_s, band_s: uncertainty_wall_s, total_s });
  }
  console.log(JSON.stringify(rounds));
} else if (process.argv[2] === '--child') {
  const t0 = performance.now();
  const lib = await import('../dist/sim/index.js');
  const tImported = performance.now();
  const { input } = lib.loadScenario(scenarioFile);
  // 'core': the main run alone, without the two re-runs at the latency band's edges.
  if (process.argv[4] === 'core') input.metrics = { ...(input.metrics ?? {}), uncertainty: false };
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
  const measure = (mode) => {
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', join(dir, `out-${mode}-${i}`), mode], { encoding: 'utf8' });
      const wall_s = (performance.now() - start) / 1000;
      if (child.status !== 0) {
        console.error(child.stderr);
        process.exit(1);
      }
      samples.push({ ...JSON.parse(child.stdout.trim().split('\n').pop()), wall_s });
    }
    return samples;
  };
  const median = (samples, key) => {
    const v = samples.map((s) => s[key]).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)];
  };
  const report = (title, samples) => {
    console.log(title);
    console.log(`  whole process (start, load, simulate, write outputs, exit): ${median(samples, 'wall_s').toFixed(2)} s`);
    console.log(`  simulation + outputs (after module load):                  ${median(samples, 'run_s').toFixed(2)} s`);
    console.log(`  simulated requests per wall second:                        ${Math.round(samples[0].requests / median(samples, 'run_s')).toLocaleString('en-US')}`);
    console.log(`  events per wall second:                                    ${Math.round(samples[0].events / median(samples, 'run_s')).toLocaleString('en-US')}`);
    console.log(`  peak RSS:                                                  ${median(samples, 'max_rss_mib').toFixed(0)} MiB`);
  };
  const core = measure('core');
  const withBands = measure('bands');
  // What a user runs: `infersim run` (its simulation thread starts from the bundle with its code cache).
  // Each process's own split, from its summary.json: the main run's wall time (set-up and loop), the
  // band's re-runs', and the rest (Node's start, the thread and scenario, the summary and files, exit).
  const cli = (bands) => {
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const out = join(dir, `cli-${bands}-${i}`);
      const args = [join(here, '../bin/infersim.js'), 'run', scenarioFile, '--set', `metrics.uncertainty=${bands}`, '--out', out, '--quiet'];
      const child = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (child.status !== 0) {
        console.error(child.stderr);
        process.exit(1);
      }
      const wall_s = (performance.now() - start) / 1000;
      const sim = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).simulator;
      const band_s = sim.uncertainty_wall_s ?? 0;
      samples.push({ wall_s, main_s: sim.wall_s, band_s, rest_s: wall_s - sim.wall_s - band_s });
    }
    return samples;
  };
  const cliCoreRuns = cli(false);
  const cliBandsRuns = cli(true);
  const cliCore = median(cliCoreRuns, 'wall_s');
  const cliBands = median(cliBandsRuns, 'wall_s');
  const split = (samples) => {
    const band_s = median(samples, 'band_s');
    const bands = band_s > 0 ? `, band re-runs ${band_s.toFixed(2)} s` : '';
    return `main run ${median(samples, 'main_s').toFixed(2)} s${bands}, start, summary, files and exit ${median(samples, 'rest_s').toFixed(2)} s`;
  };
  // The same work warm: how much of `infersim run` is V8's warm-up, and what is left without it.
  const warmRounds = [];
  for (let i = 0; i < Math.max(1, Math.ceil(runs / 2)); i++) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--warm-child', join(dir, `warm-${i}`)], { encoding: 'utf8' });
    if (child.status !== 0) {
      console.error(child.stderr);
      process.exit(1);
    }
    warmRounds.push(...JSON.parse(child.stdout.trim().split('\n').pop()).slice(2));
  }
  const bareNode = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    bareNode.push({ wall_s: (performance.now() - start) / 1000 });
  }
  rmSync(dir, { recursive: true, force: true });
  const s = core[0];
  console.log(`Azure conv trace on Llama-2-7B / H100: ${s.requests} requests (${s.rejected} rejected by max_model_len 4096), ${s.steps} steps, ${s.events} events`);
  report(`median of ${runs} fresh processes, main run only (metrics.uncertainty: false):`, core);
  report(`median of ${runs} fresh processes, with the two re-runs at the latency band's edges (the default):`, withBands);
  console.log(`  ratio with bands / main run only (simulation + outputs):    ${(median(withBands, 'run_s') / median(core, 'run_s')).toFixed(2)}×`);
  console.log(`median of ${runs} fresh \`infersim run\` processes (start, load, simulate, write outputs, exit):`);
  console.log(`  main run only:                                             ${cliCore.toFixed(2)} s (${split(cliCoreRuns)})`);
  console.log(`  with the two re-runs at the band's edges (the default):    ${cliBands.toFixed(2)} s (${split(cliBandsRuns)})`);
  // What issue 22 is judged on. Vidur is not re-run here (it needs Python packages this bench does
  // not install): its time is the one measured side by side on the 2-core development machine.
  console.log(`against Vidur (Python; ${VIDUR_S} s for this trace under the same load, measured once on the 2-core development machine):`);
  console.log(`${'  `infersim run`, main run only:'.padEnd(61)}${Math.round(VIDUR_S / cliCore)}× faster`);
  console.log(`${"  `infersim run`, with the band's re-runs:".padEnd(61)}${Math.round(VIDUR_S / cliBands)}× faster (target: ≥ 100× and ≤ ${TARGET_S} s)`);
  // Why the target is not met on this machine: the run thread's work, warm, plus what is not simulation.
  const warmMain = median(warmRounds, 'main_s');
  const warmBands = median(warmRounds, 'band_s');
  const rest = median(cliBandsRuns, 'rest_s');
  console.log(`the run thread's work warm (rounds 3–${WARM_ROUNDS} of a process that runs it ${WARM_ROUNDS} times; V8 starts no process warm):`);
  console.log(`  main run ${warmMain.toFixed(2)} s (${median(cliBandsRuns, 'main_s').toFixed(2)} s cold in \`infersim run\`), band re-runs ${warmBands.toFixed(2)} s (${median(cliBandsRuns, 'band_s').toFixed(2)} s)`);
  console.log(`  + start, summary, files and exit as measured above (${rest.toFixed(2)} s; Node alone, \`node -e 0\`, ${median(bareNode, 'wall_s').toFixed(2)} s)`);
  console.log(`  = ${(rest + warmMain + warmBands).toFixed(2)} s for an \`infersim run\` whose simulation ran warm throughout (target ${TARGET_S} s)`);
}
