import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { cli, expectCleanFailure, scenarioText, scratch, writeScenario } from './harness.js';

/**
 * Values the schema once accepted that the simulator could not use: each must end with one line
 * that names the key, the value and what is allowed, before any output is written.
 */
const dir = scratch('values');

const ARRIVAL = '  arrival: { process: poisson, rate_per_s: 5 }';
const INPUT = '  input_tokens: { dist: fixed, value: 100 }';
const OUTPUT = '  output_tokens: { dist: fixed, value: 10 }';
const COUNT = '  num_requests: 5';

/** A workload with one line replaced (by its key) or added. */
function workload(patch: { arrival?: string; input?: string; output?: string; count?: string; more?: string }): string {
  return [patch.arrival ?? ARRIVAL, patch.input ?? INPUT, patch.output ?? OUTPUT, patch.count ?? COUNT, patch.more]
    .filter((line) => line !== undefined)
    .join('\n');
}

/** The small scenario with its hardware line replaced. */
function withHardware(hardware: string, opts: { extra?: string; workload?: string } = {}): string {
  return scenarioText(opts).replace('hardware: { gpu: h100-sxm }', `hardware: ${hardware}`);
}

let counter = 0;
function expectRefused(text: string, pattern: RegExp): void {
  const name = `s${++counter}`;
  const file = writeScenario(dir, `${name}.yaml`, text);
  const out = join(dir, `o-${name}`);
  expectCleanFailure(cli(['run', file, '--out', out]), pattern, { out });
}

