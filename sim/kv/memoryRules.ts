import type { GpuSpec } from '../hardware/gpu.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { atLeast } from '../scenario/vllmVersion.js';
import type { WeightDtype } from '../scenario/types.js';

/**
 * What vLLM's start-up profiling charges per GPU besides weights and KV cache, by release.
 * Every term is a rule with its evidence: vLLM source, PRs and release logs, or rows of
 * ../shared/data/measured/vllm_startup_capacity.csv ("CSV: <source>, <version>") it was checked on.
 */
export interface MemoryRuleInput {
  arch: ModelArchitecture;
  gpu: GpuSpec;
  tensor_parallel: number;
  weights: WeightDtype;
  max_num_batched_tokens: number;
  max_num_seqs: number;
  cuda_graphs: boolean;
  vllm_version: string;
  /** The engine that profiles: a V0 or V1 policy's own, else the one its release ran by default. */
  vllm_engine?: 'v0' | 'v1';
}

const GiB = 2 ** 30;

/**
 * The V1 engine is the default from 0.8 (vLLM 0.8.0 release notes); its worker profiles in
 * vllm/v1/worker/gpu_model_runner.py `profile_run`, V0's in vllm/worker/model_runner.py.
 */
export function isV1(version: string, engine?: 'v0' | 'v1'): boolean {
  return engine === undefined ? atLeast(version, 8) : engine === 'v1';
}

/**
 * Memory outside PyTorch's allocator that the profile counts on a TP-1 GPU: cuBLAS/cuDNN
 * workspaces and the like. Since PR #2031 (0.2.5) the profile takes the device's free memory
 * (torch.cuda.mem_get_info), so such memory is charged before the KV cache. Printed figures:
 * V0 0.10–0.16 GiB (CSV: vllm#12330 A100-40GB ~0.6.6; vllm#12126 H100 0.7-dev), V1 0.13 GiB in
 * 0.15/0.17 and 0.25 GiB in 0.18/0.19 (CSV: llm-d-planner version sweep and v0.19.0 logs).
 */
const NON_TORCH_TP1_V0 = 0.15 * GiB;
const NON_TORCH_TP1_V1 = 0.25 * GiB;

/**
 * NCCL communicators of a TP group. On NVSwitch Hopper boards NCCL also sets up NVLink SHARP
 * (NVLS) buffers, which take most of it: H100 SXM non-torch rises by 1.79 GiB at TP 2 under V0
 * (CSV: vllm#10511, 1.79 → 3.58 GiB) and by 1.82–1.88 GiB at TP 2/4 under V1 0.19 (CSV: llm-d
 * v0.19.0 tp2/tp4 logs, 0.25 → 2.07/2.13 GiB). Without NVLS the rise is a few hundred MiB:
 * 0.43 GiB in all at TP 4 on A100-40GB (CSV: vllm#16570, 0.8.3), 0.25 GiB at TP 2 on RTX 4090
 * (CSV: vllm#13061, 0.7.x). Custom all-reduce adds only its small IPC buffers (8 MiB by default,
 * vllm/distributed/device_communicators/custom_all_reduce.py), so it is not a separate term.
 * Pipeline stages only exchange point-to-point: TP 1 × PP 2 prints 0.07 GiB (CSV: llm-d tp1pp2).
 */
const NCCL_NVLS_BYTES = 1.8 * GiB;
const NCCL_BYTES = 0.25 * GiB;

/** NVLS needs an NVSwitch (3rd generation, Hopper on): an all-to-all NVLink group of a whole board. */
function hasNvls(gpu: GpuSpec, tp: number): boolean {
  return gpu.compute_capability >= 9 && gpu.nvlink_group_size >= 8 && tp <= gpu.nvlink_group_size;
}

/**
 * Until 0.5 the profile read the device's free memory after the run (0.2.5–0.3: total − free, PR
 * #2031; 0.4–0.5: free at worker start − free, vllm/worker/worker.py), so memory PyTorch's peak
 * does not show (the CUDA context and lazily loaded kernel modules, allocator reserve) was charged
 * too: about 0.9 GiB, constant over 4096–32768 profiled tokens (CSV: vllm#2031 0.2.5, 0.94 GiB;
 * bonito#7 ~0.3, 0.90 GiB; vllm#4454 0.4.1+ on RTX A6000, ~0.9 GiB). 0.6 logs print the split
 * and no such excess (CSV: vllm#10517 0.6.4, non-torch 0.35 GiB; vllm#12330 ~0.6.6, 0.10 GiB).
 */
const FREE_MEMORY_EXCESS = 0.9 * GiB;

export function nonTorchBytes(input: MemoryRuleInput): number {
  const base = isV1(input.vllm_version, input.vllm_engine) ? NON_TORCH_TP1_V1 : NON_TORCH_TP1_V0 + (atLeast(input.vllm_version, 6) ? 0 : FREE_MEMORY_EXCESS);
  if (input.tensor_parallel < 2) return base;
  return base + (hasNvls(input.gpu, input.tensor_parallel) ? NCCL_NVLS_BYTES : NCCL_BYTES);
}

