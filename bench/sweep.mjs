// `npm run bench:sweep`: the same sweep (8 points, a burst of requests on Llama-3.1-8B / H100)
// with --jobs 1 and --jobs 2, alternating, 3 times each, in fresh processes from the compiled
// build; prints each time, the medians and the speed-up. Whole-process wall time (start, the
// workers' start, every point, sweep.arrow, exit). Two sizes by default: 100,000 requests a point
// (~0.5 s each, so the CLI's and the workers' start still weigh) and 300,000 (~2 s each, the
// points of a second or more that --jobs is judged on).
// BENCH_REQUESTS (a comma-separated list) and BENCH_REPEATS change the sizes and the number of runs;
// the machine's load average is printed, since other work skews the figures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'infersim-bench-sweep-'));
const sizes = (process.env.BENCH_REQUESTS ?? '100000,300000').split(',').map(Number);
if (!sizes.every((n) => Number.isSafeInteger(n) && n > 0)) throw new Error(`BENCH_REQUESTS: expected positive integers separated by commas, got ${process.env.BENCH_REQUESTS}`);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const grid = ['--grid', 'engine.max_num_seqs=32,64,128,256', '--grid', 'engine.block_size=16,32'];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = [];
let run = 0;
for (const requests of sizes) {
  const scenario = join(dir, `burst-${requests}.yaml`);
  writeFileSync(
    scenario,
    `seed: 3
model: llama-3.1-8b
hardware: { gpu: h100-sxm }
workload:
  arrival: { process: burst }
  input_tokens: { dist: uniform, min: 50, max: 400 }
  output_tokens: { dist: uniform, min: 20, max: 200 }
  num_requests: ${requests}
slo: { ttft_ms: 2000, tpot_ms: 50 }
`,
  );
  const times = { 1: [], 2: [] };
  for (let r = 0; r < repeats; r++) {
    for (const jobs of [1, 2]) {
      const out = join(dir, `out-${run++}`);
      const start = process.hrtime.bigint();
      const p = spawnSync(process.execPath, [join(root, 'bin/infersim.js'), 'sweep', scenario, ...grid, '--jobs', String(jobs), '--out', out], {
        encoding: 'utf8',
        env: { ...process.env, INFERSIM_FROM_SOURCE: '0' },
      });
      const s = Number(process.hrtime.bigint() - start) / 1e9;
      if (p.status !== 0) throw new Error(`sweep failed: ${p.stderr}`);
      times[jobs].push(s);
      console.log(`${requests} requests a point, --jobs ${jobs}: ${s.toFixed(2)} s (load average ${loadavg()[0].toFixed(2)})`);
      rmSync(out, { recursive: true, force: true });
    }
  }
  const m1 = median(times[1]);
  const m2 = median(times[2]);
  summary.push(`${requests} requests a point: --jobs 1 ${m1.toFixed(2)} s, --jobs 2 ${m2.toFixed(2)} s: ${(m1 / m2).toFixed(2)}× faster`);
}
rmSync(dir, { recursive: true, force: true });
console.log(`medians of ${repeats} on ${availableParallelism()} cores, 8 points:`);
for (const line of summary) console.log(`  ${line}`);
