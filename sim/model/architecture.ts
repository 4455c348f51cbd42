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
}
