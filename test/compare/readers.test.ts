import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRequests } from '../../sim/compare/compare.js';
import { readReal } from '../../sim/compare/read.js';
import { definitionsOf } from '../../sim/compare/metrics.js';
import { choosePlan } from '../../sim/compare/simulate.js';
import { realWorkloadStream, scheduledTimes } from '../../sim/compare/stream.js';
import type { TimedRequest } from '../../sim/compare/types.js';

const FIX = fileURLToPath(new URL('../fixtures/compare/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'infersim-compare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The message of what `f` throws. */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('did not throw');
}

describe('vllm bench serve --save-detailed', () => {
  const file = join(FIX, 'vllm-bench-serve.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const run = readReal(file);

  it('reads every request, in order, with its lengths, TTFT, gaps and send time', () => {
    expect(run.format).toBe('vllm');
    expect(run.requests).toHaveLength(20);
    expect(run.requests.map((q) => q.input_tokens)).toEqual(doc.input_lens);
    expect(run.requests.map((q) => q.output_tokens)).toEqual(doc.output_lens);
    run.requests.forEach((q, i) => {
      expect(q.first_s - q.start_s).toBeCloseTo(doc.ttfts[i], 12);
      expect(q.last_s - q.start_s).toBeCloseTo(doc.latencies[i], 12);
      expect(q.gaps_s).toEqual(doc.itls[i]);
      expect(q.start_s).toBeCloseTo(doc.start_times[i] - doc.start_times[0], 9);
    });
    expect(run.failed).toBe(0);
  });

  it('replays the recorded send times; its traffic is Poisson at the file\'s rate', () => {
    expect(run.configured).toEqual({ kind: 'process', process: 'poisson', rate_per_s: 4, burstiness: 1, normalize_to_rate: true });
    expect(choosePlan(run, 'auto')).toBe(run.recorded);
    // vLLM rescales its gaps so the last send comes at n / rate (serve.py get_request); times start at 0.
    const t = scheduledTimes(run.configured!, 20, 1);
    expect(t[0]).toBe(0);
    expect(t[19]).toBeGreaterThan(3);
  });

  it('a closed loop (request_rate inf, max_concurrency 3) replays as 3 in flight, however the real times fell', () => {
    const f = join(tmp, 'closed.json');
    writeFileSync(f, JSON.stringify({ ...doc, request_rate: 'inf', max_concurrency: 3 }));
    const closed = readReal(f);
    expect(closed.configured).toEqual({ kind: 'closed', concurrency: 3 });
    expect(choosePlan(closed, 'auto')).toEqual({ kind: 'closed', concurrency: 3 });
    expect(choosePlan(closed, 'recorded').kind).toBe('recorded');
  });

  it('leaves failed requests (a non-empty error) out and counts them', () => {
    const f = join(tmp, 'failed.json');
    const errors = doc.errors.map((_: string, i: number) => (i === 2 ? 'Bad Request' : ''));
    writeFileSync(f, JSON.stringify({ ...doc, errors }));
    const r = readReal(f);
    expect(r.requests).toHaveLength(19);
    expect(r.failed).toBe(1);
    expect(r.requests[2].input_tokens).toBe(doc.input_lens[3]);
  });

  it('bad input: one line naming the file, the JSON path and what is expected', () => {
    const f = join(tmp, 'bad.json');
    const ttfts = [...doc.ttfts];
    ttfts[3] = 'x';
    writeFileSync(f, JSON.stringify({ ...doc, ttfts }));
    expect(thrown(() => readReal(f))).toBe('bad.json: ttfts[3]: must be a number ≥ 0, got "x"');
    writeFileSync(f, JSON.stringify({ ...doc, itls: doc.itls.slice(1) }));
    expect(thrown(() => readReal(f))).toBe('bad.json: itls: must hold 20 entries (one per request), has 19');
    writeFileSync(f, JSON.stringify({ ...doc, output_lens: doc.output_lens.map((x: number, i: number) => (i === 5 ? 1.5 : x)) }));
    expect(thrown(() => readReal(f))).toBe('bad.json: output_lens[5]: must be an integer ≥ 0, got 1.5');
    writeFileSync(f, '{"ttfts": [');
    expect(thrown(() => readReal(f))).toMatch(/^bad\.json: is not JSON \(/);
    writeFileSync(f, JSON.stringify({ hello: 1 }));
    expect(thrown(() => readReal(f))).toMatch(/^bad\.json: \(top level\): is none of the formats compare reads: vllm/);
    for (const m of [thrown(() => readReal(f))]) expect(m.includes('\n')).toBe(false);
  });
});

describe('GuideLLM benchmarks report', () => {
  const file = join(FIX, 'guidellm-benchmarks.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));

  it('reads every successful request in send order, with the strategy of the chosen benchmark', () => {
    const run = readReal(file);
    expect(run.format).toBe('guidellm');
    expect(run.requests).toHaveLength(10);
    const starts = run.requests.map((q) => q.start_s);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(starts[0]).toBe(0);
    const byStart = [...doc.benchmarks[0].requests.successful].sort((a, b) => a.info.timings.request_start - b.info.timings.request_start);
    expect(run.requests.map((q) => q.output_tokens)).toEqual(byStart.map((q) => q.output_tokens));
    const q = run.requests[0];
    // GuideLLM's own computed fields, recomputed from the timings.
    expect((q.first_s - q.start_s) * 1000).toBeCloseTo(byStart[0].time_to_first_token_ms, 3);
    expect(run.configured).toEqual({ kind: 'closed', concurrency: 1 });
    expect(readReal(file, undefined, 1).configured).toEqual({ kind: 'closed', concurrency: 4 });
    expect(thrown(() => readReal(file, undefined, 2))).toBe('guidellm-benchmarks.json: benchmarks: has 2 benchmark(s); --benchmark 2 is past the last (counted from 0)');
  });

  it('the older layout (GenerativeTextResponseStats: start_time, first_token_time…) is recorded, with its own TPOT', () => {
    expect(readReal(file).layout).toBe('GenerativeRequestStats');
    // The same requests as GuideLLM 0.2 wrote them: args.strategy, and times on the request itself.
    const old = structuredClone(doc);
    for (const b of old.benchmarks) {
      b.args = { strategy: b.config.strategy };
      delete b.config;
      b.requests.successful = b.requests.successful.map((q: { prompt_tokens: number; output_tokens: number; info: { timings: Record<string, number> } }) => {
        const t = q.info.timings;
        return {
          type_: 'generative_text_response',
          prompt_tokens: q.prompt_tokens,
          output_tokens: q.output_tokens,
          start_time: t.request_start,
          first_token_time: t.first_token_iteration,
          last_token_time: t.last_token_iteration,
          end_time: t.request_end,
        };
      });
    }
    const f = join(tmp, 'guide-old.json');
    writeFileSync(f, JSON.stringify(old));
    const run = readReal(f);
    expect(run.layout).toBe('GenerativeTextResponseStats');
    expect(run.configured).toEqual({ kind: 'closed', concurrency: 1 });
    // guidellm 0.2 benchmark.py, time_per_output_token_ms: (last_token_time − first_token_time) ÷ output_tokens.
    const tpot = compareRequests('guidellm', run.requests, run.requests, undefined, run.layout).per_request.real.tpot_s!;
    expect(tpot).toEqual(run.requests.map((q) => (q.last_s - q.first_s) / q.output_tokens));
    const newer = compareRequests('guidellm', run.requests, run.requests).per_request.real.tpot_s!;
    expect(newer[0]).toBeGreaterThan(tpot[0]);
    // A file mixing the layouts is refused at the first request that differs.
    old.benchmarks[0].requests.successful[3] = doc.benchmarks[0].requests.successful[3];
    writeFileSync(f, JSON.stringify(old));
    expect(thrown(() => readReal(f))).toMatch(/^guide-old\.json: benchmarks\[0\]\.requests\.successful\[3\]\.info: is the GenerativeRequestStats layout, but the first request has the older one/);
  });

  it('bad input names the path inside the benchmark', () => {
    const f = join(tmp, 'guide-bad.json');
    const bad = structuredClone(doc);
    delete bad.benchmarks[0].requests.successful[4].info.timings.first_token_iteration;
    writeFileSync(f, JSON.stringify(bad));
    expect(thrown(() => readReal(f))).toMatch(/^guide-bad\.json: benchmarks\[0\]\.requests\.successful\[4\]\.info\.timings\.first_token_iteration: is missing \(a number ≥ [0-9.]+ is expected\)$/);
  });
});

describe('genai-perf profile_export.json', () => {
  const file = join(FIX, 'genai-perf-profile_export.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));

  it('reads every request, drops responses without content, and takes the lengths from usage', () => {
    const run = readReal(file);
    expect(run.format).toBe('genai-perf');
    expect(run.requests).toHaveLength(10);
    const r0 = doc.experiments[0].requests[0];
    const usage = JSON.parse(r0.response_outputs.at(-2).response.slice(6)).usage;
    expect(run.requests[0].input_tokens).toBe(usage.prompt_tokens);
    expect(run.requests[0].output_tokens).toBe(usage.completion_tokens);
    // The role-only first chunk and [DONE] carry no content: TTFT runs to the first content chunk, latency to the last.
    expect(run.requests[0].first_s - run.requests[0].start_s).toBeCloseTo((r0.response_timestamps[1] - r0.timestamp) / 1e9, 12);
    expect(run.requests[0].last_s - run.requests[0].start_s).toBeCloseTo((r0.response_timestamps.at(-3) - r0.timestamp) / 1e9, 12);
    expect(run.configured).toEqual({ kind: 'closed', concurrency: 2 });
    expect(run.notes).toEqual([]);
  });
});

describe('metrics computed alike on both sides (hand-computed, 2 requests)', () => {
  // Real: A sent at 0, first chunk at 0.1 s, 3 gaps of 20 ms (4 tokens); B sent at 0.5, TTFT 0.2, one gap of 30 ms (2 tokens).
  const real: TimedRequest[] = [
    { input_tokens: 10, output_tokens: 4, start_s: 0, first_s: 0.1, last_s: 0.16, end_s: 0.16, gaps_s: [0.02, 0.02, 0.02] },
    { input_tokens: 20, output_tokens: 2, start_s: 0.5, first_s: 0.7, last_s: 0.73, end_s: 0.73, gaps_s: [0.03] },
  ];
  // Simulated: A's TTFT 0.11 and gaps 22 ms; B's TTFT 0.2 and gap 33 ms.
  const sim: TimedRequest[] = [
    { input_tokens: 10, output_tokens: 4, start_s: 0, first_s: 0.11, last_s: 0.176, end_s: 0.176, gaps_s: [0.022, 0.022, 0.022] },
    { input_tokens: 20, output_tokens: 2, start_s: 0.5, first_s: 0.7, last_s: 0.733, end_s: 0.733, gaps_s: [0.033] },
  ];
  const c = compareRequests('vllm', real, sim);
  const row = (metric: string, stat: string) => c.rows.find((r) => r.metric === metric && r.stat === stat)!;

  it('vLLM definitions', () => {
    // TTFT: real [0.1, 0.2] mean 0.15, p90 0.1 + 0.9 × 0.1 = 0.19; sim [0.11, 0.2] mean 0.155 → +3.33 %.
    expect(row('ttft', 'mean').real_s).toBeCloseTo(0.15, 12);
    expect(row('ttft', 'p90').real_s).toBeCloseTo(0.19, 12);
    expect(row('ttft', 'mean').error).toBeCloseTo(0.155 / 0.15 - 1, 12);
    // TPOT: real (0.06/3, 0.03/1) = [0.02, 0.03] mean 0.025; sim [0.022, 0.033] mean 0.0275 → +10 %.
    expect(row('tpot', 'mean').real_s).toBeCloseTo(0.025, 12);
    expect(row('tpot', 'mean').error).toBeCloseTo(0.1, 12);
    // ITL pooled: real [0.02 ×3, 0.03] mean 0.0225, p50 0.02; sim × 1.1 → +10 % on each.
    expect(row('itl', 'mean').real_s).toBeCloseTo(0.0225, 12);
    expect(row('itl', 'p50').real_s).toBeCloseTo(0.02, 12);
    expect(row('itl', 'p99').error).toBeCloseTo(0.1, 12);
    // E2E: real [0.16, 0.23] mean 0.195; sim [0.176, 0.233] mean 0.2045 → +4.87 %.
    expect(row('e2e', 'mean').error).toBeCloseTo(0.2045 / 0.195 - 1, 12);
    expect(row('e2e', 'mean').real_vs_sim).toBeCloseTo(0.195 / 0.2045 - 1, 12);
    // Output throughput: 6 tokens ÷ 0.73 s against 6 ÷ 0.733 s.
    expect(c.output_throughput.real_tok_s).toBeCloseTo(6 / 0.73, 12);
    expect(c.output_throughput.error).toBeCloseTo(0.73 / 0.733 - 1, 12);
    expect(c.per_request.real.ttft_s).toEqual(real.map((q) => q.first_s - q.start_s));
  });

  it('GuideLLM and genai-perf definitions', () => {
    const g = compareRequests('guidellm', real, sim);
    const grow = (metric: string) => g.rows.find((r) => r.metric === metric && r.stat === 'mean')!;
    // TPOT includes the first token: real (0.16/4, 0.23/2) = [0.04, 0.115] mean 0.0775.
    expect(grow('tpot').real_s).toBeCloseTo(0.0775, 12);
    // ITL per request: (last − first) ÷ (output − 1) = [0.02, 0.03].
    expect(grow('itl').real_s).toBeCloseTo(0.025, 12);
    // GuideLLM's older layout (GenerativeTextResponseStats): TPOT = (last − first token) ÷ output = [0.06/4, 0.03/2] = [0.015, 0.015].
    // A one-token request counts in TPOT (0) and is left out of ITL, as GenerativeBenchmark.from_stats does.
    const one: TimedRequest = { input_tokens: 5, output_tokens: 1, start_s: 1, first_s: 1.1, last_s: 1.1, end_s: 1.1, gaps_s: [] };
    const o = compareRequests('guidellm', [...real, one], [...sim, one], undefined, 'GenerativeTextResponseStats');
    expect(o.per_request.real.tpot_s).toHaveLength(3);
    expect(o.rows.find((r) => r.metric === 'tpot' && r.stat === 'mean')!.real_s).toBeCloseTo(0.01, 12);
    expect(o.per_request.real.itl_s).toHaveLength(2);
    expect(o.rows.find((r) => r.metric === 'itl' && r.stat === 'mean')!.real_s).toBeCloseTo(0.025, 12);
    expect(definitionsOf('guidellm', 'GenerativeTextResponseStats').tpot).toBe('(last_token_time − first_token_time) ÷ output, per request');
    expect(definitionsOf('guidellm').tpot).toBe('(last token − request_start) ÷ output, per request (first token included)');
    const p = compareRequests('genai-perf', real, sim);
    expect(p.rows.some((r) => r.metric === 'tpot')).toBe(false);
    expect(p.rows.find((r) => r.metric === 'itl' && r.stat === 'mean')!.error).toBeCloseTo(0.1, 12);
  });
});

describe('the rebuilt workload stream', () => {
  const lens = Array.from({ length: 5 }, () => ({ input_tokens: 10, output_tokens: 2 }));

  it('holds a request back while the cap is reached, and sends it when a slot frees (pull contract)', () => {
    const s = realWorkloadStream(lens, [0, 0.1, 0.2, 0.3, 0.4], 2);
    expect(s.next()).toMatchObject({ id: 0, arrival_s: 0 });
    expect(s.next()).toMatchObject({ id: 1, arrival_s: 0.1 });
    expect(s.next()).toBeUndefined();
    expect(s.onFinished(0, 0.5)).toBe(1);
    expect(s.next()).toMatchObject({ id: 2, arrival_s: 0.5 });
    expect(s.onFinished(1, 0.6)).toBe(0);
    expect(s.next()).toMatchObject({ id: 3, arrival_s: 0.5 });
    expect(s.next()).toBeUndefined();
    expect(s.exhausted()).toBe(false);
    expect(s.onFinished(2, 0.7)).toBe(1);
    expect(s.next()).toMatchObject({ id: 4, arrival_s: 0.7 });
    expect(s.exhausted()).toBe(true);
  });
});
