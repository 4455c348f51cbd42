/**
 * Not a test: times the metrics path alone on a synthetic run shaped like the Azure
 * conversation trace (20k requests × 200 tokens ≈ 4 M ITL gaps, 400k iterations).
 * Run: npx tsx test/metrics/sinkPerf.ts [replicas] [--tokens] [--priorities] (two priority classes)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newIterationRecord } from '../../sim/metrics/records.js';
import { MetricsSink } from '../../sim/metrics/sink.js';

const replicas = Number(process.argv[2] ?? 1);
const classes = process.argv.includes('--priorities') ? 2 : 1;
const REQUESTS = 20_000;
const TOKENS = 200;
const ITERATIONS = 400_000;

let seed = 1;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
const outcomes = Array.from({ length: REQUESTS }, (_, i) => {
  const arrival_s = i * 0.05;
  const times = new Float64Array(TOKENS);
  let t = arrival_s + 0.1 + random() * 0.2;
  for (let k = 0; k < TOKENS; k++, t += 0.015 + random() * 0.01) times[k] = t;
  return {
    request_id: i, replica: i % replicas, arrival_s, input_tokens: 1000, output_tokens: TOKENS, cached_tokens: 100,
    first_scheduled_s: arrival_s + 0.05, token_times_s: times, preemptions: 0, status: 'finished' as const, finish_s: times[TOKENS - 1],
    priority: i % classes, samples: 1, sequences: 1,
  };
});

const root = mkdtempSync(join(tmpdir(), 'infersim-perf-'));
// CPU time beside wall time: on a shared machine the wall clock mostly measures the neighbours.
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const sink = new MetricsSink({ dir: join(root, 'out'), writeTokens: process.argv.includes('--tokens'), replicas, warmup_s: 0, slo: { ttft_ms: 300 }, block_size: 16 });
const perRequest = ITERATIONS / REQUESTS;
// Filled and reused as the engine does: only the fields that change per step are written in the loop.
const rec = Object.assign(newIterationRecord(), {
  prefill_seqs: 1, decode_seqs: 64, prefill_tokens: 512, decode_tokens: 64, kv_blocks_used: 1000, kv_blocks_total: 4000, waiting: 3, running: 64,
  kv_blocks_cached: 200, kv_slots_unused: 500, kv_blocks_evicted: 1,
});
for (let i = 0, it = 0; i < REQUESTS; i++) {
  for (let j = 0; j < perRequest; j++, it++) {
    rec.replica = it % replicas;
    rec.start_s = it * 0.0025;
    rec.end_s = it * 0.0025 + 0.002;
    sink.recordIteration(rec);
  }
  sink.recordRequest(outcomes[i]);
}
const t1 = performance.now();
const cpuRecord = process.cpuUsage(cpu0);
const summary = sink.finish({ gpus: replicas, usd_per_gpu_hour: 2.5 });
const t2 = performance.now();
const cpuFinish = process.cpuUsage(cpu0);
rmSync(root, { recursive: true, force: true });
console.log(
  `replicas ${replicas}: record ${(t1 - t0).toFixed(0)} ms + finish ${(t2 - t1).toFixed(0)} ms = ${(t2 - t0).toFixed(0)} ms ` +
    `(${summary.overall.itl_s.count} ITL gaps); record CPU ${((cpuRecord.user + cpuRecord.system) / 1000).toFixed(0)} ms + finish CPU ${((cpuFinish.user + cpuFinish.system - cpuRecord.user - cpuRecord.system) / 1000).toFixed(0)} ms`,
);
