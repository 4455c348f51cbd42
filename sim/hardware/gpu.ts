/** Datasheet facts about one GPU model. Every figure is dense (no sparsity). */
export interface GpuSpec {
  name: string;
  /** Marketing capacity, e.g. 80e9 for "80 GB". */
  memory_bytes: number;
  /** Total memory as the CUDA runtime reports it (torch.cuda.mem_get_info()[1]), below nvidia-smi's total; what vLLM budgets from. */
  runtime_memory_bytes: number;
  hbm_bandwidth_bytes_per_s: number;
  /** Dense tensor-core throughput per dtype, FLOP/s (int8: OP/s). Missing key = no tensor-core support. */
  tensor_flops_per_s: { fp32?: number; tf32?: number; fp16: number; bf16: number; fp8?: number; int8?: number };
  /** Non-tensor FP32 throughput (used for fp32 weights, which PyTorch does not run on TF32 by default). */
  fp32_flops_per_s: number;
  /** Compute capability, e.g. 9.0 for Hopper. fp8 tensor cores need >= 8.9. */
  compute_capability: number;
  /** NVLink total (both directions) bandwidth per GPU; 0 when the GPU has none. */
  nvlink_bandwidth_bytes_per_s: number;
  /** Largest tensor-parallel group NVLink connects all-to-all (8 on NVSwitch boards, 2 for a bridge, 0 without NVLink). */
  nvlink_group_size: number;
  /** GPUs one server (node) holds: the largest tensor-parallel group without an inter-node link. */
  gpus_per_node: number;
  /** PCIe total (both directions) bandwidth. */
  pcie_bandwidth_bytes_per_s: number;
  /** Typical on-demand cloud price, USD per GPU-hour (a default; scenarios override it). */
  usd_per_gpu_hour: number;
  /** vLLM's default max_num_batched_tokens / max_num_seqs class for this GPU ("large" = H100/H200/MI300-class). */
  vllm_default_class: 'large' | 'small';
  /** Where the figures come from. */
  sources: string[];
}
