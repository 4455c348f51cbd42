import { describe, expect, it } from 'vitest';
import { loraStepOverhead_s } from '../../sim/latency/loraCost.js';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { expectInvariants, run, scenario } from '../helpers.js';

const OUTPUT = 64;
const loraScenario = (lora: Record<string, unknown> | undefined, workloadLora: Record<string, unknown> | undefined, rate_per_s: number, num_requests: number, more: Record<string, unknown> = {}) =>
  scenario({
    seed: 9,
    engine: { scheduler: 'vllm', frontend_input_ms: 0, frontend_output_ms: 0, ...(lora === undefined ? {} : { lora }) },
    metrics: { uncertainty: false },
    workload: {
      arrival: { process: 'poisson', rate_per_s },
      input_tokens: { dist: 'fixed', value: 256 },
      output_tokens: { dist: 'fixed', value: OUTPUT },
      num_requests,
      ...(workloadLora === undefined ? {} : { lora: workloadLora }),
    },
    ...more,
  });

describe('LoRA on one replica', () => {
  it('each decode step of a lone request pays the shrink/expand kernels of one adapter over one token', () => {
    const input = loraScenario({ max_loras: 1 }, { adapters: 1 }, 1, 1);
    const lora = resolveScenario(parseScenarioObject(input)).scenario.engine.lora!;
    const gaps = (o: { token_times_s: ArrayLike<number> }) => Array.from({ length: OUTPUT - 1 }, (_, i) => o.token_times_s[i + 1] - o.token_times_s[i]);
    const withAdapter = gaps(run(input).outcomes[0]);
    const base = gaps(run(loraScenario({ max_loras: 1 }, undefined, 1, 1)).outcomes[0]);
    const kernels = loraStepOverhead_s(lora.step_cost, 1, 1);
    expect(kernels).toBeGreaterThan(0);
    for (let i = 0; i < base.length; i++) expect(withAdapter[i] - base[i]).toBeCloseTo(kernels, 9);
  });

  it('counts and times every adapter load: one request at a time, two adapters alternating over one GPU slot', () => {
    // Far apart: each request finishes before the next arrives, so each one swaps the slot's adapter.
    const input = loraScenario({ max_loras: 1, max_cpu_loras: 2 }, { adapters: 2, popularity: 'round_robin' }, 0.05, 12);
    const lora = resolveScenario(parseScenarioObject(input)).scenario.engine.lora!;
    const observed = run(input);
    expectInvariants(observed);
    const s = observed.result.summary.lora!;
    expect(s.adapter_loads).toBe(12);
    // The first use of each adapter reads it from disk; afterwards both stay in CPU memory.
    expect(s.adapter_loads_from_disk).toBe(2);
    expect(s.load_time_s).toBeCloseTo(2 * (lora.disk_load_s + lora.cpu_load_s) + 10 * lora.cpu_load_s, 12);
    expect(s.max_adapters_per_step).toBe(1);
  });

  it('with max_loras = 1 and two adapters alternating, steps hold one adapter and throughput drops', () => {
    const at = (max_loras: number) => {
      const observed = run(loraScenario({ max_loras }, { adapters: 2, popularity: 'round_robin' }, 40, 400));
      expectInvariants(observed);
      return observed.result.summary;
    };
    const one = at(1);
    const two = at(2);
    expect(one.lora!.max_adapters_per_step).toBe(1);
    expect(two.lora!.max_adapters_per_step).toBe(2);
    expect(one.overall.throughput.output_tokens_per_s as number).toBeLessThan(0.9 * (two.overall.throughput.output_tokens_per_s as number));
  });
});

describe('LoRA across replicas', () => {
  it('lora-affinity keeps each adapter on fewer replicas than round-robin, so fewer loads', () => {
    const loads = (router: string) => {
      const observed = run(
        loraScenario({ max_loras: 2, max_cpu_loras: 2 }, { adapters: 4, popularity: 'uniform' }, 8, 400, { cluster: { replicas: 2, router } }),
      );
      expectInvariants(observed);
      return observed.result.summary.lora!.adapter_loads;
    };
    expect(loads('lora-affinity')).toBeLessThan(loads('round-robin'));
  });
});

describe('LoRA with prefill and decode pools', () => {
  it('a decode replica admits a request whose KV landed only while its adapter has a slot', () => {
    const observed = run(
      loraScenario({ max_loras: 1, max_cpu_loras: 4 }, { adapters: 4, popularity: 'uniform' }, 20, 60, {
        pools: [
          { name: 'prefill', replicas: 1, role: 'prefill' },
          { name: 'decode', replicas: 1, role: 'decode' },
        ],
        transfer: { link: 'nvlink' },
      }),
    );
    expectInvariants(observed);
    expect(observed.result.totals.finished).toBe(60);
    expect(observed.result.summary.lora!.max_adapters_per_step).toBe(1);
  });
});
