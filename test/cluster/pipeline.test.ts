import { describe, expect, it } from 'vitest';
import { PipelineStages, stageTimes } from '../../sim/cluster/pipeline.js';
import { InfersimError } from '../../sim/errors.js';
import { getGpu } from '../../sim/hardware/catalog.js';
import { addDecode, emptyBatch } from '../../sim/latency/batch.js';
import type { LatencyModel, OperatorTime } from '../../sim/latency/model.js';
import { getModel } from '../../sim/model/catalog.js';
import type { Profile } from '../../sim/latency/profile/schema.js';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { stageLink } from '../../sim/setup/pipeline.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { simulate } from '../../sim/index.js';
import { expectInvariants, run, scenario } from '../helpers.js';

const op = (name: string, time_s: number): OperatorTime => ({ name, time_s, source: 'modelled' });

/** A latency model whose every step has the same terms: host 2 ms, layers 10 ms, LM head 1 ms, graph launch 0.5 ms. */
const fixedTerms: LatencyModel = {
  description: 'fixed terms',
  iterationTime_s: () => 0.0135,
  breakdown: () => [op('cpu_overhead', 0.002), op('qkv_proj', 0.006), op('mlp_down', 0.004), op('lm_head_sampler', 0.001), op('launch_overhead', 0.0005)],
};

describe('pipeline stages as resources', () => {
  it('a micro-batch waits for the stage ahead and for the one before it (hand-computed)', () => {
    const p = new PipelineStages(2);
    const t = { host_s: 1, stage_s: 5, last_s: 2, send_s: 1 };
    // Host 0–1; stage 1 computes 1–6 and sends until 7; stage 2 computes 7–14.
    expect(p.enter(0, t)).toBe(14);
    // Formed at 1, host until 2; stage 1 is busy until 7: computes 7–12, sends until 13; stage 2 frees at 14: 14–21.
    expect(p.enter(1, t)).toBe(21);
    expect(p.stage_busy_s).toBe(2 * (5 + 5 + 2));
    expect(p.micro_batches).toBe(2);
  });

  it('splits a step: host work once, layers over the stages, the LM head on the last, a graph launch per stage', () => {
    const batch = emptyBatch();
    for (let i = 0; i < 4; i++) addDecode(batch, 100);
    const t = stageTimes(fixedTerms, batch, 2, { link: 'nvlink', bytes_per_token_per_gpu: 1000, send_s: (bytes) => bytes * 1e-9 }, 0.0001);
    expect(t.host_s).toBeCloseTo(0.002, 12);
    expect(t.stage_s).toBeCloseTo(0.010 / 2 + 0.0005 + 0.0001, 12);
    expect(t.last_s).toBeCloseTo(0.001, 12);
    // Four decode tokens × 1000 bytes at 1 ns a byte.
    expect(t.send_s).toBeCloseTo(4e-6, 15);
  });
});

describe('the link between stages', () => {
  const arch = getModel('llama-3.1-70b');
  it('within an NVLink domain: hidden and residual in bf16, each GPU sending its 1/tp slice', () => {
    const gpu = getGpu('h100-sxm');
    const link = stageLink(arch, gpu, 4, 2);
    expect(link.link).toBe('nvlink');
    // 2 tensors × 8192 hidden × 2 bytes ÷ 4 GPUs.
    expect(link.bytes_per_token_per_gpu).toBe(8192);
    const bytes = 8192 * 100;
    expect(link.send_s(bytes)).toBeCloseTo(5e-6 + bytes / (gpu.nvlink_bandwidth_bytes_per_s / 2), 12);
  });

  it('across nodes (TP8 × PP2 on 8-GPU nodes): InfiniBand NDR, 400 Gb/s and 10 µs', () => {
    const link = stageLink(getModel('llama-3.1-405b'), getGpu('h100-sxm'), 8, 2);
    expect(link.link).toBe('infiniband');
    expect(link.send_s(50e6)).toBeCloseTo(10e-6 + 50e6 / 50e9, 12);
  });

  it("a profile's send_recv rows replace the bandwidth model, meeting it at the table's edges", () => {
    const gpu = getGpu('h100-sxm');
    const rows = [
      { bytes: 1e6, link: 'nvlink' as const, time_s: 20e-6 },
      { bytes: 4e6, link: 'nvlink' as const, time_s: 40e-6 },
    ];
    const link = stageLink(arch, gpu, 1, 2, { tables: { send_recv: rows } } as unknown as Profile);
    expect(link.send_s(1e6)).toBeCloseTo(20e-6, 15);
    // Log-log between the rows: 2e6 is half-way in log bytes.
    expect(link.send_s(2e6)).toBeCloseTo(Math.sqrt(20e-6 * 40e-6), 12);
    const model = (b: number) => 5e-6 + b / (gpu.nvlink_bandwidth_bytes_per_s / 2);
    expect(link.send_s(8e6)).toBeCloseTo(model(8e6) * (40e-6 / model(4e6)), 12);
  });
});

