/**
 * A decoder-only transformer, described by the fields of its Hugging Face `config.json`
 * that matter for time and memory. Names follow config.json so a reader can check them.
 */
export interface ModelArchitecture {
  /** Catalog name or the config file's path. */
  name: string;
  /** Hugging Face repo the fields were taken from (documentation only). */
  hf_repo?: string;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  /** Usually hidden_size / num_attention_heads; some configs state it explicitly. */
  head_dim: number;
  vocab_size: number;
  max_position_embeddings: number;
  /** SwiGLU/GeGLU MLPs have a gate projection (3 matrices instead of 2). */
  gated_mlp: boolean;
  tie_word_embeddings: boolean;
  /** Mixture of experts (Mixtral-style); absent or 1 for dense models. */
  num_local_experts?: number;
  num_experts_per_tok?: number;
  /** Qwen2-style QKV bias adds no time worth modelling but counts in parameters. */
  attention_bias?: boolean;

  // The fields below describe the architectures past the Llama family (issue 20). Absent, each
  // means the Llama shape, so the original catalog entries keep every figure they had.

  /**
   * Tokens a windowed layer attends to: the last `sliding_window` tokens for "sliding_attention"
   * layers (Gemma 2/3, GPT-OSS, Phi-3), the current `sliding_window`-token chunk for
   * "chunked_attention" layers (Llama 4's attention_chunk_size). Set together with layer_types.
   */
  sliding_window?: number;
  /** One entry per layer, as config.json's `layer_types`; absent: every layer is full attention. */
  layer_types?: readonly AttentionLayerType[];
  /** Multi-head latent attention (DeepSeek-V2/V3): replaces the q/k/v/o shapes of head_dim. */
  mla?: MlaDimensions;
  /** Width of each routed expert when it differs from intermediate_size (which then sizes the dense layers). */
  moe_intermediate_size?: number;
  /** Total width of the always-on shared expert(s) of an MoE layer (DeepSeek, Llama 4); absent: none. */
  shared_expert_intermediate_size?: number;
  /** One entry per layer: "dense" or "sparse" (an MoE layer); absent: every layer is MoE when num_local_experts > 1. */
  mlp_layer_types?: readonly MlpLayerType[];
  /** Per-head RMSNorm on q and k (Qwen3, Gemma 3): head_dim weights each, per layer. */
  qk_norm?: boolean;
  /** RMSNorms per layer: 2 (pre-attention, pre-MLP) unless stated; Gemma 2/3 have 4 (pre and post around each). */
  norms_per_layer?: number;
  /** GPT-OSS: o_proj has a bias too (attention_bias covers q/k/v). */
  o_bias?: boolean;
  /** GPT-OSS: every expert's gate/up and down projections have biases. */
  expert_bias?: boolean;
  /** A bias per expert on the router (GPT-OSS's router bias, DeepSeek-V3's e_score_correction_bias). */
  router_bias?: boolean;
  /** GPT-OSS: one learned sink logit per attention head and layer. */
  attention_sinks?: boolean;
  /**
   * Gemma 2's tanh soft-caps on attention scores and final logits. They change no shape or byte
   * count; their cost (a tanh per score, fused in the attention kernel) is not modelled.
   */
  attn_logit_softcapping?: number;
  final_logit_softcapping?: number;
}

export type AttentionLayerType = 'full_attention' | 'sliding_attention' | 'chunked_attention';
export type MlpLayerType = 'dense' | 'sparse';

/** DeepSeek's MLA dimensions, named as in its config.json. */
export interface MlaDimensions {
  /** Rank of the query's low-rank compression; absent (V2-Lite): a full q_proj. */
  q_lora_rank?: number;
  /** Width of the compressed KV latent: what the cache stores, with the rope key. */
  kv_lora_rank: number;
  qk_nope_head_dim: number;
  qk_rope_head_dim: number;
  v_head_dim: number;
}
