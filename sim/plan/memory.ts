import type { ModelArchitecture } from '../model/architecture.js';
import { parameterCount, weightBytesPerGpu } from '../model/derived.js';
import type { LoraTarget, Method, Optimizer, Precision } from './trainingSchema.js';

const GiB = 2 ** 30;

/*
 * Model states per parameter, after the ZeRO paper (Rajbhandari et al. 2020, §3.1): mixed-precision
 * Adam keeps fp16/bf16 weights (2 bytes) and gradients (2) and K = 12 bytes of fp32 optimizer
 * state — a master copy of the weights, momentum and variance — 16 bytes per parameter in all.
 * - adamw_8bit: 8-bit Adam (Dettmers et al. 2021, "8-bit Optimizers via Block-wise Quantization")
 *   keeps momentum and variance in 1 byte each: 2 bytes of state, plus the 4-byte master copy.
 * - sgd with momentum: one fp32 momentum buffer, plus the master copy.
 * - fp32 training: weights and gradients are 4 bytes and there is no separate master copy.
 */
const STATE_BYTES: Record<Optimizer, number> = { adamw: 8, adamw_8bit: 2, sgd: 4 };
const MASTER_BYTES = 4;

export function weightBytes(precision: Precision): number {
  return precision === 'fp32' ? 4 : 2;
}

/** Optimizer bytes per trainable parameter. */
export function optimizerBytes(precision: Precision, optimizer: Optimizer): number {
  return STATE_BYTES[optimizer] + (precision === 'fp32' ? 0 : MASTER_BYTES);
}

/**
 * QLoRA's base weights (Dettmers et al. 2023, §3): 4-bit NormalFloat in blocks of 64, each block's
 * absmax double-quantized to 8 bits with one fp32 constant per 256 blocks: 4 + 8/64 + 32/(64·256)
 * = 4.127 bits per weight. bitsandbytes quantizes the linear layers only; embeddings, the LM head
 * and norms stay 16-bit (weightBytesPerGpu keeps them at ≥ 2 bytes).
 */
export const NF4_BYTES_PER_PARAM = (4 + 8 / 64 + 32 / (64 * 256)) / 8;

/**
 * Trainable parameters of the adapters: a rank-r pair B·A (d_out×r and r×d_in) beside each targeted
 * matrix W (d_out×d_in), r·(d_in + d_out) parameters (Hu et al. 2021, §4.1); an MoE layer has one
 * per expert for the MLP projections.
 */
export function adapterParams(arch: ModelArchitecture, rank: number, targets: readonly LoraTarget[]): number {
  const h = arch.hidden_size;
  const q = arch.num_attention_heads * arch.head_dim;
  const kv = arch.num_key_value_heads * arch.head_dim;
  const inter = arch.intermediate_size;
  const experts = arch.num_local_experts ?? 1;
  const sides: Record<LoraTarget, number> = {
    q_proj: h + q, k_proj: h + kv, v_proj: h + kv, o_proj: q + h,
    gate_proj: arch.gated_mlp ? experts * (h + inter) : 0, up_proj: experts * (h + inter), down_proj: experts * (inter + h),
  };
  return arch.num_hidden_layers * rank * targets.reduce((sum, t) => sum + sides[t], 0);
}

export interface MemorySetup {
  arch: ModelArchitecture;
  method: Method;
  precision: Precision;
  optimizer: Optimizer;
  /** 0–3; FSDP full shard counts as 3. */
  zeroStage: number;
  /** GPUs the states are partitioned across (data parallel). */
  gpus: number;
  microBatch: number;
  seqLen: number;
  checkpointing: boolean;
  flashAttention: boolean;
  adapterParams: number;
}

export interface MemoryParts {
  weights: number;
  gradients: number;
  optimizer_states: number;
  activations: number;
  buffers: number;
  total: number;
}

/** Bytes of the frozen or trained base model as stored on the GPUs, before any partitioning. */
function baseWeightBytes(s: MemorySetup): number {
  if (s.method === 'qlora') return weightBytesPerGpu(s.arch, NF4_BYTES_PER_PARAM, 1, 1);
  return parameterCount(s.arch) * weightBytes(s.precision);
}

/** Per GPU, by part. ZeRO-1 partitions the optimizer states, ZeRO-2 also the gradients, ZeRO-3 also the weights (Rajbhandari et al. 2020, §5). */
export function memoryPerGpu(s: MemorySetup): MemoryParts {
  const trainable = s.method === 'full' ? parameterCount(s.arch) : s.adapterParams;
  const frozen = s.method === 'full' ? 0 : baseWeightBytes(s);
  const share = (stage: number): number => (s.zeroStage >= stage ? s.gpus : 1);
  const weights = (frozen + trainable * weightBytes(s.precision)) / share(3);
  const gradients = (trainable * weightBytes(s.precision)) / share(2);
  const optimizer_states = (trainable * optimizerBytes(s.precision, s.optimizer)) / share(1);
  const activations = activationBytes(s);
  const buffers = bufferBytes(s);
  return { weights, gradients, optimizer_states, activations, buffers, total: weights + gradients + optimizer_states + activations + buffers };
}

/**
 * Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer Models", §4.1,
 * eq. 1): one layer stores s·b·h·(34 + 5·a·s/h) bytes of 16-bit activations for backward. The
 * 5·a·s/h part is the attention scores, softmax and dropout over the s×s square; FlashAttention
 * (Dao et al. 2022) stores none of it and recomputes the scores in backward, leaving 34·s·b·h —
 * the paper's own figure with selective recomputation (Table 2). With full checkpointing only
 * each layer's input (2·s·b·h) is kept, plus one layer's full set while it is recomputed (§4.3).
 * The logits for the loss add 4·s·b·v bytes (fp32 cross-entropy, §4.3). fp32 training doubles
 * the 16-bit terms. The 34 assumes GPT's shape (4h MLP, full multi-head attention); Llama-style
 * models differ by a few units in it.
 */
export function activationBytes(s: MemorySetup): number {
  const { arch, seqLen: sl, microBatch: b } = s;
  const h = arch.hidden_size;
  const scale = s.precision === 'fp32' ? 2 : 1;
  const scores = s.flashAttention ? 0 : (5 * arch.num_attention_heads * sl) / h;
  const layer = sl * b * h * (34 + scores) * scale;
  const kept = s.checkpointing ? arch.num_hidden_layers * 2 * sl * b * h * scale + layer : arch.num_hidden_layers * layer;
  return kept + 4 * sl * b * arch.vocab_size;
}

/**
 * What PyTorch's tensors do not show: the CUDA context, kernels loaded on first use and the
 * allocator's reserve, about 0.9 GiB (the vLLM start-up measurements in sim/kv/memoryRules.ts).
 * Under ZeRO-3/FSDP each layer's weights are gathered whole before use and the next one is
 * prefetched: two layers' unpartitioned weights (DeepSpeed stage3_prefetch_bucket_size, FSDP's
 * forward/backward prefetch).
 */
function bufferBytes(s: MemorySetup): number {
  const context = 0.9 * GiB;
  if (s.zeroStage < 3 || s.gpus < 2) return context;
  return context + (2 * baseWeightBytes(s)) / s.arch.num_hidden_layers;
}
