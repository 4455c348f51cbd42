import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { quantile } from 'simple-statistics';
import { expectInvariants, run, scenario, type Observed } from '../helpers.js';
import { TRACES } from '../workload/helpers.js';

const MOONCAKE = path.join(TRACES, 'synthetic_trace.jsonl');
const haveMooncake = existsSync(MOONCAKE);
if (!haveMooncake) console.warn(`skipping Mooncake prefix-cache tests: ${MOONCAKE} is absent (the shared data lives beside the checkout)`);

const tmp = mkdtempSync(path.join(tmpdir(), 'infersim-features-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let outCount = 0;

/** Runs with an output folder and returns the iterations table's columns as plain arrays. */
function runWithIterations(input: Parameters<typeof run>[0]): Observed & { iterations: Record<string, number[]> } {
  const dir = path.join(tmp, `run-${outCount++}`);
  const observed = run(input, dir);
  const table = tableFromIPC(readFileSync(path.join(dir, 'iterations.arrow')));
  const iterations: Record<string, number[]> = {};
  for (const field of table.schema.fields) iterations[field.name] = Array.from(table.getChild(field.name)!.toArray() as ArrayLike<number>, Number);
  return { ...observed, iterations };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), -Infinity);
const summaryOf = (o: Observed) => o.result.summary as any;

describe.skipIf(!haveMooncake)('prefix caching on the Mooncake trace (hash_ids)', () => {
  const mooncake = (engine: Record<string, unknown>) =>
    scenario({
      engine: { max_model_len: 65536, ...engine },
      // Replayed at a tenth of its rate so the cache, not the queue, decides TTFT.
      workload: { trace: { path: MOONCAKE, format: 'mooncake', speedup: 0.1 } },
    });

  it('hits the cache, reports the hit rate and lowers mean TTFT', () => {
    const on = run(mooncake({ enable_prefix_caching: true }));
    const off = run(mooncake({ enable_prefix_caching: false }));
    expectInvariants(on);
    expectInvariants(off);
    const hitRate = summaryOf(on).overall.prefix_cache.hit_rate;
    expect(hitRate).toBeGreaterThan(0.05);
    expect(summaryOf(off).overall.prefix_cache.hit_rate).toBe(0);
    // The hit rate is exactly the per-request cached tokens over the prompt tokens.
    const served = on.outcomes.filter((o) => o.status === 'finished');
    const cached = sum(served.map((o) => o.cached_tokens));
    const prompts = sum(served.map((o) => o.input_tokens));
    expect(hitRate).toBeCloseTo(cached / prompts, 12);
    // Hits are whole 16-token blocks, never the last prompt token.
    for (const o of served) {
      expect(o.cached_tokens % 16).toBe(0);
      expect(o.cached_tokens).toBeLessThan(o.input_tokens);
    }
    // Hit tokens are not prefilled: prefill work falls by at least the first-pass hits.
    expect(on.result.totals.prefill_tokens).toBeLessThanOrEqual(off.result.totals.prefill_tokens - cached);
    expect(summaryOf(on).overall.ttft_s.mean).toBeLessThan(summaryOf(off).overall.ttft_s.mean);
  });

  it('with a small cache, evicts least recently used blocks and counts every eviction', () => {
    const small = runWithIterations(mooncake({ enable_prefix_caching: true, num_gpu_blocks_override: 6000 }));
    expectInvariants(small);
    const evicted = small.result.totals.evicted_blocks;
    expect(evicted).toBeGreaterThan(0);
    expect(sum(small.iterations.kv_blocks_evicted)).toBe(evicted);
    expect(summaryOf(small).kv.evicted_blocks).toBe(evicted);
    expect(max(small.iterations.kv_blocks_cached)).toBeGreaterThan(0);
    for (let i = 0; i < small.iterations.kv_blocks_used.length; i++) {
      expect(small.iterations.kv_blocks_used[i] + small.iterations.kv_blocks_cached[i]).toBeLessThanOrEqual(small.iterations.kv_blocks_total[i]);
    }
  });
});

describe('policies compared on one workload', () => {
  it('static batching has a higher mean E2E than vllm at the same offered load', () => {
    const load = (scheduler: string) =>
      run(
        scenario({
          engine: { scheduler, max_model_len: 4096 },
          workload: {
            arrival: { process: 'poisson', rate_per_s: 8 },
            input_tokens: { dist: 'uniform', min: 100, max: 1500 },
            output_tokens: { dist: 'uniform', min: 10, max: 400 },
            num_requests: 300,
          },
        }),
      );
    const vllm = load('vllm');
    const fixed = load('static');
    expectInvariants(vllm);
    expectInvariants(fixed);
    expect(summaryOf(fixed).overall.e2e_s.mean).toBeGreaterThan(summaryOf(vllm).overall.e2e_s.mean);
  });

  it('long prompts among chatty decodes with a 512-token budget: sarathi and vllm keep p99 ITL below vllm-v0', () => {
    const mixed = (scheduler: string) => {
      const engine: Record<string, unknown> = { scheduler, max_model_len: 8192 };
      if (scheduler !== 'vllm-v0') Object.assign(engine, { max_num_batched_tokens: 512, max_num_seqs: 256 });
      return run(
        scenario({
          engine,
          workload: {
            arrival: { process: 'poisson', rate_per_s: 4 },
            input_tokens: { dist: 'uniform', min: 2000, max: 6000 },
            output_tokens: { dist: 'uniform', min: 100, max: 300 },
            num_requests: 150,
          },
        }),
      );
    };
    const p99 = (o: Observed) => summaryOf(o).overall.itl_s.p99 as number;
    const [v0, sarathi, vllm] = ['vllm-v0', 'sarathi', 'vllm'].map(mixed);
    for (const o of [v0, sarathi, vllm]) expectInvariants(o);
    expect(p99(sarathi)).toBeLessThan(p99(v0));
    expect(p99(vllm)).toBeLessThan(p99(v0));
  });
});

describe('preemption', () => {
  const pressure = (scheduler: string, preemption: string, n?: number) =>
    runWithIterations(
      scenario({
        engine: { scheduler, preemption, num_gpu_blocks_override: 400, max_model_len: 4096, ...(scheduler === 'vllm' ? { enable_prefix_caching: false } : {}) },
        workload: {
          arrival: { process: 'poisson', rate_per_s: 30 },
          input_tokens: { dist: 'uniform', min: 200, max: 1500 },
          output_tokens: { dist: 'uniform', min: 100, max: 600 },
          num_requests: 150,
          ...(n === undefined ? {} : { n }),
        },
      }),
    );

  it('swap: swapped sequences show in iterations.arrow, resume without recompute, and PCIe time is charged', () => {
    const o = pressure('vllm-v0', 'swap');
    expectInvariants(o);
    const t = o.result.totals;
    expect(t.preemptions).toBeGreaterThan(0);
    expect(t.swap_out_blocks).toBeGreaterThan(0);
    expect(t.swap_in_blocks).toBe(t.swap_out_blocks);
    expect(max(o.iterations.swapped)).toBeGreaterThan(0);
    expect(max(o.iterations.kv_blocks_swapped)).toBeGreaterThan(0);
    expect(sum(o.iterations.swap_out_blocks)).toBe(t.swap_out_blocks);
    // Every preemption was a swap of a decoding sequence: nothing was thrown away or recomputed.
    expect(t.discarded_tokens).toBe(0);
    expect(t.recomputed_tokens).toBe(0);
    // A step that moves blocks lasts longer than the same batch without the move, by bytes ÷ PCIe bandwidth.
    const setup = o.result.setup;
    const perBlock_s = setup.kv.kv_bytes_per_block / setup.gpu.pcie_bandwidth_bytes_per_s;
    const it = o.iterations;
    const i = it.swap_out_blocks.findIndex((b) => b > 0);
    expect(i).toBeGreaterThanOrEqual(0);
    const duration = it.end_s[i] - it.start_s[i];
    expect(duration).toBeGreaterThan((it.swap_out_blocks[i] + it.swap_in_blocks[i]) * perBlock_s);
  });

  it('recompute: prefill tokens exceed prompt tokens by exactly the recomputed amount', () => {
    for (const scheduler of ['vllm', 'vllm-v0', 'sarathi']) {
      const o = pressure(scheduler, 'recompute');
      expectInvariants(o);
      const t = o.result.totals;
      expect(t.preemptions).toBeGreaterThan(0);
      expect(t.swap_out_blocks).toBe(0);
      const prompts = sum(o.outcomes.map((r) => r.input_tokens));
      expect(t.recomputed_tokens).toBeGreaterThan(0);
      expect(t.prefill_tokens - prompts).toBe(t.recomputed_tokens);
    }
  });

  it('a full CPU pool falls back to recompute', () => {
    const o = runWithIterations(
      scenario({
        engine: { scheduler: 'vllm-v0', preemption: 'swap', swap_space_gb: 0.1, num_gpu_blocks_override: 400, max_model_len: 4096 },
        workload: {
          arrival: { process: 'poisson', rate_per_s: 30 },
          input_tokens: { dist: 'uniform', min: 200, max: 1500 },
          output_tokens: { dist: 'uniform', min: 100, max: 600 },
          num_requests: 150,
        },
      }),
    );
    expectInvariants(o);
    expect(o.result.totals.swap_out_blocks).toBeGreaterThan(0);
    expect(o.result.totals.discarded_tokens).toBeGreaterThan(0);
  });
});

describe('parallel samples share the prompt', () => {
  const samples = (scheduler: string, n: number) =>
    runWithIterations(
      scenario({
        engine: { scheduler, max_model_len: 4096 },
        workload: {
          arrival: { process: 'burst' },
          input_tokens: { dist: 'fixed', value: 1000 },
          output_tokens: { dist: 'fixed', value: 50 },
          num_requests: 1,
          n,
        },
      }),
    );

  for (const scheduler of ['vllm', 'vllm-v0']) {
    it(`${scheduler}: n = 4 with a 1000-token prompt holds about one prompt's blocks, not four`, () => {
      const four = samples(scheduler, 4);
      expectInvariants(four);
      const promptBlocks = Math.ceil(1000 / 16); // 63
      const peak = max(four.iterations.kv_blocks_used);
      // One prompt (63 blocks) plus, per sample, its own tail: the copied or recomputed partial
      // block and the blocks its 50 output tokens grow into (≤ 4 each).
      expect(peak).toBeGreaterThanOrEqual(promptBlocks);
      expect(peak).toBeLessThanOrEqual(promptBlocks + 4 * 5);
      expect(peak).toBeLessThan(2 * promptBlocks);
      const o = four.outcomes[0];
      expect(o.samples).toBe(4);
      expect(o.sequences).toBe(4);
      expect(o.output_tokens).toBe(50);
      expect(summaryOf(four).overall.tokens.output).toBe(200);
    });
  }
});

describe('admission and queueing', () => {
  it('under overload, high-priority TTFT p99 stays below low-priority TTFT p99', () => {
    for (const scheduler of ['vllm', 'vllm-v0', 'sarathi']) {
      const o = run(
        scenario({
          engine: { scheduler, max_model_len: 4096 },
          workload: {
            arrival: { process: 'poisson', rate_per_s: 60 },
            input_tokens: { dist: 'uniform', min: 200, max: 1500 },
            output_tokens: { dist: 'uniform', min: 50, max: 300 },
            num_requests: 600,
            priority: { classes: [{ priority: 0, weight: 1, name: 'high' }, { priority: 1, weight: 3, name: 'low' }] },
          },
        }),
      );
      expectInvariants(o);
      const ttft = (p: number) => o.outcomes.filter((r) => r.priority === p).map((r) => (r.token_times_s as number[])[0] - r.arrival_s);
      const high = quantile(ttft(0), 0.99);
      const low = quantile(ttft(1), 0.99);
      expect(high).toBeLessThan(low);
      const perPriority = summaryOf(o).per_priority;
      expect(perPriority.map((g: any) => g.priority)).toEqual([0, 1]);
      expect(perPriority[0].ttft_s.p99).toBeLessThan(perPriority[1].ttft_s.p99);
    }
  });

  it('a queue limit rejects the excess and a time-out drops requests that waited too long: rows, never silent drops', () => {
    const dir = path.join(tmp, 'queue');
    const o = run(
      scenario({
        engine: { max_queue_len: 20, max_model_len: 4096, num_gpu_blocks_override: 600 },
        workload: {
          arrival: { process: 'poisson', rate_per_s: 200 },
          input_tokens: { dist: 'uniform', min: 500, max: 1500 },
          output_tokens: { dist: 'uniform', min: 100, max: 300 },
          num_requests: 400,
          timeout_s: 1,
        },
      }),
      dir,
    );
    expectInvariants(o);
    const t = o.result.totals;
    expect(t.rejected).toBeGreaterThan(0);
    expect(t.timed_out).toBeGreaterThan(0);
    const table = tableFromIPC(readFileSync(path.join(dir, 'requests.arrow')));
    const statuses = Array.from(table.getChild('status')!.toArray() as ArrayLike<string>, String);
    expect(statuses.length).toBe(400);
    expect(statuses.filter((s) => s === 'rejected').length).toBe(t.rejected);
    expect(statuses.filter((s) => s === 'timed_out').length).toBe(t.timed_out);
    // A timed-out request never got a token and left exactly timeout_s (+ the frontend's output latency) after arriving.
    for (const r of o.outcomes.filter((x) => x.status === 'timed_out')) {
      expect(r.token_times_s.length).toBe(0);
      expect(r.finish_s - r.arrival_s).toBeCloseTo(1 + 0.0002, 9);
    }
    expect(summaryOf(o).overall.requests.timed_out).toBe(t.timed_out);
  });
});
