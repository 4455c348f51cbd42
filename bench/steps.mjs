// node bench/steps.mjs [runs] [requests] (after npm run build): what one engine step costs when
// almost every step is the same, in one process, warm. 16 sequences at a time (max_num_seqs 16)
// each decode 2,000 tokens of a 16-token prompt while the other requests wait their turn: nearly
// every step is the decode runs alone (docs/lazy-decode.md) plus a look at the waiting queue, and
// nothing is queued before it ends. The workload needs no shared data.
// Prints each run's time and the median ns per step of the runs after the first three (warm-up).
const lib = await import('../dist/sim/index.js');

const runs = Number(process.argv[2] ?? 12);
const requests = Number(process.argv[3] ?? 2400);
if (!(Number.isInteger(runs) && runs >= 4 && Number.isInteger(requests) && requests >= 1)) {
  console.error(`usage: node bench/steps.mjs [runs ≥ 4, default 12] [requests ≥ 1, default 2400]; got ${process.argv.slice(2).join(' ')}`);
  process.exit(2);
}
const setup = lib.resolveScenario({
  seed: 1,
  model: 'llama-2-7b',
  hardware: { gpu: 'h100-sxm' },
  precision: { weights: 'fp16', kv_cache: 'fp16' },
  engine: { scheduler: 'vllm', max_num_seqs: 16 },
  workload: {
    arrival: { process: 'burst' },
    input_tokens: { dist: 'fixed', value: 16 },
    output_tokens: { dist: 'fixed', value: 2000 },
    num_requests: requests,
  },
  metrics: { uncertainty: false },
});
const times_ms = [];
let steps = 0;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  steps = lib.runSimulation(setup, { iterations: false, band_threads: false }).totals.steps;
  times_ms.push(performance.now() - t0);
}
const warm = times_ms.slice(3).sort((a, b) => a - b);
const median_ms = warm[Math.floor(warm.length / 2)];
console.log(`${steps} steps a run; ms: ${times_ms.map((t) => t.toFixed(1)).join(' ')}`);
console.log(`warm median ${median_ms.toFixed(1)} ms: ${((1e6 * median_ms) / steps).toFixed(0)} ns a step`);