describe('values the schema bounds: key, value and limit in one line', () => {
  it.each<[string, string, RegExp]>([
    [
      'num_gpu_blocks_override 2^53 − 1',
      scenarioText({ extra: 'engine: { num_gpu_blocks_override: 9007199254740991 }' }),
      /engine\.num_gpu_blocks_override: must be an integer ≤ 16777216 \(a simulation holds every block of every replica in memory\), got 9007199254740991/,
    ],
    [
      'lognormal mean 1e308, sigma 1e308',
      scenarioText({ workload: workload({ input: '  input_tokens: { dist: lognormal, mean: 1e308, sigma: 1e308 }' }) }),
      /workload\.input_tokens\.mean: must be a number ≤ 2147483647 \(the outputs store counts as int32\), got 1e\+308/,
    ],
    [
      'lognormal sigma 50',
      scenarioText({ workload: workload({ input: '  input_tokens: { dist: lognormal, mean: 500, sigma: 50 }' }) }),
      /workload\.input_tokens\.sigma: must be a number ≤ 10 \(larger spreads put nearly every draw on min\), got 50/,
    ],
    [
      'gamma cv 1e-300',
      scenarioText({ workload: workload({ arrival: '  arrival: { process: gamma, rate_per_s: 5, cv: 1e-300 }' }) }),
      /workload\.arrival\.cv: must be ≥ 0\.001 \(below it the gaps vary by under 0\.1 % of their mean: use process constant\), got 1e-300/,
    ],
    [
      'gamma cv 1e300',
      scenarioText({ workload: workload({ arrival: '  arrival: { process: gamma, rate_per_s: 5, cv: 1e300 }' }) }),
      /workload\.arrival\.cv: must be a number ≤ 1000 \(above it over 99\.9 % of the gaps round to 0: use process burst\), got 1e\+300/,
    ],
    [
      'rate_per_s 1e-300',
      scenarioText({ workload: workload({ arrival: '  arrival: { process: poisson, rate_per_s: 1e-300 }' }) }),
      /workload\.arrival\.rate_per_s: must be ≥ 1e-9 \(the mean gap 1\/rate must fit in the 1e9 s time limit\), got 1e-300/,
    ],
    [
      'rate_per_s 1e308',
      scenarioText({ workload: workload({ arrival: '  arrival: { process: constant, rate_per_s: 1e308 }' }) }),
      /workload\.arrival\.rate_per_s: must be a number ≤ 1e9 \(gaps below a nanosecond: use process burst for all at t = 0\), got 1e\+308/,
    ],
    [
      'rate_per_s 1e999 (YAML reads Infinity)',
      scenarioText({ workload: workload({ arrival: '  arrival: { process: poisson, rate_per_s: 1e999 }' }) }),
      /workload\.arrival\.rate_per_s: must be a number ≤ 1e9 .*, got Infinity/,
    ],
    [
      'rate_per_s .nan',
      scenarioText({ workload: workload({ arrival: '  arrival: { process: poisson, rate_per_s: .nan }' }) }),
      /workload\.arrival\.rate_per_s: must be a number ≥ 1e-9 and ≤ 1e9, got NaN/,
    ],
    [
      'num_requests "1e3" as a string',
      scenarioText({ workload: workload({ count: '  num_requests: "1e3"' }) }),
      /workload\.num_requests: must be an integer ≥ 1 and ≤ 1e7, got "1e3"/,
    ],
    [
      'replicas 1e9',
      scenarioText({ extra: 'cluster: { replicas: 1000000000 }' }),
      /cluster\.replicas: must be an integer ≤ 4096 \(a simulation holds every replica in memory\), got 1000000000/,
    ],
    [
      'a 1e12-token prompt',
      scenarioText({ workload: workload({ input: '  input_tokens: { dist: fixed, value: 1000000000000 }' }) }),
      /workload\.input_tokens\.value: must be an integer ≤ 2147483647 \(the outputs store counts as int32\), got 1000000000000/,
    ],
    [
      'uniform min > max',
      scenarioText({ workload: workload({ input: '  input_tokens: { dist: uniform, min: 10, max: 5 }' }) }),
      /workload\.input_tokens\.max: must be ≥ min \(10\), got 5/,
    ],
    [
      'fixed 0 output tokens',
      scenarioText({ workload: workload({ output: '  output_tokens: { dist: fixed, value: 0 }' }) }),
      /workload\.output_tokens\.value: must be an integer ≥ 1, got 0/,
    ],
    ['num_requests 0', scenarioText({ workload: workload({ count: '  num_requests: 0' }) }), /workload\.num_requests: must be an integer ≥ 1, got 0/],
    [
      'num_requests 1e12',
      scenarioText({ workload: workload({ count: '  num_requests: 1000000000000' }) }),
      /workload\.num_requests: must be an integer ≤ 1e7 \(the summary keeps every request's latencies in memory\), got 1000000000000/,
    ],
    [
      'rate 1e6/s for a day, bounded by duration only',
      scenarioText({ workload: workload({ arrival: '  arrival: { process: poisson, rate_per_s: 1000000 }', count: '  duration_s: 86400' }) }),
      /workload\.duration_s: at rate_per_s 1000000 it brings about 86,400,000,000 requests, more than the 1e7 a run can hold .*, got 86400/,
    ],
    [
      'duration_s 1e308',
      scenarioText({ workload: workload({ count: '  duration_s: 1e308' }) }),
      /workload\.duration_s: must be a number ≤ 1e9 \(simulated time is limited to 1e9 s\), got 1e\+308/,
    ],
    [
      'concurrency 1e12',
      scenarioText({ workload: [INPUT, OUTPUT, COUNT, '  concurrency: 1000000000000'].join('\n') }),
      /workload\.concurrency: must be an integer ≤ 1e6 \(each client holds a request in memory\), got 1000000000000/,
    ],
    ['timeout_s −1', scenarioText({ workload: workload({ more: '  timeout_s: -1' }) }), /workload\.timeout_s: must be > 0, got -1/],
    [
      'best_of 1e9',
      scenarioText({ workload: workload({ more: '  best_of: 1000000000' }) }),
      /workload\.best_of: must be an integer ≤ 1024 \(all samples of a request are created when it arrives\), got 1000000000/,
    ],
    ['max_num_seqs 0', scenarioText({ extra: 'engine: { max_num_seqs: 0 }' }), /engine\.max_num_seqs: must be an integer ≥ 1, got 0/],
    ['block_size 3', scenarioText({ extra: 'engine: { block_size: 3 }' }), /engine\.block_size: must be a multiple of 16 .*, got 3/],
    [
      'block_size 1e9',
      scenarioText({ extra: 'engine: { block_size: 1000000000 }' }),
      /engine\.block_size: must be an integer ≤ 1024 \(vLLM offers block sizes up to 128\), got 1000000000/,
    ],
    [
      'swap_space_gb 1e308',
      scenarioText({ extra: 'engine: { scheduler: vllm-v0, preemption: swap, swap_space_gb: 1e308 }' }),
      /engine\.swap_space_gb: must be a number ≤ 1024 \(more than any host has per GPU\), got 1e\+308/,
    ],
    [
      'frontend_input_ms 1e308',
      scenarioText({ extra: 'engine: { frontend_input_ms: 1e308 }' }),
      /engine\.frontend_input_ms: must be a number ≤ 1e12 \(simulated time is limited to 1e9 s\), got 1e\+308/,
    ],
    [
      'gpu_memory_utilization 1.5',
      withHardware('{ gpu: h100-sxm, gpu_memory_utilization: 1.5 }'),
      /hardware\.gpu_memory_utilization: must be > 0 and ≤ 1, got 1\.5/,
    ],
    ['gpu_memory_utilization 0', withHardware('{ gpu: h100-sxm, gpu_memory_utilization: 0 }'), /hardware\.gpu_memory_utilization: must be > 0 and ≤ 1, got 0/],
    [
      'usd_per_gpu_hour 1e308',
      scenarioText({ extra: 'cost: { usd_per_gpu_hour: 1e308 }' }),
      /cost\.usd_per_gpu_hour: must be a number ≤ 1e6 \(larger prices overflow the cost figures\), got 1e\+308/,
    ],
    [
      'warmup_s .inf',
      scenarioText().replace('metrics: { uncertainty: false }', 'metrics: { uncertainty: false, warmup_s: .inf }'),
      /metrics\.warmup_s: must be a number ≤ 1e9 \(simulated time is limited to 1e9 s\), got Infinity/,
    ],
  ])('%s', (_name, text, pattern) => {
    expectRefused(text, pattern);
  });
});

describe('generated and replayed times past the 1e9 s limit', () => {
  it('a trace replayed at speedup 1e-300 (its times became Infinity)', () => {
    const trace = join(dir, 'times.csv');
    writeFileSync(trace, 't,in,out\n0,100,10\n1,100,10\n2,100,10\n');
    const text = scenarioText({
      workload: `  trace: { path: ${trace}, format: csv, speedup: 1e-300, columns: { arrival: t, input_tokens: in, output_tokens: out } }`,
    });
    expectRefused(text, /workload\.trace\.speedup: arrival 2 in time order comes at 1\.00e\+300 s \(after rebasing and ÷ speedup 1e-300\), past the simulation's 1e9 s time limit/);
  });

  it('a constant rate whose later arrivals pass the limit', () => {
    // rate 2e-9/s: arrival k at (k − 1) × 5e8 s; the 4th, at 1.5e9 s, is past the limit.
    expectRefused(
      scenarioText({ workload: workload({ arrival: '  arrival: { process: constant, rate_per_s: 2e-9 }' }) }),
      /workload\.arrival\.rate_per_s: arrival 4 would come at 1\.50e\+9 s, past the simulation's 1e9 s time limit; raise the rate or lower workload\.num_requests/,
    );
  });
});

describe('sweeps', () => {
  it('a sweep with one point past a bound is refused before any point runs (a RangeError once left it unrecorded forever)', () => {
    const text = scenarioText({ extra: 'sweep:\n  grid:\n    engine.num_gpu_blocks_override: [1000, 9007199254740991]' });
    const file = writeScenario(dir, 'sweep.yaml', text);
    const out = join(dir, 'o-sweep');
    expectCleanFailure(cli(['sweep', file, '--out', out]), /engine\.num_gpu_blocks_override: must be an integer ≤ 16777216 .*, got 9007199254740991/, { out });
  });

  it('empirical lengths of 1e12 tokens name the limit', () => {
    const lens = join(dir, 'lens.csv');
    writeFileSync(lens, 'n\n100\n1000000000000\n');
    expectRefused(
      scenarioText({ workload: workload({ input: `  input_tokens: { dist: empirical, path: ${lens}, column: n }` }) }),
      /lens\.csv line 3: n must be an integer from 0 to 2147483647 \(token counts are stored as int32\), got "1000000000000"/,
    );
  });
});

describe('a warm-up past the end', () => {
  it('warmup_s ≥ duration_s, known before the run', () => {
    const text = scenarioText({ workload: workload({ count: '  duration_s: 2' }) }).replace('metrics: { uncertainty: false }', 'metrics: { uncertainty: false, warmup_s: 5 }');
    expectRefused(text, /metrics\.warmup_s: must be < workload\.duration_s \(2\): .*, got 5/);
  });

  it('warmup_s after the last arrival of a counted workload, known after it', () => {
    // burst: all 5 requests arrive at t = 0, before a 1000 s warm-up.
    const text = scenarioText({ workload: workload({ arrival: '  arrival: { process: burst }' }) }).replace(
      'metrics: { uncertainty: false }',
      'metrics: { uncertainty: false, warmup_s: 1000 }',
    );
    expectRefused(text, /metrics\.warmup_s: no request arrived at or after it \(the last at 0\.000 s\), so every latency figure would be empty; use a smaller warm-up, got 1000/);
  });
});

describe('first-use defects refused with the reason', () => {
  it('max_model_len shorter than every prompt', () => {
    expectRefused(
      scenarioText({ extra: 'engine: { max_model_len: 64 }' }),
      /engine\.max_model_len: every request needs at least 110 tokens \(prompt ≥ 100, output ≥ 10\), more than max_model_len 64, so every one would be rejected; .*, got 64/,
    );
  });

  it('tensor_parallel 16 on h100-sxm (8 GPUs a node)', () => {
    expectRefused(withHardware('{ gpu: h100-sxm, tensor_parallel: 16 }'), /hardware\.tensor_parallel: must be ≤ 8, the GPUs of one h100-sxm node: .*, got 16/);
  });

  it.each(['orca', 'static', 'dynamic'])('%s without max_tokens, max_model_len or orca_reservation', (scheduler) => {
    expectRefused(
      scenarioText({ extra: `engine: { scheduler: ${scheduler} }` }),
      /engine\.orca_reservation: .*llama-3\.1-8b's whole context \(131072 tokens\) per request; set workload\.max_tokens/,
    );
  });

  it('4,096 replicas of 2^24 KV blocks (each allowed alone, 2 TB together)', () => {
    expectRefused(
      scenarioText({ extra: 'cluster: { replicas: 4096 }\nengine: { num_gpu_blocks_override: 16777216 }' }),
      /cluster\.replicas: must be ≤ 8 here: 4096 replicas × 16777216 KV blocks each would take 1992\.9 GB of simulator memory .*, got 4096/,
    );
  });

  it('priority weights whose sum overflows', () => {
    expectRefused(
      scenarioText({ workload: workload({ more: '  priority: { classes: [{ priority: 0, weight: 1e308 }, { priority: 1, weight: 1e308 }] }' }) }),
      /workload\.priority\.classes: the weights must sum to a finite number .*, got \[1e\+308,1e\+308\]/,
    );
  });
});

/** The shipped fitted H100 profile with `patch` applied, written to the scratch folder. */
function profile(name: string, patch: (p: Record<string, any>) => void): string {
  const p = JSON.parse(readFileSync(new URL('../../profiles/h100-sxm.fitted.json', import.meta.url), 'utf8'));
  patch(p);
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(p));
  return path;
}

describe('profiles whose times would overflow the clock', () => {
  it('cpu_step_s 1e308', () => {
    const path = profile('cpu', (p) => (p.scalars = { cpu_step_s: 1e308 }));
    expectRefused(withHardware(`{ gpu: h100-sxm, profile: ${path} }`), /hardware\.profile: cpu\.json: scalars\.cpu_step_s: must be ≤ 3600 s .*, got 1e\+308/);
  });

  it('an uncertainty band with low ≤ −1 (it passed the profile check, then an internal assert fired)', () => {
    const path = profile('band', (p) => (p.uncertainty.iteration.low = -1.5));
    const text = withHardware(`{ gpu: h100-sxm, profile: ${path} }`).replace('uncertainty: false', 'uncertainty: true');
    expectRefused(text, /hardware\.profile: band\.json: uncertainty\.iteration\.low: must be > -1 \(steps are scaled by 1 \+ low, which must stay positive\), got -1\.5/);
  });

  it('an uncertainty band with high 1e308', () => {
    const path = profile('high', (p) => (p.uncertainty.iteration.high = 1e308));
    expectRefused(withHardware(`{ gpu: h100-sxm, profile: ${path} }`), /uncertainty\.iteration\.high: must be ≤ 10 .*, got 1e\+308/);
  });

  it('knobs each within bounds whose product is a 1.15e9 s step', () => {
    // 32 layers × 10,000 kernels × 3,600 s of eager dispatch each, with CUDA graphs off.
    const path = profile('slow', (p) => Object.assign(p.efficiency, { kernels_per_layer: 10_000, eager_dispatch_per_kernel_s: 3600 }));
    expectRefused(
      withHardware(`{ gpu: h100-sxm, profile: ${path} }`, { extra: 'engine: { cuda_graphs: false }' }),
      /hardware\.profile: step 1 of replica 0 \(1 prefill and 0 decode sequences\) at t = 0\.001 s takes 1152000000\.\d+ s, longer than the simulation's 1e9 s time limit; its largest part is launch_overhead/,
    );
  });
});
