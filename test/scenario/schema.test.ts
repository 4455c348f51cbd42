import { routerNames } from '../../sim/routing/registry.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import { parseScenarioObject, ScenarioValidationError } from '../../sim/setup/load.js';
import { messageOf, validScenario } from './helpers.js';

const ENGINE_KEYS =
  'scheduler, usage, max_num_seqs, max_num_batched_tokens, block_size, enable_chunked_prefill, preemption, max_model_len, num_gpu_blocks_override, cuda_graphs, vllm_version, frontend_input_ms, frontend_output_ms, swap_space_gb, enable_prefix_caching, orca_reservation, max_batch_size, batch_timeout_ms, max_queue_len, scheduling_policy, speculative, lora';

function withChange(change: (s: Record<string, any>) => void): Record<string, any> {
  const s = validScenario();
  change(s);
  return s;
}

const errorFor = (change: (s: Record<string, any>) => void): string =>
  messageOf(() => parseScenarioObject(withChange(change)));

describe('parseScenarioObject accepts', () => {
  it('every key of the DESIGN example and returns it unchanged', () => {
    const full = {
      seed: 42,
      model: 'llama-3.1-8b',
      hardware: { gpu: 'h100-sxm', tensor_parallel: 2, pipeline_parallel: 1, gpu_memory_utilization: 0.9 },
      precision: { weights: 'bf16', kv_cache: 'fp8' },
      cluster: { replicas: 3, router: 'least-outstanding' },
      engine: {
        scheduler: 'vllm', usage: 'offline', max_num_seqs: 256, max_num_batched_tokens: 8192, block_size: 16,
        enable_chunked_prefill: true, preemption: 'swap', max_model_len: 8192, num_gpu_blocks_override: 1000,
        cuda_graphs: false, frontend_input_ms: 0, frontend_output_ms: 1.5,
      },
      workload: {
        trace: { path: '/t.csv', format: 'csv', columns: { arrival: 'ts', arrival_unit: 'ms', input_tokens: 'i', output_tokens: 'o' }, speedup: 2 },
        arrival: { process: 'gamma', rate_per_s: 5, cv: 2 },
        input_tokens: { dist: 'lognormal', mean: 1000, sigma: 0.8, min: 1, max: 4000 },
        output_tokens: { dist: 'zipf', s: 1.1, min: 1, max: 512 },
        duration_s: 60,
      },
      slo: { ttft_ms: 200, tpot_ms: 50, e2e_ms: 10_000 },
      metrics: { warmup_s: 0, uncertainty: true },
      cost: { usd_per_gpu_hour: 0 },
      output: { dir: '/out', tokens: true },
    };
    expect(parseScenarioObject(full)).toEqual(full);
  });

  it.each([
    { dist: 'uniform', min: 5, max: 5 },
    { dist: 'normal', mean: 100, std: 10 },
    { dist: 'empirical', path: 'lens.csv', column: 'n' },
  ])('length distribution %o', (dist) => {
    expect(parseScenarioObject(withChange((s) => (s.workload.input_tokens = dist))).workload.input_tokens).toEqual(dist);
  });

  it('null as "not given", so an emptied block means defaults', () => {
    const parsed = parseScenarioObject(withChange((s) => ((s.engine = null), (s.seed = null))));
    expect(parsed).not.toHaveProperty('engine');
    expect(parsed).not.toHaveProperty('seed');
  });
});

