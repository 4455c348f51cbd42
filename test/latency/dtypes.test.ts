import { describe, expect, it } from 'vitest';
import { GPU_CATALOG } from '../../sim/hardware/catalog.js';
import { addDecode, addPrefillChunk, emptyBatch } from '../../sim/latency/batch.js';
import { gemmExecution } from '../../sim/latency/dtypeRates.js';
import { DEFAULT_EFFICIENCY } from '../../sim/latency/efficiency.js';
import type { WeightDtype } from '../../sim/scenario/types.js';
import { opTime, roofline } from './roofline.js';

function op(gpu: string, weights: WeightDtype, batch: ReturnType<typeof emptyBatch>, name: string): number {
  return opTime(roofline({ gpu, weights }), name, batch);
}

const prefill = emptyBatch();
addPrefillChunk(prefill, 4096, 0, true);
const decode = emptyBatch();
addDecode(decode, 500);

describe('weight dtypes', () => {
  it('fp8 is W8A8 at the fp8 tensor rate on Hopper, weight-only at the bf16 rate on A100', () => {
    expect(gemmExecution(GPU_CATALOG['h100-sxm'], 'fp8').peak_flops_per_s).toBe(GPU_CATALOG['h100-sxm'].tensor_flops_per_s.fp8);
    expect(gemmExecution(GPU_CATALOG['a100-sxm-80gb'], 'fp8').peak_flops_per_s).toBe(GPU_CATALOG['a100-sxm-80gb'].tensor_flops_per_s.bf16);
    // Compute-bound prefill: twice the rate halves the MLP time on H100 (beyond the fixed kernel
    // floors), changes nothing on A100.
    const floor = 32 * DEFAULT_EFFICIENCY.gemm_kernel_floor_s;
    expect(op('h100-sxm', 'fp8', prefill, 'mlp_up_gate') - floor).toBeCloseTo((op('h100-sxm', 'bf16', prefill, 'mlp_up_gate') - floor) / 2, 9);
    expect(op('a100-sxm-80gb', 'fp8', prefill, 'mlp_up_gate')).toBeCloseTo(op('a100-sxm-80gb', 'bf16', prefill, 'mlp_up_gate'), 9);
  });

  it('memory-bound decode GEMMs scale with weight bytes: int4 < fp8 < bf16', () => {
    const floor = 32 * DEFAULT_EFFICIENCY.gemm_kernel_floor_s;
    const bf16 = op('a100-sxm-80gb', 'bf16', decode, 'mlp_down') - floor;
    const fp8 = op('a100-sxm-80gb', 'fp8', decode, 'mlp_down') - floor;
    const int4 = op('a100-sxm-80gb', 'int4', decode, 'mlp_down') - floor;
    expect(fp8).toBeLessThan(bf16 * 0.51);
    expect(int4).toBeLessThan(fp8 * 0.51);
  });

  it('int4 computes at the bf16 rate (W4A16)', () => {
    expect(gemmExecution(GPU_CATALOG['h100-sxm'], 'int4').peak_flops_per_s).toBe(GPU_CATALOG['h100-sxm'].tensor_flops_per_s.bf16);
  });
});
