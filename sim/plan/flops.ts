import type { GpuSpec } from '../hardware/gpu.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { activeParameterCount } from '../model/derived.js';
import type { Method, Precision } from './trainingSchema.js';

/*
 * Training FLOPs per token, in the convention the MFU figures below are stated in (PaLM,
 * Chowdhery et al. 2022, Appendix B): 6·N + 12·L·H·Q·T, where N counts the parameters that take
 * part in a matrix multiply, L layers, H heads, Q head size, T sequence length. 6·N is a forward
 * pass (2 FLOPs per weight per token) and a backward pass twice as costly (gradients for the
 * activations and for the weights: Kaplan et al. 2020, §2.1); 12·L·H·Q·T is attention's QKᵀ and
 * A·V, forward and backward, which no weight counts (counted over the full T×T square, as PaLM does).
 */

/** Parameters that take part in a matrix multiply per token: the input embedding is a lookup, and an MoE token visits only its experts. */
export function matmulParams(arch: ModelArchitecture): number {
  // The routed experts a token skips, layer by layer (dense first layers, shared experts and MoE widths as the model states them).
  const inputEmbedding = arch.tie_word_embeddings ? 0 : arch.vocab_size * arch.hidden_size;
  return activeParameterCount(arch) - inputEmbedding;
}

export interface FlopsPerToken {
  /** The forward pass through the whole model (2·N + attention's share). */
  forward: number;
  /** What one token of training costs, recomputation included. */
  total: number;
}

/**
 * - full: forward + backward = 3 forward passes (6·N + 12·LHQT).
 * - lora / qlora (Hu et al. 2021; Dettmers et al. 2023): the frozen base still runs forward (2·N)
 *   and backward for the activations' gradients (another 2·N), but computes no weight gradients
 *   for itself (the 2·N a full backward spends on them); attention, which has no weights, costs
 *   what it costs in full training; the adapters (A parameters) are trained in full: 6·A.
 *   QLoRA's dequantization of the NF4 base is not counted: it shows as a lower achieved MFU.
 * - activation checkpointing re-runs each layer's forward pass during backward: + one forward,
 *   8·N instead of 6·N (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost";
 *   Korthikanti et al. 2022, §1, measure the 30–40 % this costs).
 */
export function flopsPerToken(arch: ModelArchitecture, seqLen: number, method: Method, adapterParams: number, checkpointing: boolean): FlopsPerToken {
  const n = matmulParams(arch);
  const attentionForward = 4 * arch.num_hidden_layers * arch.num_attention_heads * arch.head_dim * seqLen;
  const adapters = method === 'full' ? 0 : adapterParams;
  const forward = 2 * n + attentionForward + 2 * adapters;
  const backward = method === 'full' ? 4 * n + 2 * attentionForward : 2 * n + 2 * attentionForward + 4 * adapters;
  return { forward, total: forward + backward + (checkpointing ? forward : 0) };
}

/**
 * The peak the work runs at. Mixed precision runs its matrix multiplies on the 16-bit tensor
 * cores; fp32 training runs on the plain fp32 units, since PyTorch has not used TF32 for matrix
 * multiplies by default since 1.12 (torch.backends.cuda.matmul.allow_tf32 = False).
 */
export function peakFlops(gpu: GpuSpec, precision: Precision): number {
  if (precision === 'fp32') return gpu.fp32_flops_per_s;
  return precision === 'bf16' ? gpu.tensor_flops_per_s.bf16 : gpu.tensor_flops_per_s.fp16;
}

/**
 * LLaMA-65B (Touvron et al. 2023a, Table 2: dim 8192, 64 heads, 80 layers, sequence 2048;
 * intermediate size from huggingface.co/huggyllama/llama-65b config.json). Only used to turn the
 * paper's measured throughput into an MFU.
 */
const LLAMA_65B: ModelArchitecture = {
  name: 'llama-65b', hidden_size: 8192, intermediate_size: 22016, num_hidden_layers: 80,
  num_attention_heads: 64, num_key_value_heads: 64, head_dim: 128, vocab_size: 32000,
  max_position_embeddings: 2048, gated_mlp: true, tie_word_embeddings: false,
};

/**
 * A100: Touvron et al. 2023a (LLaMA, §2.4): "when training a 65B-parameter model, our code
 * processes around 380 tokens/sec/GPU on 2048 A100 GPU with 80GB of RAM". That run saved the
 * expensive activations and recomputed only cheap ones, so its hardware FLOPs are the model
 * FLOPs: MFU = (6·N + 12·LHQT at T = 2048) × 380 ÷ 312 TFLOP/s (A100 dense bf16) ≈ 0.495.
 * Cross-check: Narayanan et al. 2021 (Megatron-LM) report 52 % of peak counting the recomputed
 * forward pass, i.e. 0.52 × 3/4 = 0.39 MFU at 1 T parameters across 3072 GPUs, a harder run.
 */
export const A100_MFU = (flopsPerToken(LLAMA_65B, 2048, 'full', 0, false).total * 380) / 312e12;

/**
 * Hopper: Dubey et al. 2024 (The Llama 3 Herd of Models, Table 4): Llama 3 405B on 8,192 H100s
 * ran at 430 TFLOP/s per GPU, a BF16 MFU of 43 % (38–43 % over their three configurations).
 */
export const HOPPER_MFU = 0.43;

export interface MfuChoice {
  mfu: number;
  source: string;
}

/** The MFU the estimate assumes unless the file gives one, and where it comes from. */
export function defaultMfu(gpu: GpuSpec, precision: Precision): MfuChoice {
  const hopper = gpu.compute_capability >= 9;
  const mfu = hopper ? HOPPER_MFU : A100_MFU;
  const measured = hopper
    ? 'Llama 3 405B on H100 (Dubey et al. 2024, Table 4: 43 % BF16 MFU)'
    : 'LLaMA-65B on A100-80GB (Touvron et al. 2023a, §2.4: 380 tokens/s/GPU)';
  const sameGpu = hopper ? gpu.name.startsWith('h100') : gpu.name.startsWith('a100');
  const notes = [
    ...(sameGpu ? [] : [`measured on ${hopper ? 'H100' : 'A100'}, no published figure for ${gpu.name}`]),
    ...(precision === 'fp32' ? ['16-bit figure applied to the fp32 peak (no published fp32 figure)'] : []),
  ];
  return { mfu, source: `${measured}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}` };
}