describe('parseScenarioObject rejects with one actionable line', () => {
  it.each<[string, (s: Record<string, any>) => void, string]>([
    ['negative rate', (s) => (s.workload.arrival.rate_per_s = -3), 'workload.arrival.rate_per_s: must be > 0, got -3'],
    ['rate of the wrong type', (s) => (s.workload.arrival.rate_per_s = 'fast'), 'workload.arrival.rate_per_s: must be a number ≥ 1e-9 and ≤ 1e9, got "fast"'],
    ['scheduler typo', (s) => (s.engine = { scheduler: 'vlm' }), 'engine.scheduler: must be one of vllm, vllm-v0, sarathi, orca, static, dynamic, got "vlm"'],
    ['weights dtype', (s) => (s.precision = { weights: 'fp9' }), 'precision.weights: must be one of fp32, fp16, bf16, fp8, int8, int4, got "fp9"'],
    ['kv dtype', (s) => (s.precision = { kv_cache: 'int4' }), 'precision.kv_cache: must be one of fp16, bf16, fp8, got "int4"'],
    ['router', (s) => (s.cluster = { router: 'rr' }), `cluster.router: must be one of ${routerNames().join(', ')}, got "rr"`],
    ['trace format', (s) => (s.workload.trace = { path: 'x', format: 'tsv' }), 'workload.trace.format: must be one of csv, jsonl, azure-2023, mooncake, vidur, azure-2024, burstgpt, splitwise, arrow, got "tsv"'],
    ['fractional TP', (s) => (s.hardware.tensor_parallel = 0.5), 'hardware.tensor_parallel: must be an integer ≥ 1, got 0.5'],
    ['zero replicas', (s) => (s.cluster = { replicas: 0 }), 'cluster.replicas: must be an integer ≥ 1, got 0'],
    ['negative seed', (s) => (s.seed = -1), 'seed: must be an integer ≥ 0, got -1'],
    ['memory fraction above 1', (s) => (s.hardware.gpu_memory_utilization = 1.5), 'hardware.gpu_memory_utilization: must be > 0 and ≤ 1, got 1.5'],
    ['memory fraction of 0', (s) => (s.hardware.gpu_memory_utilization = 0), 'hardware.gpu_memory_utilization: must be > 0 and ≤ 1, got 0'],
    ['boolean as string', (s) => (s.engine = { cuda_graphs: 'yes' }), 'engine.cuda_graphs: must be true or false, got "yes"'],
    ['scalar where a mapping goes', (s) => (s.hardware = 'h100'), 'hardware: must be a mapping, got "h100"'],
    ['empty model name', (s) => (s.model = ''), 'model: must be a non-empty string, got ""'],
    ['missing gpu', (s) => delete s.hardware.gpu, 'hardware.gpu: required (must be a non-empty string)'],
    ['missing workload', (s) => delete s.workload, 'workload: required (a mapping)'],
    ['arrival process typo', (s) => (s.workload.arrival.process = 'posson'), 'workload.arrival.process: must be one of poisson, gamma, constant, burst, got "posson"'],
    ['arrival process missing', (s) => delete s.workload.arrival.process, 'workload.arrival.process: required; one of poisson, gamma, constant, burst'],
    ['gamma without cv', (s) => (s.workload.arrival.process = 'gamma'), 'workload.arrival.cv: required (must be a number ≥ 0.001 and ≤ 1000)'],
    ['a rate too small for the time limit', (s) => (s.workload.arrival.rate_per_s = 1e-12), 'workload.arrival.rate_per_s: must be ≥ 1e-9 (the mean gap 1/rate must fit in the 1e9 s time limit), got 1e-12'],
    ['gamma with cv 1e-6', (s) => (s.workload.arrival = { process: 'gamma', rate_per_s: 1, cv: 1e-6 }), 'workload.arrival.cv: must be ≥ 0.001 (below it the gaps vary by under 0.1 % of their mean: use process constant), got 0.000001'],
    ['gamma with cv 0', (s) => (s.workload.arrival = { process: 'gamma', rate_per_s: 1, cv: 0 }), 'workload.arrival.cv: must be > 0, got 0'],
    ['burst given a rate', (s) => (s.workload.arrival = { process: 'burst', rate_per_s: 1 }), 'workload.arrival.rate_per_s: unknown key; allowed: process'],
    ['dist typo', (s) => (s.workload.output_tokens.dist = 'fixd'), 'workload.output_tokens.dist: must be one of fixed, uniform, normal, lognormal, zipf, empirical, got "fixd"'],
    ['fixed value 0', (s) => (s.workload.output_tokens.value = 0), 'workload.output_tokens.value: must be an integer ≥ 1, got 0'],
    ['uniform min > max', (s) => (s.workload.input_tokens = { dist: 'uniform', min: 10, max: 5 }), 'workload.input_tokens.max: must be ≥ min (10), got 5'],
    ['zipf s of 0', (s) => (s.workload.input_tokens = { dist: 'zipf', s: 0, min: 1, max: 9 }), 'workload.input_tokens.s: must be > 0, got 0'],
    ['lognormal negative sigma', (s) => (s.workload.input_tokens = { dist: 'lognormal', mean: 5, sigma: -1 }), 'workload.input_tokens.sigma: must be > 0, got -1'],
    ['empirical without column', (s) => (s.workload.input_tokens = { dist: 'empirical', path: 'x.csv' }), 'workload.input_tokens.column: required (must be a non-empty string)'],
    ['trace speedup 0', (s) => (s.workload.trace = { path: 'x', format: 'csv', speedup: 0 }), 'workload.trace.speedup: must be > 0, got 0'],
    ['zero duration', (s) => (s.workload.duration_s = 0), 'workload.duration_s: must be > 0, got 0'],
    ['negative warmup', (s) => (s.metrics = { warmup_s: -1 }), 'metrics.warmup_s: must be ≥ 0, got -1'],
    ['negative cost', (s) => (s.cost = { usd_per_gpu_hour: -0.5 }), 'cost.usd_per_gpu_hour: must be ≥ 0, got -0.5'],
    ['negative frontend time', (s) => (s.engine = { frontend_output_ms: -1 }), 'engine.frontend_output_ms: must be ≥ 0, got -1'],
    ['zero slo', (s) => (s.slo = { tpot_ms: 0 }), 'slo.tpot_ms: must be > 0, got 0'],
  ])('%s', (_name, change, expected) => {
    expect(errorFor(change)).toBe(expected);
  });

  it('names the closest known key for a typo and lists the allowed ones', () => {
    expect(errorFor((s) => (s.engine = { max_num_seq: 4 }))).toBe(
      `engine.max_num_seq: unknown key (did you mean "max_num_seqs"?); allowed: ${ENGINE_KEYS}`,
    );
  });

  it('leaves out the guess when nothing is close', () => {
    expect(errorFor((s) => (s.engine = { frobnicate_all_things: 1 }))).toBe(
      `engine.frobnicate_all_things: unknown key; allowed: ${ENGINE_KEYS}`,
    );
  });

  it('reports the first problem in document order and counts the rest', () => {
    // zod reports model/hardware before workload (schema order); the user wrote workload first.
    const doc = { workload: { arrival: { process: 'burst' }, num_requests: 0 }, hardware: { gpu: 'a', tp_size: 2 }, modle: 'x' };
    const err = (() => {
      try {
        parseScenarioObject(doc);
      } catch (e) {
        return e as ScenarioValidationError;
      }
    })();
    expect(err).toBeInstanceOf(ScenarioValidationError);
    expect(err).toBeInstanceOf(InfersimError);
    expect(err!.problems).toEqual([
      'workload.num_requests: must be an integer ≥ 1, got 0',
      'hardware.tp_size: unknown key; allowed: gpu, tensor_parallel, pipeline_parallel, gpu_memory_utilization, profile',
      'modle: unknown key (did you mean "model"?); allowed: seed, model, hardware, precision, cluster, pools, traffic, transfer, autoscale, cold_start, failures, faults, engine, workload, slo, metrics, cost, output, sweep',
      'model: required (must be a non-empty string)',
    ]);
    expect(err!.message).toBe('workload.num_requests: must be an integer ≥ 1, got 0 (and 3 more problems)');
  });

  it('says "1 more problem" in the singular', () => {
    expect(errorFor((s) => ((s.seed = -1), (s.model = 3)))).toBe(
      'model: must be a non-empty string, got 3 (and 1 more problem)',
    );
  });

  it('rejects a top level that is not a mapping', () => {
    expect(messageOf(() => parseScenarioObject([1, 2]))).toBe('scenario: must be a mapping, got [1,2]');
  });

  it('gives any bad value for an integer key one line naming the key', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const s = withChange((x) => (x.engine = { max_num_seqs: value }));
        const ok = Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= 2 ** 31 - 1;
        if (value === null || ok) {
          expect(() => parseScenarioObject(s)).not.toThrow();
        } else {
          const message = messageOf(() => parseScenarioObject(s));
          expect(message).toMatch(/^engine\.max_num_seqs: must be an integer (≥ 1|≥ 1 and ≤ 2147483647|≤ 2147483647 \(the outputs store counts as int32\)), got /);
          expect(message).not.toContain('\n');
        }
      }),
    );
  });
});
