import type { GpuSpec } from '../hardware/gpu.js';
import type { WeightDtype } from '../scenario/types.js';

/** How a weight dtype executes on a GPU: the GEMM peak it runs at and whether activations are quantized too. */
export interface GemmExecution {
  peak_flops_per_s: number;
  /** Bytes per activation element read or written by GEMMs and elementwise kernels. */
  activation_bytes: number;
  mode: string;
  /** The profile GEMM table this execution is measured in; absent for modes a probe does not time (weight-only, fp32). */
  table_dtype?: 'bf16' | 'fp16' | 'fp8' | 'int8';
}

/**
 * fp8 and int8 are W8A8 at their tensor rate where the GPU has one (fp8 tensor cores need compute
 * capability ≥ 8.9; on A100 fp8 checkpoints run weight-only through Marlin at the bf16 rate).
 * int4 is W4A16 (GPTQ/AWQ-style) at the bf16 rate. fp32 runs on the non-tensor FP32 units, since
 * PyTorch does not use TF32 for matmuls by default.
 */
export function gemmExecution(gpu: GpuSpec, weights: WeightDtype): GemmExecution {
  const bf16 = gpu.tensor_flops_per_s.bf16;
  switch (weights) {
    case 'fp32':
      return { peak_flops_per_s: gpu.fp32_flops_per_s, activation_bytes: 4, mode: 'fp32 (CUDA cores)' };
    case 'fp16':
      return { peak_flops_per_s: gpu.tensor_flops_per_s.fp16, activation_bytes: 2, mode: 'fp16', table_dtype: 'fp16' };
    case 'bf16':
      return { peak_flops_per_s: bf16, activation_bytes: 2, mode: 'bf16', table_dtype: 'bf16' };
    case 'fp8':
      if (gpu.compute_capability >= 8.9 && gpu.tensor_flops_per_s.fp8) {
        return { peak_flops_per_s: gpu.tensor_flops_per_s.fp8, activation_bytes: 2, mode: 'fp8 W8A8', table_dtype: 'fp8' };
      }
      return { peak_flops_per_s: bf16, activation_bytes: 2, mode: 'fp8 weight-only at the bf16 rate' };
    case 'int8':
      if (gpu.tensor_flops_per_s.int8) {
        return { peak_flops_per_s: gpu.tensor_flops_per_s.int8, activation_bytes: 2, mode: 'int8 W8A8', table_dtype: 'int8' };
      }
      return { peak_flops_per_s: bf16, activation_bytes: 2, mode: 'int8 weight-only at the bf16 rate' };
    case 'int4':
      return { peak_flops_per_s: bf16, activation_bytes: 2, mode: 'int4 W4A16 at the bf16 rate' };
  }
}
