import type { GpuSpec } from './gpu.js';
import { unknownCatalogName } from '../model/unknownName.js';

/*
 * Throughputs: NVIDIA datasheets, dense (the datasheets' starred figures are 2:4 sparse; halved
 * here). fp16 tensor rate equals bf16 on all of these parts. tf32 is half of bf16.
 * hbm_bandwidth_bytes_per_s holds DRAM bandwidth: GDDR6 on L40S, L4 and A10G.
 * runtime_memory_bytes: nvidia-smi's "MiB total" × 2^20, which is what cudaMemGetInfo and
 * torch.cuda.mem_get_info()[1] report. Cross-checked against public nvidia-smi outputs:
 * thundergolfer.com/blog/nvidia-gpu-memory-capacity (H200 143771, H100 81559, A100 80GB 81920,
 * A100 40GB 40960, A10 23028, L40S 46068, L4 23034 MiB), modal-labs/modal-client#2797,
 * NVIDIA/nccl#1264 (H100 80GB HBM3), NVIDIA/DCGM#232 (A10G), akash-network/provider-configs#99 (L40S).
 * usd_per_gpu_hour: rough on-demand list prices (2024-25) as defaults only; scenarios override
 * them with cost.usd_per_gpu_hour.
 */
const MIB = 2 ** 20;
const T = 1e12;
const GB_PER_S = 1e9;
const NVIDIA_SMI = 'memory total: nvidia-smi MiB total (see sim/hardware/catalog.ts header)';

