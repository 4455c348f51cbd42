import type { ModelArchitecture } from './architecture.js';

/*
 * Per-layer parameters and KV bytes of the architectures past the Llama shape (issue 20): MLA,
 * MoE layers with shared experts next to dense ones, windowed layers, and the small extras (q/k
 * norms, sinks, expert biases). Layers can differ, so everything here is per layer index.
 * derived.ts keeps its original arithmetic for the Llama-shaped models, whose figures the rest of
 * the project was checked against, and calls here only for an architecture that needs it.
 */

/** True when `arch` uses a field past the Llama shape, so its layers are counted here. */
export function isExtended(arch: ModelArchitecture): boolean {
  return (
    arch.sliding_window !== undefined || arch.mla !== undefined || arch.moe_intermediate_size !== undefined ||
    arch.shared_expert_intermediate_size !== undefined || arch.mlp_layer_types !== undefined || arch.qk_norm === true ||
    arch.norms_per_layer !== undefined || arch.o_bias === true || arch.expert_bias === true || arch.router_bias === true ||
    arch.attention_sinks === true
  );
}

/** Parameters of one layer on one GPU: `matrices` are what quantization shrinks, `small` stays 16-bit. */
export interface LayerParams {
  matrices: number;
  small: number;
}

/** Whether layer `i` runs an MoE block: mlp_layer_types when given, else every layer of an MoE model. */
export function isSparseLayer(arch: ModelArchitecture, i: number): boolean {
  if ((arch.num_local_experts ?? 1) <= 1) return false;
  return arch.mlp_layer_types === undefined ? true : arch.mlp_layer_types[i] === 'sparse';
}

/** Whether layer `i` attends over a window (sliding or chunked) rather than the whole context. */
export function isWindowedLayer(arch: ModelArchitecture, i: number): boolean {
  return arch.sliding_window !== undefined && arch.layer_types !== undefined && arch.layer_types[i] !== 'full_attention';
}

/** KV heads one GPU stores: vLLM replicates KV heads when tp exceeds their count. */
export function kvHeadsOnGpu(arch: ModelArchitecture, tp: number): number {
  return Math.max(1, Math.floor(arch.num_key_value_heads / tp));
}

/**
 * Attention parameters of one layer on one of `tp` GPUs. MLA, as vLLM's DeepseekV2MLAAttention
 * shards it: q_a_proj and kv_a_proj_with_mqa (hidden → q_lora_rank, hidden → kv_lora_rank +
 * qk_rope_head_dim) are ReplicatedLinear, q_b/q_proj, kv_b_proj and o_proj are split by heads;
 * the two latent RMSNorms are replicated.
 */
function attentionParams(arch: ModelArchitecture, tp: number): LayerParams {
  const h = arch.hidden_size;
  const heads = arch.num_attention_heads / tp;
  const mla = arch.mla;
  if (mla !== undefined) {
    const qHead = mla.qk_nope_head_dim + mla.qk_rope_head_dim;
    const q = mla.q_lora_rank === undefined ? h * heads * qHead : h * mla.q_lora_rank + mla.q_lora_rank * heads * qHead;
    const kvA = h * (mla.kv_lora_rank + mla.qk_rope_head_dim);
    const kvB = mla.kv_lora_rank * heads * (mla.qk_nope_head_dim + mla.v_head_dim);
    const o = heads * mla.v_head_dim * h;
    return { matrices: q + kvA + kvB + o, small: (mla.q_lora_rank ?? 0) + mla.kv_lora_rank };
  }
  const q = heads * arch.head_dim;
  const kv = kvHeadsOnGpu(arch, tp) * arch.head_dim;
  const small =
    (arch.attention_bias ? q + 2 * kv : 0) +
    (arch.o_bias ? h : 0) +
    (arch.attention_sinks ? heads : 0) +
    (arch.qk_norm ? 2 * arch.head_dim : 0);
  return { matrices: 2 * h * q + 2 * h * kv, small };
}

/** MLP parameters of layer `i` on one of `tp` GPUs: a dense MLP, or routed experts (every expert split by tp, as vLLM's fused MoE without expert parallelism) plus shared experts and the router. */
function mlpParams(arch: ModelArchitecture, i: number, tp: number): LayerParams {
  const h = arch.hidden_size;
  const mats = arch.gated_mlp ? 3 : 2;
  if (!isSparseLayer(arch, i)) return { matrices: (mats * h * arch.intermediate_size) / tp, small: 0 };
  const experts = arch.num_local_experts ?? 1;
  const width = arch.moe_intermediate_size ?? arch.intermediate_size;
  const shared = arch.shared_expert_intermediate_size ?? 0;
  // GPT-OSS: gate/up biases (split like their columns) and a down bias of hidden (kept whole) per expert.
  const expertBias = arch.expert_bias ? experts * (((mats - 1) * width) / tp + h) : 0;
  return {
    matrices: (experts * mats * h * width) / tp + (mats * h * shared) / tp,
    small: h * experts + (arch.router_bias ? experts : 0) + expertBias,
  };
}

/** Parameters of layer `i` on one of `tp` GPUs (tp 1: the whole layer). */
export function layerParamsAt(arch: ModelArchitecture, i: number, tp: number): LayerParams {
  const attention = attentionParams(arch, tp);
  const mlp = mlpParams(arch, i, tp);
  const norms = (arch.norms_per_layer ?? 2) * arch.hidden_size;
  return { matrices: attention.matrices + mlp.matrices, small: attention.small + mlp.small + norms };
}

/**
 * KV-cache bytes one token adds to layer `i` on one of `tp` GPUs. MLA caches the compressed
 * latent and the rope key, kv_lora_rank + qk_rope_head_dim values, once for all heads (vLLM's MLA
 * backends), and every TP rank holds the whole latent: it is replicated, not split.
 */
export function kvBytesPerTokenAt(arch: ModelArchitecture, kvBytes: number, tp: number): number {
  const mla = arch.mla;
  if (mla !== undefined) return (mla.kv_lora_rank + mla.qk_rope_head_dim) * kvBytes;
  return 2 * kvHeadsOnGpu(arch, tp) * arch.head_dim * kvBytes;
}

/** The heaviest run of ceil(layers / pp) consecutive layers: the worst pipeline stage, conservatively (as derived.ts charges uniform layers). */
export function worstStage(layers: number, pp: number, weight: (i: number) => number): number {
  const span = Math.ceil(layers / pp);
  let sum = 0;
  for (let i = 0; i < span; i++) sum += weight(i);
  let worst = sum;
  for (let i = span; i < layers; i++) {
    sum += weight(i) - weight(i - span);
    worst = Math.max(worst, sum);
  }
  return worst;
}