const ppScenario = (hardware: Record<string, unknown>, rate_per_s: number, num_requests: number) =>
  scenario({
    seed: 3,
    model: 'llama-3.1-70b',
    hardware: { gpu: 'h200-sxm', ...hardware },
    engine: { scheduler: 'vllm', max_model_len: 8192, frontend_input_ms: 0, frontend_output_ms: 0 },
    metrics: { uncertainty: false },
    workload: { arrival: { process: 'poisson', rate_per_s }, input_tokens: { dist: 'fixed', value: 512 }, output_tokens: { dist: 'fixed', value: 128 }, num_requests },
  });

describe('one request through two stages', () => {
  it('each token takes host + both stages + one send + the LM head; the stages idle over half the time', () => {
    const input = ppScenario({ tensor_parallel: 1, pipeline_parallel: 2 }, 1, 1);
    const setup = resolveScenario(parseScenarioObject(input));
    const send_s = stageLink(setup.arch, setup.gpu, 1, 2).send_s;
    const outcomes: number[][] = [];
    const result = simulate(input, { latency: fixedTerms, onRequest: (o) => outcomes.push(Array.from(o.token_times_s)) });
    const times = outcomes[0];
    // Decode steps: one token each, through host (2 ms), stage 1 (5 + 0.5 ms), a send, stage 2 (5 + 0.5 + 1 ms).
    const step = 0.002 + 2 * 0.0055 + send_s(2 * 8192 * 2) + 0.001;
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeCloseTo(step, 9);
    const pipeline = result.summary.pipeline!;
    expect(pipeline.stages).toBe(2);
    expect(pipeline.micro_batches).toBe(128);
    // One micro-batch at a time: of 2 × step stage-seconds per token, the stages compute 2 × 5.5 + 1 ms.
    expect(pipeline.bubble_fraction!).toBeGreaterThan(0.5);
  });
});

describe('PP2 against TP2 for a 70B model (H200)', () => {
  const tpot = (o: readonly { token_times_s: ArrayLike<number> }[]) => o.reduce((acc, r) => acc + (r.token_times_s[127] - r.token_times_s[0]) / 127, 0) / o.length;
  const outputRate = (hardware: Record<string, unknown>, rate: number, n: number) => {
    const observed = run(ppScenario(hardware, rate, n));
    expectInvariants(observed);
    return observed;
  };

  it('per-token latency is higher with PP at low load: each token crosses both stages one after the other', () => {
    const tp = tpot(outputRate({ tensor_parallel: 2 }, 0.2, 20).outcomes);
    const pp = tpot(outputRate({ tensor_parallel: 1, pipeline_parallel: 2 }, 0.2, 20).outcomes);
    expect(pp).toBeGreaterThan(1.2 * tp);
  });

  it('throughput at saturation is comparable: two micro-batches keep both stages busy', () => {
    const tp = outputRate({ tensor_parallel: 2 }, 40, 400).result.summary.overall.throughput.output_tokens_per_s as number;
    const observed = outputRate({ tensor_parallel: 1, pipeline_parallel: 2 }, 40, 400);
    const pp = observed.result.summary.overall.throughput.output_tokens_per_s as number;
    expect(pp / tp).toBeGreaterThan(0.85);
    expect(pp / tp).toBeLessThan(1.25);
    expect(observed.result.summary.pipeline!.bubble_fraction!).toBeLessThan(0.25);
  });
});

