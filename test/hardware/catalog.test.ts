import { describe, expect, it } from 'vitest';
import { GPU_CATALOG, getGpu } from '../../sim/hardware/catalog.js';
import { InfersimError } from '../../sim/errors.js';

const NAMES = ['h100-sxm', 'h100-pcie', 'h200-sxm', 'a100-sxm-80gb', 'a100-sxm-40gb', 'l40s', 'l4', 'a10g'];
const MIB = 1024 * 1024;

describe('GPU_CATALOG', () => {
  it('holds exactly the documented GPUs', () => {
    expect(Object.keys(GPU_CATALOG).sort()).toEqual([...NAMES].sort());
  });

  it('uses the runtime-reported totals, below the nvidia-smi totals', () => {
    const GIB = 1024 * MIB;
    // vLLM's start-up logs on an H100 80GB: "total 79.19GiB" (llm-d-planner v0.19.0 logs), what its KV budget starts from.
    expect(GPU_CATALOG['h100-sxm'].runtime_memory_bytes).toBe(Math.round(79.19 * GIB));
    expect(GPU_CATALOG['a100-sxm-80gb'].runtime_memory_bytes).toBe(Math.round(79.35 * GIB));
    const nvidiaSmiMiB: Record<string, number> = {
      'h100-sxm': 81559, 'h100-pcie': 81559, 'h200-sxm': 143771, 'a100-sxm-80gb': 81920,
      'a100-sxm-40gb': 40960, l40s: 46068, l4: 23034, a10g: 23028,
    };
    for (const [key, mib] of Object.entries(nvidiaSmiMiB)) {
      const reserved = mib * MIB - GPU_CATALOG[key].runtime_memory_bytes;
      expect(reserved, key).toBeGreaterThan(0.2 * GIB);
      expect(reserved, key).toBeLessThan(0.8 * GIB);
    }
    expect(GPU_CATALOG['h200-sxm'].memory_bytes).toBe(141e9);
  });

  it('joins TP groups over NVLink only as far as the topology reaches', () => {
    expect(GPU_CATALOG['h100-sxm'].nvlink_group_size).toBe(8);
    expect(GPU_CATALOG['h100-pcie'].nvlink_group_size).toBe(2);
    for (const key of ['l40s', 'l4', 'a10g']) expect(GPU_CATALOG[key].nvlink_group_size, key).toBe(0);
  });

  it('has consistent entries with datasheet sources', () => {
    for (const [key, gpu] of Object.entries(GPU_CATALOG)) {
      expect(gpu.name, key).toBe(key);
      expect(gpu.sources.some((s) => /NVIDIA .*datasheet/.test(s)), key).toBe(true);
      // fp8 tensor cores exist from Ada (8.9) on, and only there
      expect(gpu.tensor_flops_per_s.fp8 !== undefined, key).toBe(gpu.compute_capability >= 8.9);
      expect(gpu.tensor_flops_per_s.fp16, key).toBe(gpu.tensor_flops_per_s.bf16);
      // the runtime total is within 10 % of the marketing capacity
      expect(Math.abs(gpu.runtime_memory_bytes / gpu.memory_bytes - 1), key).toBeLessThan(0.1);
      expect(gpu.vllm_default_class, key).toBe(/^h[12]00/.test(key) ? 'large' : 'small');
      expect(gpu.usd_per_gpu_hour, key).toBeGreaterThan(0);
    }
  });

  it('matches the datasheet table for Hopper and Ampere', () => {
    const h100 = GPU_CATALOG['h100-sxm'];
    expect([h100.hbm_bandwidth_bytes_per_s, h100.tensor_flops_per_s.bf16, h100.tensor_flops_per_s.fp8])
      .toEqual([3.35e12, 989.5e12, 1979e12]);
    expect([h100.nvlink_bandwidth_bytes_per_s, h100.pcie_bandwidth_bytes_per_s, h100.compute_capability]).toEqual([900e9, 128e9, 9]);
    const a100 = GPU_CATALOG['a100-sxm-80gb'];
    expect([a100.hbm_bandwidth_bytes_per_s, a100.tensor_flops_per_s.bf16, a100.tensor_flops_per_s.int8, a100.fp32_flops_per_s])
      .toEqual([2.039e12, 312e12, 624e12, 19.5e12]);
    for (const key of ['l40s', 'l4', 'a10g']) expect(GPU_CATALOG[key].nvlink_bandwidth_bytes_per_s, key).toBe(0);
  });
});

describe('getGpu', () => {
  it('returns a copy, case-insensitively', () => {
    const gpu = getGpu('H100-SXM');
    expect(gpu).toEqual(GPU_CATALOG['h100-sxm']);
    gpu.usd_per_gpu_hour = 99;
    expect(GPU_CATALOG['h100-sxm'].usd_per_gpu_hour).toBe(3);
  });

  it('rejects unknown names, suggesting h100-sxm for "h100" and listing all', () => {
    expect(() => getGpu('h100')).toThrow(InfersimError);
    expect(() => getGpu('h100')).toThrow(
      `hardware.gpu: unknown value "h100" (did you mean "h100-sxm"?); known: ${NAMES.join(', ')}`,
    );
    expect(() => getGpu('a100-80gb')).toThrow('(did you mean "a100-sxm-80gb"?)');
    expect(() => getGpu('tpu-v5')).toThrow(/unknown value "tpu-v5"; known: /);
  });
});
