import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterBytesPerGpu, loraReservedBytesPerGpu } from '../../sim/latency/loraCost.js';
import { getModel } from '../../sim/model/catalog.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { registerScheduler, SCHEDULERS } from '../../sim/scheduler/registry.js';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { scenario } from '../helpers.js';

/*
 * A copy of the V1 policy that declares the lora trait, so these tests do not depend on whether the
 * built-in vllm factory declares it yet (it will: then both names are listed where schedulers are).
 */
const LORA_V1 = 'vllm-lora-test';
let unregister: () => void;
beforeAll(() => {
  const v1 = SCHEDULERS.vllm;
  unregister = registerScheduler({ ...v1, name: LORA_V1, traits: { ...v1.traits, lora: true } });
});
afterAll(() => unregister());

const parse = (patch: Parameters<typeof scenario>[0]) => parseScenarioObject(scenario(patch) as unknown as Record<string, unknown>);
const resolve = (patch: Parameters<typeof scenario>[0]) => resolveScenario(parse(patch) as ScenarioInput);
const withLora = (lora: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ engine: { scheduler: LORA_V1, max_model_len: 4096, lora, ...more } });
const loraWorkload = (lora: Record<string, unknown>) => ({ ...scenario().workload, lora });

describe('engine.lora', () => {
  it("fills vLLM's defaults: one slot, rank 16, max_cpu_loras = max_loras", () => {
    const l = resolve(withLora({})).scenario.engine.lora!;
    expect(l).toMatchObject({ max_loras: 1, max_lora_rank: 16, max_cpu_loras: 1 });
    expect(resolve(withLora({ max_loras: 4 })).scenario.engine.lora).toMatchObject({ max_loras: 4, max_cpu_loras: 4 });
  });

  it('carries the costs the engine needs: bytes, load times, step-cost coefficients', () => {
    const l = resolve(withLora({ max_loras: 4, max_lora_rank: 16, max_cpu_loras: 8 })).scenario.engine.lora!;
    const arch = getModel('llama-3.1-8b');
    expect(l.adapter_bytes_per_gpu).toBe(83_886_080);
    expect(l.reserved_bytes_per_gpu).toBe(loraReservedBytesPerGpu(arch, 4, 16, 1, 1));
    expect(l.cpu_load_s).toBeCloseTo(83_886_080 / 64e9, 12);
    expect(l.disk_load_s).toBeCloseTo(83_886_080 / 6.9e9, 12);
    expect(l.step_cost.kernels).toBe(256);
  });

  it('shards by tensor parallel', () => {
    const arch = getModel('llama-3.1-8b');
    const s = resolve({ ...withLora({ max_lora_rank: 32 }), hardware: { gpu: 'h100-sxm', tensor_parallel: 2 } });
    expect(s.scenario.engine.lora!.adapter_bytes_per_gpu).toBe(adapterBytesPerGpu(arch, 32, 2, 1));
  });

  it('takes KV blocks away: the slots come out of the KV budget', () => {
    const plain = resolve({ engine: { scheduler: LORA_V1, max_model_len: 4096 } }).kv;
    const lora = resolve(withLora({ max_loras: 4 })).kv;
    const reserved = loraReservedBytesPerGpu(getModel('llama-3.1-8b'), 4, 16, 1, 1);
    expect(lora.lora_bytes).toBe(reserved);
    expect(plain.lora_bytes).toBeUndefined();
    const free = plain.budget_bytes - plain.weight_bytes - plain.activation_peak_bytes - plain.non_torch_bytes - plain.cuda_graph_bytes;
    expect(lora.num_gpu_blocks).toBe(Math.floor((free - reserved) / plain.kv_bytes_per_block));
    expect(lora.num_gpu_blocks).toBeLessThan(plain.num_gpu_blocks);
  });

  it('refuses max_cpu_loras below max_loras, as vLLM does', () => {
    expect(() => resolve(withLora({ max_loras: 4, max_cpu_loras: 2 }))).toThrow(
      /^engine\.lora\.max_cpu_loras: must be ≥ engine\.lora\.max_loras \(4\): every adapter in a GPU slot is also kept in CPU memory, got 2$/,
    );
  });

  it('refuses a rank vLLM does not serve, listing the ones it does', () => {
    expect(() => parse(withLora({ max_lora_rank: 24 }))).toThrow(/engine\.lora\.max_lora_rank: must be one of vLLM's LoRA ranks: 1, 8, 16, 32, 64, 128, 256, 320, 512/);
    expect(() => parse(withLora({ max_loras: 0 }))).toThrow(/engine\.lora\.max_loras: must be an integer ≥ 1/);
    expect(() => parse(withLora({ slots: 2 }))).toThrow(/engine\.lora.*slots/);
  });

  it('refuses a scheduler without the lora trait, naming those that have it', () => {
    expect(() => resolve({ engine: { scheduler: 'sarathi', lora: {} } })).toThrow(
      new RegExp(`^engine\\.lora: needs a scheduler that serves LoRA adapters \\((vllm, )?${LORA_V1}\\); engine\\.scheduler is sarathi`),
    );
  });

  it('refuses mixture-of-experts models (only dense linear layers are costed)', () => {
    expect(() => resolve({ ...withLora({}), model: 'mixtral-8x7b', hardware: { gpu: 'h100-sxm', tensor_parallel: 4 } })).toThrow(
      /^engine\.lora: is modelled for dense models with standard attention; mixtral-8x7b has mixture-of-experts layers/,
    );
  });
});

describe('requests that name adapters need engine.lora', () => {
  it('workload.lora without engine.lora is refused, saying what to set', () => {
    expect(() => resolve({ workload: loraWorkload({ adapters: 2 }) })).toThrow(
      /^workload\.lora: gives requests LoRA adapters, but engine\.lora is not set: set engine\.lora .* or remove workload\.lora, got 2$/,
    );
    expect(resolve({ ...withLora({}), workload: loraWorkload({ adapters: 2 }) }).scenario.workload.lora).toEqual({ adapters: 2 });
  });

  it('a trace adapter column without engine.lora is refused', () => {
    const workload = { trace: { path: '/nonexistent.csv', format: 'csv', columns: { input_tokens: 'in', output_tokens: 'out', adapter: 'lora' } } };
    expect(() => resolve({ workload })).toThrow(/^workload\.trace\.columns\.adapter: names each request's LoRA adapter, but engine\.lora is not set/);
  });

  it('with pools, every pool the requests may reach needs it; a pool engine takes lora like the top-level one', () => {
    const workload = loraWorkload({ adapters: 3, popularity: 'uniform' });
    const engine = { scheduler: LORA_V1, max_model_len: 4096 };
    expect(() =>
      resolve({ engine, workload, pools: [{ name: 'a', replicas: 1, engine: { lora: { max_loras: 2 } } }, { name: 'b', replicas: 1 }] }),
    ).toThrow(/^pools\[1\] \(b\): workload\.lora: gives requests LoRA adapters, but engine\.lora is not set/);
    const s = resolve({ engine: { ...engine, lora: { max_loras: 1 } }, workload, pools: [{ name: 'a', replicas: 1, engine: { lora: { max_loras: 2 } } }, { name: 'b', replicas: 1 }] });
    expect(s.scenario.pools!.map((p) => p.engine.lora?.max_loras)).toEqual([2, 1]);
  });

  it('workload.lora is checked: field, value and what is allowed', () => {
    expect(() => parse({ ...withLora({}), workload: loraWorkload({ adapters: 0 }) })).toThrow(/workload\.lora\.adapters: must be an integer ≥ 1/);
    expect(() => parse({ ...withLora({}), workload: loraWorkload({ adapters: 2, popularity: 'zipfian' }) })).toThrow(/workload\.lora\.popularity: .*zipf.*uniform.*round_robin/);
    expect(() => parse({ ...withLora({}), workload: loraWorkload({ adapters: 2, zipf_alpha: 0 }) })).toThrow(/workload\.lora\.zipf_alpha: must be > 0/);
    expect(() => parse({ ...withLora({}), workload: loraWorkload({ adapters: 2, base_fraction: 1.5 }) })).toThrow(/workload\.lora\.base_fraction: must be a number ≤ 1 \(a share of the requests\), got 1\.5/);
  });
});