describe('a 405B model across two nodes', () => {
  it('runs at TP8 × PP2 on H100s, stages linked over InfiniBand; at PP1 it does not fit', () => {
    const at = (pp: number) =>
      scenario({
        model: 'llama-3.1-405b',
        hardware: { gpu: 'h100-sxm', tensor_parallel: 8, pipeline_parallel: pp },
        engine: { scheduler: 'vllm', max_model_len: 8192 },
        metrics: { uncertainty: false },
        workload: { arrival: { process: 'poisson', rate_per_s: 1 }, input_tokens: { dist: 'fixed', value: 1000 }, output_tokens: { dist: 'fixed', value: 50 }, num_requests: 20 },
      });
    const observed = run(at(2));
    expectInvariants(observed);
    expect(observed.result.totals.finished).toBe(20);
    expect(observed.result.summary.pipeline!.link).toBe('infiniband');
    expect(() => run(at(1))).toThrow(/model does not fit/);
  });
});

describe('what pipeline parallelism refuses', () => {
  const attempt = (engine: Record<string, unknown>) => () =>
    resolveScenario(parseScenarioObject(scenario({ model: 'llama-3.1-70b', hardware: { gpu: 'h200-sxm', pipeline_parallel: 2 }, engine })));
  it.each([
    ['a scheduler that runs one step at a time', { scheduler: 'sarathi' }, /hardware\.pipeline_parallel.*sarathi runs one step at a time/],
    ['speculative decoding', { scheduler: 'vllm', speculative: { method: 'ngram', k: 3, acceptance: 0.5 } }, /engine\.speculative.*not modelled with hardware\.pipeline_parallel/],
  ])('%s', (_what, engine, message) => {
    expect(attempt(engine)).toThrow(InfersimError);
    expect(attempt(engine)).toThrow(message);
  });
});

describe('KV pressure with steps in flight', () => {
  it('preempts only sequences not in a step in flight; blocks are freed and tokens conserved', () => {
    const observed = run(
      scenario({
        seed: 11,
        hardware: { gpu: 'h100-sxm', pipeline_parallel: 2 },
        engine: { scheduler: 'vllm', num_gpu_blocks_override: 300, max_model_len: 4096 },
        metrics: { uncertainty: false },
        workload: { arrival: { process: 'poisson', rate_per_s: 40 }, input_tokens: { dist: 'uniform', min: 100, max: 1500 }, output_tokens: { dist: 'uniform', min: 50, max: 600 }, num_requests: 300 },
      }),
    );
    expectInvariants(observed);
    expect(observed.result.totals.preemptions).toBeGreaterThan(0);
    expect(observed.result.totals.finished).toBe(300);
  });
});

describe('a pipelined replica failing with steps in flight', () => {
  it('resends their requests to the other pipelined replica, where they finish', () => {
    // Both replicas run two micro-batches at a time; the failure falls under load (at seed 13, two
    // steps in flight on replica 0). Its lost sequences are never scheduled again: their requests
    // are resent as new ones, which replica 1 stages and finishes.
    const observed = run(
      scenario({
        seed: 13,
        hardware: { gpu: 'h100-sxm', pipeline_parallel: 2 },
        engine: { scheduler: 'vllm', max_model_len: 4096 },
        cluster: { replicas: 2, router: 'least-outstanding', max_retries: 2 },
        faults: [{ at_s: 4, replica: 0, down_s: 1000 }],
        metrics: { uncertainty: false },
        workload: { arrival: { process: 'poisson', rate_per_s: 30 }, input_tokens: { dist: 'uniform', min: 100, max: 1500 }, output_tokens: { dist: 'uniform', min: 50, max: 400 }, num_requests: 400 },
      }),
    );
    expectInvariants(observed);
    const resent = observed.outcomes.filter((o) => (o.retries ?? 0) > 0);
    expect(resent.length).toBeGreaterThan(0);
    expect(resent.every((o) => o.status === 'finished' && o.replica === 1)).toBe(true);
    expect(observed.result.totals.finished).toBe(400);
  });
});
