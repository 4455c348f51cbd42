import { describe, expect, it } from 'vitest';
import { GPU_CATALOG } from '../../sim/hardware/catalog.js';
import { addDecode, addPrefillChunk, emptyBatch } from '../../sim/latency/batch.js';
import { DEFAULT_EFFICIENCY } from '../../sim/latency/efficiency.js';
import type { RooflineLatencyModel } from '../../sim/latency/roofline.js';
import { opTime, roofline } from './roofline.js';
import { MODEL_CATALOG } from '../../sim/model/catalog.js';
import { parameterCount, weightBytesPerGpu } from '../../sim/model/derived.js';

const dense = ['llama-2-7b', 'llama-3.1-8b', 'llama-2-70b', 'qwen2.5-7b', 'mistral-7b'];

function model(modelName: string, gpuName: string, tp: number, cuda_graphs = true) {
  return roofline({ model: modelName, gpu: gpuName, tensor_parallel: tp, cuda_graphs });
}

describe('physical sanity of the roofline model', () => {
  for (const gpuName of Object.keys(GPU_CATALOG)) {
    for (const name of dense) {
      const arch = MODEL_CATALOG[name];
      const gpu = GPU_CATALOG[gpuName];
      const tp = name.includes('70b') ? 8 : 1;

      it(`${name} TP${tp} on ${gpuName}: batch-1 decode is no faster than weights ÷ HBM bandwidth`, () => {
        const b = emptyBatch();
        addDecode(b, 1);
        const floor_s = weightBytesPerGpu(arch, 2, tp, 1) / gpu.hbm_bandwidth_bytes_per_s;
        expect(model(name, gpuName, tp).iterationTime_s(b)).toBeGreaterThanOrEqual(floor_s);
      });

      it(`${name} TP${tp} on ${gpuName}: prefill is no faster than FLOPs ÷ peak`, () => {
        const tokens = 4096;
        const b = emptyBatch();
        addPrefillChunk(b, tokens, 0, true);
        // 2 FLOPs per parameter per token, split over tp GPUs, at the dense bf16 peak.
        const floor_s = (2 * parameterCount(arch) * tokens) / tp / gpu.tensor_flops_per_s.bf16;
        expect(model(name, gpuName, tp).iterationTime_s(b)).toBeGreaterThanOrEqual(floor_s);
      });
    }
  }

  it('decode time grows with context and with batch size', () => {
    const m = model('llama-3.1-8b', 'h100-sxm', 1);
    const at = (seqs: number, ctx: number) => {
      const b = emptyBatch();
      for (let i = 0; i < seqs; i++) addDecode(b, ctx);
      return m.iterationTime_s(b);
    };
    expect(at(1, 8000)).toBeGreaterThan(at(1, 100));
    expect(at(64, 1000)).toBeGreaterThan(at(8, 1000));
  });

  it('larger KV blocks make paged decode attention faster', () => {
    const build = (block_size: number) => roofline({ block_size });
    const b = emptyBatch();
    for (let i = 0; i < 64; i++) addDecode(b, 4000);
    const attn = (bs: number) => build(bs).breakdown(b).find((op) => op.name === 'attention_decode')!.time_s;
    expect(attn(32)).toBeLessThan(attn(16));
    expect(attn(64)).toBeLessThan(attn(32));
  });

  it('eager mode (no CUDA graphs) makes a small TP8 decode step several times slower than its HBM time', () => {
    const b = emptyBatch();
    addDecode(b, 100);
    const graphs = model('llama-3.1-8b', 'h100-sxm', 8, true).iterationTime_s(b);
    const eager = model('llama-3.1-8b', 'h100-sxm', 8, false).iterationTime_s(b);
    const hbm_s = weightBytesPerGpu(MODEL_CATALOG['llama-3.1-8b'], 2, 8, 1) / GPU_CATALOG['h100-sxm'].hbm_bandwidth_bytes_per_s;
    expect(eager).toBeGreaterThan(graphs);
    expect(eager - DEFAULT_EFFICIENCY.cpu_step_s).toBeGreaterThan(3 * hbm_s);
  });

  it('tensor parallelism adds two all-reduces per layer and splits the GEMMs', () => {
    const b = emptyBatch();
    addPrefillChunk(b, 2048, 0, true);
    const tp1 = model('llama-3.1-8b', 'h100-sxm', 1).breakdown(b);
    const tp4 = model('llama-3.1-8b', 'h100-sxm', 4).breakdown(b);
    const get = (ops: typeof tp1, name: string) => ops.find((op) => op.name === name)!.time_s;
    expect(get(tp1, 'tp_all_reduce')).toBe(0);
    expect(get(tp4, 'tp_all_reduce')).toBeGreaterThan(0);
    // Compute-bound at 2048 tokens: a quarter of the columns takes a quarter of the time
    // (beyond each layer's fixed kernel floor).
    const floor = 32 * DEFAULT_EFFICIENCY.gemm_kernel_floor_s;
    expect(get(tp4, 'mlp_up_gate') - floor).toBeCloseTo((get(tp1, 'mlp_up_gate') - floor) / 4, 9);
  });
});

describe('interconnect and LM head', () => {
  const build = (gpu: string, tp: number, weights: 'bf16' | 'fp8' | 'int4' = 'bf16') =>
    roofline({ model: 'llama-3.1-70b', gpu, tensor_parallel: tp, weights });
  const time = (m: RooflineLatencyModel, name: string, b: ReturnType<typeof emptyBatch>) => opTime(m, name, b);

  it('H100 PCIe all-reduces over NVLink within a bridged pair and over PCIe beyond it', () => {
    const b = emptyBatch();
    addPrefillChunk(b, 4096, 0, true);
    const pcie = GPU_CATALOG['h100-pcie'];
    const bytes = 4096 * 8192 * 2;
    // TP4 crosses PCIe: the bandwidth term alone is 2·3/4 · bytes ÷ (one-direction PCIe × efficiency), per all-reduce.
    const pcieFloor = 2 * 80 * ((1.5 * bytes) / ((pcie.pcie_bandwidth_bytes_per_s / 2) * DEFAULT_EFFICIENCY.all_reduce_link));
    expect(time(build('h100-pcie', 4), 'tp_all_reduce', b)).toBeGreaterThanOrEqual(pcieFloor);
    expect(time(build('h100-pcie', 4), 'tp_all_reduce', b)).toBeGreaterThan(3 * time(build('h100-sxm', 4), 'tp_all_reduce', b));
    // TP2 stays on the bridge.
    expect(time(build('h100-pcie', 2), 'tp_all_reduce', b)).toBeLessThan(pcieFloor / 2);
  });

  it('the LM head stays 16-bit in quantized checkpoints', () => {
    const b = emptyBatch();
    addDecode(b, 100);
    const bf16 = time(build('h100-sxm', 4), 'lm_head_sampler', b);
    expect(time(build('h100-sxm', 4, 'fp8'), 'lm_head_sampler', b)).toBe(bf16);
    expect(time(build('h100-sxm', 4, 'int4'), 'lm_head_sampler', b)).toBe(bf16);
  });
});
