import type { GpuSpec } from './gpu.js';
import { unknownNameError } from '../errors.js';

/*
 * Throughputs: NVIDIA datasheets, dense (the datasheets' starred figures are 2:4 sparse; halved
 * here). fp16 tensor rate equals bf16 on all of these parts. tf32 is half of bf16.
 * hbm_bandwidth_bytes_per_s holds DRAM bandwidth: GDDR6 on L40S, L4 and A10G.
 * runtime_memory_bytes: the total the CUDA runtime reports (torch.cuda.mem_get_info()[1], the
 * "total capacity" in PyTorch OOM messages), which vLLM budgets from. It is a few hundred MiB
 * below nvidia-smi's "MiB total" (the driver's reservation). Figures from public PyTorch OOM
 * messages: H100 80GB 79.11 GiB (vllm-project/vllm#27508; vLLM logs print 79.19–79.22, used), A100 80GB 79.35 GiB
 * (MoonshotAI/Kimi-VL#54), A100 40GB 39.50 GiB (TianheWu/CoSeR#10), L40S 44.53 GiB
 * (Wan-Video/Wan2.1#205), A10 22.18 GiB (OpenBMB/MiniCPM-V#640). Estimated as the nvidia-smi
 * total less the H100's 0.54 GiB reservation where no message was found: H100 PCIe and H200
 * (81559 and 143771 MiB, thundergolfer.com/blog/nvidia-gpu-memory-capacity) and L4 (23034 MiB).
 * nvlink_group_size: the largest TP group that NVLink joins all-to-all (NVSwitch on HGX boards: 8;
 * the H100 PCIe NVLink bridge joins pairs).
 * gpus_per_node: SXM parts come on 8-GPU baseboards (NVIDIA HGX A100, HGX H100 and HGX H200 8-GPU;
 * DGX A100 and DGX H100 hold 8). PCIe cards: 8, the usual maximum of a 4U GPU server and of the
 * largest cloud instances (AWS g5.48xlarge: 8 A10G, g6.48xlarge: 8 L4, g6e.48xlarge: 8 L40S).
 * usd_per_gpu_hour: rough on-demand list prices (2024-25) as defaults only; scenarios override
 * them with cost.usd_per_gpu_hour.
 */
const MIB = 2 ** 20;
const T = 1e12;
const GB_PER_S = 1e9;
const GIB = 2 ** 30;
const RUNTIME = 'runtime memory: PyTorch-reported total (see sim/hardware/catalog.ts header)';

