/**
 * Multi-LoRA costs: an adapter's bytes on a GPU, the buffers vLLM preallocates for its adapter
 * slots, the time to bring an adapter from disk and from CPU memory, and the per-step compute of
 * the LoRA kernels. Pure functions of the architecture, the GPU and the parallelism.
 *
 * Which layers an adapter covers: the linear layers of every transformer block, q, k, v, o, gate,
 * up and down, the set PEFT's `target_modules="all-linear"` and most published adapters train, and
 * all of which vLLM wraps with LoRA layers (vllm/lora/layers: MergedQKVParallelLinearWithLoRA,
 * RowParallelLinearWithLoRA, MergedColumnParallelLinearWithLoRA). Every adapter is taken at
 * max_lora_rank (a smaller rank is padded to it in the slot anyway). Weights are bf16, the dtype
 * vLLM gives LoRA weights by default (lora_dtype "auto": the model's).
 *
 * Tensor parallelism, as vLLM shards LoRA weights by default (fully_sharded_loras off): a
 * column-parallel layer (qkv, gate_up) keeps A whole (rank × input) and shards B's output
 * columns; a row-parallel layer (o, down) shards A's input and keeps B whole (output × rank).
 * Each q/k/v and gate/up slice has its own A. KV heads are replicated when tp exceeds them, as
 * for the base weights. Pipeline parallelism: the most loaded stage's ceil(layers / pp) layers.
 */
import type { GpuSpec } from '../hardware/gpu.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { DEFAULT_EFFICIENCY, type LatencyEfficiency } from './efficiency.js';

/** bf16: LoRA weights and activations take the model's 16-bit dtype. */
export const LORA_BYTES_PER_ELEMENT = 2;

/**
 * Sequential read of one data-center NVMe SSD on PCIe 4.0 ×4: 6,900 MB/s (Samsung PM9A3 U.2
 * datasheet; PCIe 4.0 ×4 tops out near 7.9 GB/s). An adapter read from a local disk goes at most
 * this fast; safetensors parsing and pinning the host copy are left out.
 */
export const NVME_READ_BYTES_PER_S = 6.9e9;

/** One LoRA'd module group of a layer on one GPU: its input width and the widths of its output slices. */
interface ModuleGroup {
  input: number;
  outputs: readonly number[];
}

/** qkv, o, gate_up (or up), down of one layer, as one GPU of a tp group holds them. */
function moduleGroups(arch: ModelArchitecture, tp: number): ModuleGroup[] {
  const h = arch.hidden_size;
  const q = (arch.num_attention_heads / tp) * arch.head_dim;
  const kv = Math.max(1, Math.floor(arch.num_key_value_heads / tp)) * arch.head_dim;
  const ffn = arch.intermediate_size / tp;
  return [
    { input: h, outputs: [q, kv, kv] },
    { input: q, outputs: [h] },
    { input: h, outputs: arch.gated_mlp ? [ffn, ffn] : [ffn] },
    { input: ffn, outputs: [h] },
  ];
}

/** A group's adapter parameters: one A (rank × input) per slice, B (outputs × rank). */
function groupParams(g: ModuleGroup, rank: number): number {
  return g.outputs.length * rank * g.input + rank * g.outputs.reduce((a, b) => a + b, 0);
}

function layersOnWorstStage(arch: ModelArchitecture, pp: number): number {
  return Math.ceil(arch.num_hidden_layers / pp);
}

/** Adapter parameters of one transformer layer on one GPU of a tp group. */
export function loraLayerParamsPerGpu(arch: ModelArchitecture, rank: number, tp: number): number {
  return moduleGroups(arch, tp).reduce((sum, g) => sum + groupParams(g, rank), 0);
}

/**
 * Bytes of one rank-`rank` adapter on the most loaded GPU of a tp × pp replica: what one CPU → GPU
 * load copies to that GPU (each GPU copies its own shard over its own PCIe link, in parallel).
 */
export function adapterBytesPerGpu(arch: ModelArchitecture, rank: number, tp: number, pp: number): number {
  return layersOnWorstStage(arch, pp) * loraLayerParamsPerGpu(arch, rank, tp) * LORA_BYTES_PER_ELEMENT;
}

/** Bytes of the whole adapter (every layer, unsharded): what its checkpoint holds and a load from disk reads. */
export function adapterCheckpointBytes(arch: ModelArchitecture, rank: number): number {
  return adapterBytesPerGpu(arch, rank, 1, 1);
}

/**
 * The embedding and LM-head LoRA buffers of one slot on one GPU (extra vocabulary left out):
 * vLLM's VocabParallelEmbeddingWithLoRA keeps A over the whole vocabulary (vocab × rank) and B
 * (hidden × rank); LogitsProcessorWithLoRA keeps A (rank × hidden) and B over the GPU's vocab
 * shard. With pp > 1 both are charged to the worst stage, as sim/model/derived.ts charges the
 * embedding and LM head.
 */
function embeddingSlotParams(arch: ModelArchitecture, rank: number, tp: number): number {
  const h = arch.hidden_size;
  return arch.vocab_size * rank + h * rank + rank * h + (arch.vocab_size / tp) * rank;
}

/**
 * LoRA buffers vLLM allocates on each GPU when it loads the model with LoRA enabled: every
 * LoRA layer creates lora_a_stacked / lora_b_stacked for max_loras slots at max_lora_rank
 * (create_lora_weights in vllm/lora/layers), whatever adapters are later loaded. They are
 * allocated before the KV cache is sized, so they come out of its budget.
 */
