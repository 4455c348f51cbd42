import { describe, expect, it } from 'vitest';
import { getGpu } from '../../sim/hardware/catalog.js';
import { DEFAULT_EFFICIENCY } from '../../sim/latency/efficiency.js';
import {
  adapterBytesPerGpu,
  adapterCheckpointBytes,
  adapterCpuLoadTime_s,
  adapterDiskLoadTime_s,
  loraReservedBytesPerGpu,
  loraStepCost,
  loraStepOverhead_s,
  NVME_READ_BYTES_PER_S,
} from '../../sim/latency/loraCost.js';
import { getModel } from '../../sim/model/catalog.js';

const llama8b = getModel('llama-3.1-8b');
const h100 = getGpu('h100-sxm');

/*
 * Llama-3.1-8B (hidden 4096, 32 query heads and 8 KV heads of 128, intermediate 14336, 32 layers),
 * a rank-16 adapter on q, k, v, o, gate, up, down, one GPU:
 *   qkv:     A 3 × 16 × 4096 = 196,608; B 16 × (4096 + 1024 + 1024) = 98,304    → 294,912
 *   o:       A 16 × 4096 = 65,536;       B 4096 × 16 = 65,536                   → 131,072
 *   gate_up: A 2 × 16 × 4096 = 131,072;  B 16 × 2 × 14336 = 458,752             → 589,824
 *   down:    A 16 × 14336 = 229,376;     B 4096 × 16 = 65,536                   → 294,912
 *   a layer: 1,310,720 parameters; 32 layers: 41,943,040 (PEFT's "trainable params: 41,943,040"
 *   for this adapter), × 2 bytes (bf16) = 83,886,080 bytes.
 */
const ADAPTER_8B_R16 = 83_886_080;

describe('adapter bytes', () => {
  it('Llama-3.1-8B, rank 16, one GPU: 83,886,080 bytes (hand-computed above)', () => {
    expect(adapterBytesPerGpu(llama8b, 16, 1, 1)).toBe(ADAPTER_8B_R16);
    expect(adapterCheckpointBytes(llama8b, 16)).toBe(ADAPTER_8B_R16);
  });

  it('scales with the rank', () => {
    expect(adapterBytesPerGpu(llama8b, 64, 1, 1)).toBe(4 * ADAPTER_8B_R16);
  });

  it('tp 2 shards B of qkv and gate_up and A of o and down; the rest stays whole on each GPU', () => {
    // qkv: A 196,608; B 16 × (2048 + 512 + 512) = 49,152. o: A 16 × 2048 = 32,768; B 65,536.
    // gate_up: A 131,072; B 16 × 14336 = 229,376. down: A 16 × 7168 = 114,688; B 65,536.
    // A layer: 884,736; 32 layers × 2 bytes = 56,623,104.
    expect(adapterBytesPerGpu(llama8b, 16, 2, 1)).toBe(56_623_104);
  });

  it('tp beyond the KV heads replicates them, as the base weights do', () => {
    // tp 16: 2048 / 16 query columns per GPU, but one whole KV head (128) each, not half of one.
    const q = (32 / 16) * 128;
    const kv = 128;
    const ffn = 14336 / 16;
    const layer = 3 * 16 * 4096 + 16 * (q + 2 * kv) + (16 * q + 4096 * 16) + (2 * 16 * 4096 + 16 * 2 * ffn) + (16 * ffn + 4096 * 16);
    expect(adapterBytesPerGpu(llama8b, 16, 16, 1)).toBe(32 * layer * 2);
  });

  it('pp 2 puts half the layers on each stage', () => {
    expect(adapterBytesPerGpu(llama8b, 16, 1, 2)).toBe(ADAPTER_8B_R16 / 2);
  });

  it('the slots vLLM preallocates: max_loras × (adapter + embedding and LM-head buffers)', () => {
    // Embedding A 128,256 × 16 + B 4096 × 16, LM head A 16 × 4096 + B 128,256 × 16 = 4,235,264 parameters = 8,470,528 bytes.
    const slot = ADAPTER_8B_R16 + 8_470_528;
    expect(loraReservedBytesPerGpu(llama8b, 1, 16, 1, 1)).toBe(slot);
    expect(loraReservedBytesPerGpu(llama8b, 4, 16, 1, 1)).toBe(4 * slot);
  });
});