// Catalog order matters: an abbreviation ("h100") is suggested as the first name it prefixes.
export const GPU_CATALOG: Record<string, GpuSpec> = {
  'h100-sxm': {
    // vLLM's own start-up logs print total_gpu_memory 79.22 GiB (vllm#10511, vllm#12126) and 79.19 GiB
    // (llm-d-planner v0.19.0 logs: "total 79.19GiB, requested 75.23GiB" at 0.95): it budgets from these.
    name: 'h100-sxm', memory_bytes: 80e9, runtime_memory_bytes: Math.round(79.19 * GIB),
    hbm_bandwidth_bytes_per_s: 3350 * GB_PER_S,
    tensor_flops_per_s: { tf32: 494.5 * T, fp16: 989.5 * T, bf16: 989.5 * T, fp8: 1979 * T, int8: 1979 * T },
    fp32_flops_per_s: 67 * T, compute_capability: 9.0,
    nvlink_group_size: 8, nvlink_bandwidth_bytes_per_s: 900 * GB_PER_S, gpus_per_node: 8, pcie_bandwidth_bytes_per_s: 128 * GB_PER_S,
    usd_per_gpu_hour: 3.0, vllm_default_class: 'large',
    sources: ['NVIDIA H100 Tensor Core GPU datasheet (H100 SXM column)', RUNTIME],
  },
  'h100-pcie': {
    name: 'h100-pcie', memory_bytes: 80e9, runtime_memory_bytes: Math.round(81559 * MIB - 0.54 * GIB),
    hbm_bandwidth_bytes_per_s: 2000 * GB_PER_S,
    tensor_flops_per_s: { tf32: 378 * T, fp16: 756.5 * T, bf16: 756.5 * T, fp8: 1513 * T, int8: 1513 * T },
    fp32_flops_per_s: 51 * T, compute_capability: 9.0,
    // NVLink bridge: connects pairs of cards only, not an all-to-all switch.
    nvlink_group_size: 2, nvlink_bandwidth_bytes_per_s: 600 * GB_PER_S, gpus_per_node: 8, pcie_bandwidth_bytes_per_s: 128 * GB_PER_S,
    usd_per_gpu_hour: 2.5, vllm_default_class: 'large',
    sources: ['NVIDIA H100 Tensor Core GPU datasheet (H100 PCIe column)', RUNTIME],
  },
  'h200-sxm': {
    name: 'h200-sxm', memory_bytes: 141e9, runtime_memory_bytes: Math.round(143771 * MIB - 0.54 * GIB),
    hbm_bandwidth_bytes_per_s: 4800 * GB_PER_S,
    tensor_flops_per_s: { tf32: 494.5 * T, fp16: 989.5 * T, bf16: 989.5 * T, fp8: 1979 * T, int8: 1979 * T },
    fp32_flops_per_s: 67 * T, compute_capability: 9.0,
    nvlink_group_size: 8, nvlink_bandwidth_bytes_per_s: 900 * GB_PER_S, gpus_per_node: 8, pcie_bandwidth_bytes_per_s: 128 * GB_PER_S,
    usd_per_gpu_hour: 3.8, vllm_default_class: 'large',
    sources: ['NVIDIA H200 Tensor Core GPU datasheet (H200 SXM column)', RUNTIME],
  },
  'a100-sxm-80gb': {
    name: 'a100-sxm-80gb', memory_bytes: 80e9, runtime_memory_bytes: Math.round(79.35 * GIB),
    hbm_bandwidth_bytes_per_s: 2039 * GB_PER_S,
    tensor_flops_per_s: { tf32: 156 * T, fp16: 312 * T, bf16: 312 * T, int8: 624 * T },
    fp32_flops_per_s: 19.5 * T, compute_capability: 8.0,
    nvlink_group_size: 8, nvlink_bandwidth_bytes_per_s: 600 * GB_PER_S, gpus_per_node: 8, pcie_bandwidth_bytes_per_s: 64 * GB_PER_S,
    usd_per_gpu_hour: 1.8, vllm_default_class: 'small',
    sources: ['NVIDIA A100 Tensor Core GPU datasheet (A100 80GB SXM column)', RUNTIME],
  },
  'a100-sxm-40gb': {
    name: 'a100-sxm-40gb', memory_bytes: 40e9, runtime_memory_bytes: Math.round(39.5 * GIB),
    hbm_bandwidth_bytes_per_s: 1555 * GB_PER_S,
    tensor_flops_per_s: { tf32: 156 * T, fp16: 312 * T, bf16: 312 * T, int8: 624 * T },
    fp32_flops_per_s: 19.5 * T, compute_capability: 8.0,
    nvlink_group_size: 8, nvlink_bandwidth_bytes_per_s: 600 * GB_PER_S, gpus_per_node: 8, pcie_bandwidth_bytes_per_s: 64 * GB_PER_S,
    usd_per_gpu_hour: 1.3, vllm_default_class: 'small',
    sources: ['NVIDIA A100 Tensor Core GPU datasheet (A100 40GB SXM column)', RUNTIME],
  },
  l40s: {
    name: 'l40s', memory_bytes: 48e9, runtime_memory_bytes: Math.round(44.53 * GIB),
    hbm_bandwidth_bytes_per_s: 864 * GB_PER_S,
    tensor_flops_per_s: { tf32: 183 * T, fp16: 362 * T, bf16: 362 * T, fp8: 733 * T, int8: 733 * T },
    fp32_flops_per_s: 91.6 * T, compute_capability: 8.9,
    nvlink_group_size: 0, nvlink_bandwidth_bytes_per_s: 0, gpus_per_node: 8, pcie_bandwidth_bytes_per_s: 64 * GB_PER_S,
    usd_per_gpu_hour: 1.0, vllm_default_class: 'small',
    sources: ['NVIDIA L40S GPU datasheet', RUNTIME],
  },
  l4: {
    name: 'l4', memory_bytes: 24e9, runtime_memory_bytes: Math.round(23034 * MIB - 0.54 * GIB),
    hbm_bandwidth_bytes_per_s: 300 * GB_PER_S,
    tensor_flops_per_s: { tf32: 60 * T, fp16: 121 * T, bf16: 121 * T, fp8: 242.5 * T, int8: 242.5 * T },
    fp32_flops_per_s: 30.3 * T, compute_capability: 8.9,
    nvlink_group_size: 0, nvlink_bandwidth_bytes_per_s: 0, gpus_per_node: 8, pcie_bandwidth_bytes_per_s: 64 * GB_PER_S,
    usd_per_gpu_hour: 0.7, vllm_default_class: 'small',
    sources: ['NVIDIA L4 Tensor Core GPU datasheet', RUNTIME],
  },
  // AWS's A10G variant (g5 instances) has no public datasheet; figures are the A10's.
  a10g: {
    name: 'a10g', memory_bytes: 24e9, runtime_memory_bytes: Math.round(22.18 * GIB),
    hbm_bandwidth_bytes_per_s: 600 * GB_PER_S,
    tensor_flops_per_s: { tf32: 62.5 * T, fp16: 125 * T, bf16: 125 * T, int8: 250 * T },
    fp32_flops_per_s: 31.2 * T, compute_capability: 8.6,
    nvlink_group_size: 0, nvlink_bandwidth_bytes_per_s: 0, gpus_per_node: 8, pcie_bandwidth_bytes_per_s: 64 * GB_PER_S,
    usd_per_gpu_hour: 1.0, vllm_default_class: 'small',
    sources: ['NVIDIA A10 Tensor Core GPU datasheet (A10G is the AWS variant)', RUNTIME],
  },
};

/** Catalog name, case-insensitive. Returns a copy, so callers may override fields. */
export function getGpu(name: string, field = 'hardware.gpu'): GpuSpec {
  const entry = GPU_CATALOG[name.toLowerCase()];
  if (entry === undefined) throw unknownNameError(field, name, Object.keys(GPU_CATALOG));
  return structuredClone(entry);
}