/**
 * Peak of one forward pass over `tokens` tokens: the MLP input, the gate/up output, the activation
 * output and two residual-stream buffers alive together. It reproduces the V0 peaks vLLM 0.6.4
 * printed for Llama-3.1-8B without chunked prefill (CSV: vllm#10517, 2.06 vs 2.07 GiB at 20000
 * tokens, 2.99 vs 2.99 GiB at 29000).
 */
export function forwardPeakBytes(arch: ModelArchitecture, tp: number, weights: WeightDtype, tokens: number): number {
  const activationBytes = weights === 'fp32' ? 4 : 2;
  // A MoE layer holds the gate/up and activation outputs of every token's top-k experts.
  const topK = (arch.num_local_experts ?? 1) > 1 ? (arch.num_experts_per_tok ?? 1) : 1;
  // Routed experts have their own width in DeepSeek/Qwen3-MoE/Llama 4 (moe_intermediate_size); shared experts and dense layers are not added.
  const width = (arch.num_local_experts ?? 1) > 1 ? (arch.moe_intermediate_size ?? arch.intermediate_size) : arch.intermediate_size;
  const mlpColumns = (topK * (arch.gated_mlp ? 3 : 2) * width) / tp;
  return tokens * (3 * arch.hidden_size + mlpColumns) * activationBytes;
}

/**
 * Bytes per logit of the profiled sampler: fp32 logits, then the sort that top-k/top-p needs
 * (fp32 values and int64 indices). Both engines profile with top-k and top-p on so the sort is
 * counted: V0's profile_run samples with top_p 0.99 and top_k vocab − 1 (vllm/worker/model_runner.py),
 * V1's `_dummy_sampler_run` with top_p 0.9 and top_k vocab − 1. Checked against V1 peaks, where
 * the sampler dominates: 1.96 vs 1.89 GiB printed for Llama-3.1-8B at 1024 sequences (CSV: llm-d
 * v0.19.0 logs) and 2.32 vs 2.23 GiB for Qwen3-14B (CSV: llm-d version sweep 0.17/0.18).
 */
const SAMPLER_BYTES_PER_LOGIT = 4 + 4 + 8;

/** Logits are gathered to the full vocabulary before sampling, whatever the TP degree. */
function samplerPeakBytes(arch: ModelArchitecture, rows: number): number {
  return rows * arch.vocab_size * SAMPLER_BYTES_PER_LOGIT;
}

/**
 * PyTorch's peak during the profiling run, by release:
 * - V0 (≤ 0.7): one forward pass of max_num_batched_tokens split over max_num_seqs dummy
 *   sequences, then the sampler over one row per sequence (model_runner.py `profile_run`); the
 *   sampler's tensors come after the forward's are freed, so the peak is the larger of the two.
 * - V1 0.8–0.16: the forward pass, then logits in fp32 for every one of the max_num_batched_tokens
 *   tokens. Derived, not read in source: Qwen3-14B on H100 under 0.15 printed 5.64 GiB (CSV: llm-d
 *   version sweep), the forward peak (1.03 GiB) plus 8192 × 151,936 fp32 logits (4.64 GiB); a
 *   Qwen3-235B-FP8 start under ~0.10 (CSV: vllm#21348) leaves a similar ~7 GiB for activations.
 * - V1 ≥ 0.17: the forward pass, then `_dummy_sampler_run` over max_num_seqs rows only (the
 *   dummy batch's last tokens); the peak is the larger. 0.17 printed 2.23 GiB for the same
 *   Qwen3-14B run (CSV: llm-d version sweep: "dropped 5.64 → 2.23 GiB between 0.16 and 0.17").
 */
export function activationPeakBytes(input: MemoryRuleInput): number {
  const { arch, max_num_batched_tokens: tokens } = input;
  const forward = forwardPeakBytes(arch, input.tensor_parallel, input.weights, tokens);
  const rows = Math.min(input.max_num_seqs, tokens);
  if (isV1(input.vllm_version, input.vllm_engine) && !atLeast(input.vllm_version, 17)) return forward + tokens * arch.vocab_size * 4;
  return Math.max(forward, samplerPeakBytes(arch, rows));
}

/**
 * CUDA graphs are captured after the KV cache is allocated in every release this project follows
 * (0.2–0.19), so their memory comes out of the gpu_memory_utilization headroom, not the KV pool:
 * V0 captures in Worker._warm_up_model, called from initialize_cache after the cache engine is
 * built (vllm/worker/worker.py); V1 in compile_or_warm_up_model after initialize_from_config
 * (vllm/v1/worker/gpu_worker.py). The v0.19.0 logs print "CUDAGraph memory 0.51–0.96 GiB" next
 * to a KV pool that does not deduct it (CSV: llm-d v0.19.0 rows). Estimating graph memory before
 * KV sizing came with PR #30515 (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS, opt-in), on by default
 * only from v0.21.0 (its start-up log says "default since v0.21.0"), past the newest release here.
 */
export function cudaGraphBytes(_input: MemoryRuleInput): number {
  return 0;
}
