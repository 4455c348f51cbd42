// node bench/steps.mjs [runs] [requests] (after npm run build): what one engine step costs when
// almost every step is the same, in one process, warm. 16 sequences at a time (max_num_seqs 16)
// each decode 2,000 tokens of a 16-token prompt, in two workloads that need no shared data:
// - `queued`: the other requests wait their turn (a burst): nearly every step is the decode runs
//   alone (docs/lazy-decode.md) plus a look at the waiting queue, and nothing is queued before it ends;
// - `nobody waiting`: 16 clients in a closed loop, each sending its next request when one ends:
//   nearly every step is the runs alone with nobody waiting, which skips the scheduler's pass
//   (ReplicaSteps.runsSteps; INFERSIM_DECODE_RUN_STEPS=0 turns that off, for a comparison).
// Prints each run's time and the median ns per step of the runs after the warm-up (the first
// three of `queued`, the first half of `nobody waiting`, whose longer step code warms later).
const lib = await import('../dist/sim/index.js');

const runs = Number(process.argv[2] ?? 12);
const requests = Number(process.argv[3] ?? 2400);
if (!(Number.isInteger(runs) && runs >= 4 && Number.isInteger(requests) && requests >= 1)) {
  console.error(`usage: node bench/steps.mjs [runs ≥ 4, default 12] [requests ≥ 1, default 2400]; got ${process.argv.slice(2).join(' ')}`);
  process.exit(2);
}

/** The same model, engine and lengths; `workload` says how the requests come. */
function setupFor(workload) {
  return lib.resolveScenario({
    seed: 1,
    model: 'llama-2-7b',
    hardware: { gpu: 'h100-sxm' },
    precision: { weights: 'fp16', kv_cache: 'fp16' },
    engine: { scheduler: 'vllm', max_num_seqs: 16 },
    workload: { ...workload, input_tokens: { dist: 'fixed', value: 16 }, output_tokens: { dist: 'fixed', value: 2000 } },
    metrics: { uncertainty: false },
  });
}

/** Runs `setup` `runs` times; prints the times and the median ns a step of the runs from `warm` on. */
function measure(label, setup, warm) {
  const times_ms = [];
  let steps = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    steps = lib.runSimulation(setup, { iterations: false, band_threads: false }).totals.steps;
    times_ms.push(performance.now() - t0);
  }
  const kept = times_ms.slice(warm).sort((a, b) => a - b);
  const median_ms = kept[Math.floor(kept.length / 2)];
  console.log(`${label}: ${steps} steps a run; ms: ${times_ms.map((t) => t.toFixed(1)).join(' ')}`);
  console.log(`${label}: warm median ${median_ms.toFixed(1)} ms: ${((1e6 * median_ms) / steps).toFixed(0)} ns a step`);
}

measure('queued', setupFor({ arrival: { process: 'burst' }, num_requests: requests }), 3);
// A third of the queued workload's requests: the same ~100 k steps a run at the default.
measure('nobody waiting', setupFor({ concurrency: 16, num_requests: Math.max(16, Math.round(requests / 3)) }), Math.floor(runs / 2));