export function loraReservedBytesPerGpu(arch: ModelArchitecture, max_loras: number, max_lora_rank: number, tp: number, pp: number): number {
  const slot = adapterBytesPerGpu(arch, max_lora_rank, tp, pp) + embeddingSlotParams(arch, max_lora_rank, tp) * LORA_BYTES_PER_ELEMENT;
  return max_loras * slot;
}

/** Seconds to copy `bytes` from pinned host memory to one GPU: one direction of its PCIe link (the catalog's figure sums both). */
export function adapterCpuLoadTime_s(bytes: number, gpu: GpuSpec): number {
  return bytes / (gpu.pcie_bandwidth_bytes_per_s / 2);
}

/** Seconds to read an adapter checkpoint of `bytes` from local NVMe into host memory. */
export function adapterDiskLoadTime_s(bytes: number, read_bytes_per_s = NVME_READ_BYTES_PER_S): number {
  return bytes / read_bytes_per_s;
}

/**
 * What a step's LoRA compute costs on the most loaded GPU, as coefficients (loraStepOverhead_s
 * turns them into seconds). The structure is Punica's SGMV (Chen et al., "Punica: Multi-Tenant
 * LoRA Serving", MLSys 2024) and S-LoRA's batched kernels (Sheng et al., 2023), as vLLM runs them
 * (vllm/lora/ops/triton_ops: lora_shrink and lora_expand, one launch each per LoRA'd module group
 * and layer, all slices and all adapters of the batch in one launch): x·A ("shrink" to the rank),
 * then ·B added into the base layer's output ("expand").
 */
export interface LoraStepCost {
  /** Kernel launches per step: shrink + expand for qkv, o, gate_up and down, per layer of the worst stage. */
  kernels: number;
  /** Fixed time of one launch (a small kernel cannot finish faster), s. */
  kernel_floor_s: number;
  /** Weights read per distinct adapter in the step (its shard on this GPU, every layer of the stage), bytes. */
  weight_bytes_per_adapter: number;
  /** Activations read and written per token that has an adapter: shrink reads the input row and writes rank values per slice, expand reads them and reads and writes the output row, bytes. */
  activation_bytes_per_token: number;
  /** Multiply-adds × 2 per token that has an adapter: each adapter weight of the stage used once, FLOPs. */
  flops_per_token: number;
  /** HBM bandwidth the kernels reach, bytes/s. */
  memory_bytes_per_s: number;
  /** Tensor-core throughput they reach (bf16), FLOP/s. */
  compute_flops_per_s: number;
}

/**
 * The coefficients for an adapter rank on a GPU. The kernel floor and efficiencies are the
 * roofline's for small GEMMs (gemm_kernel_floor_s, 6 µs, fitted to Vidur's small-GEMM
 * measurements; gemm_memory and gemm_compute): shrink and expand are skinny GEMMs of that kind.
 * At rank 16 a token's x·A does 2·16 FLOPs per 2-byte input element read, far below an H100's
 * FLOP-to-byte ridge (~300): memory-bound, as Punica and S-LoRA find.
 */
export function loraStepCost(arch: ModelArchitecture, gpu: GpuSpec, rank: number, tp: number, pp: number, eff: LatencyEfficiency = DEFAULT_EFFICIENCY): LoraStepCost {
  const layers = layersOnWorstStage(arch, pp);
  const groups = moduleGroups(arch, tp);
  const perLayerActivations = groups.reduce((sum, g) => {
    const outs = g.outputs.reduce((a, b) => a + b, 0);
    return sum + g.input + 2 * g.outputs.length * rank + 2 * outs;
  }, 0);
  const params = layers * loraLayerParamsPerGpu(arch, rank, tp);
  return {
    kernels: layers * groups.length * 2,
    kernel_floor_s: eff.gemm_kernel_floor_s,
    weight_bytes_per_adapter: params * LORA_BYTES_PER_ELEMENT,
    activation_bytes_per_token: layers * perLayerActivations * LORA_BYTES_PER_ELEMENT,
    flops_per_token: 2 * params,
    memory_bytes_per_s: gpu.hbm_bandwidth_bytes_per_s * eff.gemm_memory,
    compute_flops_per_s: gpu.tensor_flops_per_s.bf16 * eff.gemm_compute,
  };
}

/**
 * The LoRA compute a step adds, s: the launches' floors plus the longer of moving the bytes
 * (each distinct adapter's weights once, the adapter tokens' activations) and doing the FLOPs.
 * A step with no adapter token adds nothing: vLLM skips the LoRA kernels when no request of the
 * batch has an adapter (no_lora_flag_cpu in vllm/lora/ops/triton_ops/lora_kernel_metadata.py).
 */
export function loraStepOverhead_s(cost: LoraStepCost, lora_tokens: number, distinct_adapters: number): number {
  if (lora_tokens <= 0 || distinct_adapters <= 0) return 0;
  const bytes = distinct_adapters * cost.weight_bytes_per_adapter + lora_tokens * cost.activation_bytes_per_token;
  const flops = lora_tokens * cost.flops_per_token;
  return cost.kernels * cost.kernel_floor_s + Math.max(bytes / cost.memory_bytes_per_s, flops / cost.compute_flops_per_s);
}