describe('adapter load times', () => {
  it('CPU → GPU over one direction of PCIe: 83.9 MB at 64 GB/s on an H100 SXM (128 GB/s both ways)', () => {
    expect(adapterCpuLoadTime_s(ADAPTER_8B_R16, h100)).toBeCloseTo(ADAPTER_8B_R16 / 64e9, 12);
    expect(adapterCpuLoadTime_s(ADAPTER_8B_R16, h100) * 1e3).toBeCloseTo(1.311, 3);
  });

  it('disk → CPU at the stated NVMe read rate (6.9 GB/s): about 12 ms for the 8B rank-16 adapter', () => {
    expect(NVME_READ_BYTES_PER_S).toBe(6.9e9);
    expect(adapterDiskLoadTime_s(ADAPTER_8B_R16) * 1e3).toBeCloseTo(12.157, 3);
    expect(adapterDiskLoadTime_s(1e9, 1e9)).toBe(1);
  });
});

describe('LoRA step overhead', () => {
  const cost = loraStepCost(llama8b, h100, 16, 1, 1);

  it('has the hand-computed coefficients', () => {
    // Shrink + expand for qkv, o, gate_up, down: 8 launches a layer, 32 layers.
    expect(cost.kernels).toBe(256);
    expect(cost.kernel_floor_s).toBe(DEFAULT_EFFICIENCY.gemm_kernel_floor_s);
    expect(cost.weight_bytes_per_adapter).toBe(ADAPTER_8B_R16);
    // Per token and layer, elements: qkv 4096 + 2·3·16 + 2·6144 = 16,480; o 4096 + 2·16 + 2·4096 = 12,320;
    // gate_up 4096 + 2·2·16 + 2·28672 = 61,504; down 14336 + 2·16 + 2·4096 = 22,560: 112,864 × 2 bytes × 32 layers.
    expect(cost.activation_bytes_per_token).toBe(112_864 * 2 * 32);
    expect(cost.flops_per_token).toBe(2 * 41_943_040);
    expect(cost.memory_bytes_per_s).toBe(h100.hbm_bandwidth_bytes_per_s * DEFAULT_EFFICIENCY.gemm_memory);
  });

  it('nothing without an adapter token; floors plus bytes over bandwidth when memory-bound', () => {
    expect(loraStepOverhead_s(cost, 0, 0)).toBe(0);
    expect(loraStepOverhead_s(cost, 100, 0)).toBe(0);
    const one = loraStepOverhead_s(cost, 1, 1);
    const bytes = ADAPTER_8B_R16 + 112_864 * 2 * 32;
    expect(one).toBeCloseTo(256 * 6e-6 + bytes / (3350e9 * 0.8), 12);
    // About 1.5 ms of floors and 34 µs of weight and activation traffic: the floors dominate a decode step.
    expect(one * 1e3).toBeCloseTo(1.570, 3);
  });

  it('each distinct adapter adds its weights; more tokens add activations', () => {
    const one = loraStepOverhead_s(cost, 64, 1);
    const two = loraStepOverhead_s(cost, 64, 2);
    expect(two - one).toBeCloseTo(ADAPTER_8B_R16 / cost.memory_bytes_per_s, 12);
    expect(loraStepOverhead_s(cost, 128, 1)).toBeGreaterThan(one);
  });

  it('turns compute-bound at a large rank and many tokens (FLOPs over the bf16 peak)', () => {
    const big = loraStepCost(llama8b, h100, 512, 1, 1);
    const tokens = 8192;
    const memory = (big.weight_bytes_per_adapter + tokens * big.activation_bytes_per_token) / big.memory_bytes_per_s;
    const compute = (tokens * big.flops_per_token) / big.compute_flops_per_s;
    expect(compute).toBeGreaterThan(memory);
    expect(loraStepOverhead_s(big, tokens, 1)).toBeCloseTo(big.kernels * big.kernel_floor_s + compute, 12);
  });
});