// Catalog order matters: an abbreviation ("h100") is suggested as the first name it prefixes.
export const GPU_CATALOG: Record<string, GpuSpec> = {
  'h100-sxm': {
    name: 'h100-sxm', memory_bytes: 80e9, runtime_memory_bytes: 81559 * MIB,
    hbm_bandwidth_bytes_per_s: 3350 * GB_PER_S,
    tensor_flops_per_s: { tf32: 494.5 * T, fp16: 989.5 * T, bf16: 989.5 * T, fp8: 1979 * T, int8: 1979 * T },
    fp32_flops_per_s: 67 * T, compute_capability: 9.0,
    nvlink_bandwidth_bytes_per_s: 900 * GB_PER_S, pcie_bandwidth_bytes_per_s: 128 * GB_PER_S,
    usd_per_gpu_hour: 3.0, vllm_default_class: 'large',
    sources: ['NVIDIA H100 Tensor Core GPU datasheet (H100 SXM column)', NVIDIA_SMI],
  },
  'h100-pcie': {
    name: 'h100-pcie', memory_bytes: 80e9, runtime_memory_bytes: 81559 * MIB,
    hbm_bandwidth_bytes_per_s: 2000 * GB_PER_S,
    tensor_flops_per_s: { tf32: 378 * T, fp16: 756.5 * T, bf16: 756.5 * T, fp8: 1513 * T, int8: 1513 * T },
    fp32_flops_per_s: 51 * T, compute_capability: 9.0,
    // NVLink bridge: connects pairs of cards only, not an all-to-all switch.
    nvlink_bandwidth_bytes_per_s: 600 * GB_PER_S, pcie_bandwidth_bytes_per_s: 128 * GB_PER_S,
    usd_per_gpu_hour: 2.5, vllm_default_class: 'large',
    sources: ['NVIDIA H100 Tensor Core GPU datasheet (H100 PCIe column)', NVIDIA_SMI],
  },
  'h200-sxm': {
    name: 'h200-sxm', memory_bytes: 141e9, runtime_memory_bytes: 143771 * MIB,
    hbm_bandwidth_bytes_per_s: 4800 * GB_PER_S,
    tensor_flops_per_s: { tf32: 494.5 * T, fp16: 989.5 * T, bf16: 989.5 * T, fp8: 1979 * T, int8: 1979 * T },
    fp32_flops_per_s: 67 * T, compute_capability: 9.0,
    nvlink_bandwidth_bytes_per_s: 900 * GB_PER_S, pcie_bandwidth_bytes_per_s: 128 * GB_PER_S,
    usd_per_gpu_hour: 3.8, vllm_default_class: 'large',
    sources: ['NVIDIA H200 Tensor Core GPU datasheet (H200 SXM column)', NVIDIA_SMI],
  },
  'a100-sxm-80gb': {
    name: 'a100-sxm-80gb', memory_bytes: 80e9, runtime_memory_bytes: 81920 * MIB,
    hbm_bandwidth_bytes_per_s: 2039 * GB_PER_S,
    tensor_flops_per_s: { tf32: 156 * T, fp16: 312 * T, bf16: 312 * T, int8: 624 * T },
    fp32_flops_per_s: 19.5 * T, compute_capability: 8.0,
    nvlink_bandwidth_bytes_per_s: 600 * GB_PER_S, pcie_bandwidth_bytes_per_s: 64 * GB_PER_S,
    usd_per_gpu_hour: 1.8, vllm_default_class: 'small',
    sources: ['NVIDIA A100 Tensor Core GPU datasheet (A100 80GB SXM column)', NVIDIA_SMI],
  },
  'a100-sxm-40gb': {
    name: 'a100-sxm-40gb', memory_bytes: 40e9, runtime_memory_bytes: 40960 * MIB,
    hbm_bandwidth_bytes_per_s: 1555 * GB_PER_S,
    tensor_flops_per_s: { tf32: 156 * T, fp16: 312 * T, bf16: 312 * T, int8: 624 * T },
    fp32_flops_per_s: 19.5 * T, compute_capability: 8.0,
    nvlink_bandwidth_bytes_per_s: 600 * GB_PER_S, pcie_bandwidth_bytes_per_s: 64 * GB_PER_S,
    usd_per_gpu_hour: 1.3, vllm_default_class: 'small',
    sources: ['NVIDIA A100 Tensor Core GPU datasheet (A100 40GB SXM column)', NVIDIA_SMI],
  },
  l40s: {
    name: 'l40s', memory_bytes: 48e9, runtime_memory_bytes: 46068 * MIB,
    hbm_bandwidth_bytes_per_s: 864 * GB_PER_S,
    tensor_flops_per_s: { tf32: 183 * T, fp16: 362 * T, bf16: 362 * T, fp8: 733 * T, int8: 733 * T },
    fp32_flops_per_s: 91.6 * T, compute_capability: 8.9,
    nvlink_bandwidth_bytes_per_s: 0, pcie_bandwidth_bytes_per_s: 64 * GB_PER_S,
    usd_per_gpu_hour: 1.0, vllm_default_class: 'small',
    sources: ['NVIDIA L40S GPU datasheet', NVIDIA_SMI],
  },
  l4: {
    name: 'l4', memory_bytes: 24e9, runtime_memory_bytes: 23034 * MIB,
    hbm_bandwidth_bytes_per_s: 300 * GB_PER_S,
    tensor_flops_per_s: { tf32: 60 * T, fp16: 121 * T, bf16: 121 * T, fp8: 242.5 * T, int8: 242.5 * T },
    fp32_flops_per_s: 30.3 * T, compute_capability: 8.9,
    nvlink_bandwidth_bytes_per_s: 0, pcie_bandwidth_bytes_per_s: 64 * GB_PER_S,
    usd_per_gpu_hour: 0.7, vllm_default_class: 'small',
    sources: ['NVIDIA L4 Tensor Core GPU datasheet', NVIDIA_SMI],
  },
  // AWS's A10G variant (g5 instances) has no public datasheet; figures are the A10's.
  a10g: {
    name: 'a10g', memory_bytes: 24e9, runtime_memory_bytes: 23028 * MIB,
    hbm_bandwidth_bytes_per_s: 600 * GB_PER_S,
    tensor_flops_per_s: { tf32: 62.5 * T, fp16: 125 * T, bf16: 125 * T, int8: 250 * T },
    fp32_flops_per_s: 31.2 * T, compute_capability: 8.6,
    nvlink_bandwidth_bytes_per_s: 0, pcie_bandwidth_bytes_per_s: 64 * GB_PER_S,
    usd_per_gpu_hour: 1.0, vllm_default_class: 'small',
    sources: ['NVIDIA A10 Tensor Core GPU datasheet (A10G is the AWS variant)', NVIDIA_SMI],
  },
};

/** Catalog name, case-insensitive. Returns a copy, so callers may override fields. */
export function getGpu(name: string): GpuSpec {
  const entry = GPU_CATALOG[name.toLowerCase()];
  if (entry === undefined) throw unknownCatalogName('hardware.gpu', name, Object.keys(GPU_CATALOG));
  return structuredClone(entry);
}
