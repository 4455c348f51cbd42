import type { AttentionLayerType, ModelArchitecture, MlpLayerType } from './architecture.js';
import { readHfConfig } from './hfConfig.js';
import { unknownNameError } from '../errors.js';
import { looksLikePath } from '../scenario/paths.js';

/** Layer kinds by index, as the family's config rules give them (sim/model/hfFamilies.ts). */
const layers = <T>(n: number, kind: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => kind(i));
const evenSliding = (i: number): AttentionLayerType => (i % 2 === 0 ? 'sliding_attention' : 'full_attention');

/**
 * Every figure is copied from the `config.json` in the entry's `hf_repo` (main branch).
 * All these models gate their MLP (SwiGLU, Gemma's GeGLU: gate + up + down projections). The
 * entries after mixtral-8x7b are what readHfConfig makes of the config.json copies in
 * test/fixtures/models (test/model/catalog.test.ts checks they agree).
 */
export const MODEL_CATALOG: Record<string, ModelArchitecture> = {
  // https://huggingface.co/meta-llama/Llama-2-7b-hf/blob/main/config.json
  'llama-2-7b': {
    name: 'llama-2-7b', hf_repo: 'meta-llama/Llama-2-7b-hf',
    hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32,
    num_attention_heads: 32, num_key_value_heads: 32, head_dim: 128,
    vocab_size: 32000, max_position_embeddings: 4096, gated_mlp: true, tie_word_embeddings: false,
  },
  // https://huggingface.co/meta-llama/Llama-2-13b-hf/blob/main/config.json
  'llama-2-13b': {
    name: 'llama-2-13b', hf_repo: 'meta-llama/Llama-2-13b-hf',
    hidden_size: 5120, intermediate_size: 13824, num_hidden_layers: 40,
    num_attention_heads: 40, num_key_value_heads: 40, head_dim: 128,
    vocab_size: 32000, max_position_embeddings: 4096, gated_mlp: true, tie_word_embeddings: false,
  },
  // https://huggingface.co/meta-llama/Llama-2-70b-hf/blob/main/config.json
  'llama-2-70b': {
    name: 'llama-2-70b', hf_repo: 'meta-llama/Llama-2-70b-hf',
    hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80,
    num_attention_heads: 64, num_key_value_heads: 8, head_dim: 128,
    vocab_size: 32000, max_position_embeddings: 4096, gated_mlp: true, tie_word_embeddings: false,
  },
  // https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json
  'llama-3.1-8b': {
    name: 'llama-3.1-8b', hf_repo: 'meta-llama/Llama-3.1-8B',
    hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
    num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128,
    vocab_size: 128256, max_position_embeddings: 131072, gated_mlp: true, tie_word_embeddings: false,
  },
  // https://huggingface.co/meta-llama/Llama-3.1-70B/blob/main/config.json
  'llama-3.1-70b': {
    name: 'llama-3.1-70b', hf_repo: 'meta-llama/Llama-3.1-70B',
    hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80,
    num_attention_heads: 64, num_key_value_heads: 8, head_dim: 128,
    vocab_size: 128256, max_position_embeddings: 131072, gated_mlp: true, tie_word_embeddings: false,
  },
  // https://huggingface.co/meta-llama/Llama-3.1-405B/blob/main/config.json
  'llama-3.1-405b': {
    name: 'llama-3.1-405b', hf_repo: 'meta-llama/Llama-3.1-405B',
    hidden_size: 16384, intermediate_size: 53248, num_hidden_layers: 126,
    num_attention_heads: 128, num_key_value_heads: 8, head_dim: 128,
    vocab_size: 128256, max_position_embeddings: 131072, gated_mlp: true, tie_word_embeddings: false,
  },
  // https://huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json
  // v0.1 declares sliding_window 4096; the simulator ignores it (full attention over the context).
  'mistral-7b': {
    name: 'mistral-7b', hf_repo: 'mistralai/Mistral-7B-v0.1',
    hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
    num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128,
    vocab_size: 32000, max_position_embeddings: 32768, gated_mlp: true, tie_word_embeddings: false,
  },
  // https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/config.json
  // Instruct repos (7B and 72B) state 32768; the base repos state 131072 (YaRN-extended context).
  // Qwen2 hard-codes bias on q/k/v (not o); config.json has no attention_bias key.
  'qwen2.5-7b': {
    name: 'qwen2.5-7b', hf_repo: 'Qwen/Qwen2.5-7B-Instruct',
    hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28,
    num_attention_heads: 28, num_key_value_heads: 4, head_dim: 128,
    vocab_size: 152064, max_position_embeddings: 32768, gated_mlp: true, tie_word_embeddings: false,
    attention_bias: true,
  },
  // https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/config.json
  'qwen2.5-72b': {
    name: 'qwen2.5-72b', hf_repo: 'Qwen/Qwen2.5-72B-Instruct',
    hidden_size: 8192, intermediate_size: 29568, num_hidden_layers: 80,
    num_attention_heads: 64, num_key_value_heads: 8, head_dim: 128,
    vocab_size: 152064, max_position_embeddings: 32768, gated_mlp: true, tie_word_embeddings: false,
    attention_bias: true,
  },
  // https://huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json
  'mixtral-8x7b': {
    name: 'mixtral-8x7b', hf_repo: 'mistralai/Mixtral-8x7B-v0.1',
    hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
    num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128,
    vocab_size: 32000, max_position_embeddings: 32768, gated_mlp: true, tie_word_embeddings: false,
    num_local_experts: 8, num_experts_per_tok: 2,
  },
  // https://huggingface.co/google/gemma-2-9b/blob/main/config.json: even layers slide over 4096 tokens.
  'gemma-2-9b': {
    name: 'gemma-2-9b', hf_repo: 'google/gemma-2-9b',
    hidden_size: 3584, intermediate_size: 14336, num_hidden_layers: 42,
    num_attention_heads: 16, num_key_value_heads: 8, head_dim: 256,
    vocab_size: 256000, max_position_embeddings: 8192, gated_mlp: true, tie_word_embeddings: true,
    norms_per_layer: 4, sliding_window: 4096, layer_types: layers(42, evenSliding),
    attn_logit_softcapping: 50, final_logit_softcapping: 30,
  },
  // https://huggingface.co/microsoft/Phi-3-mini-4k-instruct/blob/main/config.json: sliding_window 2047 on every layer.
  'phi-3-mini': {
    name: 'phi-3-mini', hf_repo: 'microsoft/Phi-3-mini-4k-instruct',
    hidden_size: 3072, intermediate_size: 8192, num_hidden_layers: 32,
    num_attention_heads: 32, num_key_value_heads: 32, head_dim: 96,
    vocab_size: 32064, max_position_embeddings: 4096, gated_mlp: true, tie_word_embeddings: false,
    sliding_window: 2047, layer_types: layers(32, (): AttentionLayerType => 'sliding_attention'),
  },
  // https://huggingface.co/Qwen/Qwen3-8B/blob/main/config.json
  'qwen3-8b': {
    name: 'qwen3-8b', hf_repo: 'Qwen/Qwen3-8B',
    hidden_size: 4096, intermediate_size: 12288, num_hidden_layers: 36,
    num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128,
    vocab_size: 151936, max_position_embeddings: 40960, gated_mlp: true, tie_word_embeddings: false, qk_norm: true,
  },
  // https://huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json: 128 experts of 768, top 8, every layer.
  'qwen3-30b-a3b': {
    name: 'qwen3-30b-a3b', hf_repo: 'Qwen/Qwen3-30B-A3B',
    hidden_size: 2048, intermediate_size: 6144, num_hidden_layers: 48,
    num_attention_heads: 32, num_key_value_heads: 4, head_dim: 128,
    vocab_size: 151936, max_position_embeddings: 40960, gated_mlp: true, tie_word_embeddings: false, qk_norm: true,
    num_local_experts: 128, num_experts_per_tok: 8, moe_intermediate_size: 768,
  },
  // https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json: MLA; 3 dense layers, then 256 experts + 1 shared.
  'deepseek-v3': {
    name: 'deepseek-v3', hf_repo: 'deepseek-ai/DeepSeek-V3',
    hidden_size: 7168, intermediate_size: 18432, num_hidden_layers: 61,
    num_attention_heads: 128, num_key_value_heads: 128, head_dim: 192,
    vocab_size: 129280, max_position_embeddings: 163840, gated_mlp: true, tie_word_embeddings: false,
    mla: { q_lora_rank: 1536, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128 },
    num_local_experts: 256, num_experts_per_tok: 8, moe_intermediate_size: 2048, shared_expert_intermediate_size: 2048,
    mlp_layer_types: layers(61, (i): MlpLayerType => (i < 3 ? 'dense' : 'sparse')), router_bias: true,
  },
  // https://huggingface.co/openai/gpt-oss-20b/blob/main/config.json: 32 experts, top 4; even layers slide over 128 tokens.
  'gpt-oss-20b': {
    name: 'gpt-oss-20b', hf_repo: 'openai/gpt-oss-20b',
    hidden_size: 2880, intermediate_size: 2880, num_hidden_layers: 24,
    num_attention_heads: 64, num_key_value_heads: 8, head_dim: 64,
    vocab_size: 201088, max_position_embeddings: 131072, gated_mlp: true, tie_word_embeddings: false,
    num_local_experts: 32, num_experts_per_tok: 4, attention_bias: true, o_bias: true, attention_sinks: true,
    router_bias: true, expert_bias: true, sliding_window: 128, layer_types: layers(24, evenSliding),
  },
  // https://huggingface.co/meta-llama/Llama-4-Scout-17B-16E/blob/main/config.json (text_config): 16 experts + 1 shared,
  // chunked attention over 8192 tokens on every layer but each 4th.
  'llama-4-scout': {
    name: 'llama-4-scout', hf_repo: 'meta-llama/Llama-4-Scout-17B-16E',
    hidden_size: 5120, intermediate_size: 16384, num_hidden_layers: 48,
    num_attention_heads: 40, num_key_value_heads: 8, head_dim: 128,
    vocab_size: 202048, max_position_embeddings: 10485760, gated_mlp: true, tie_word_embeddings: false,
    num_local_experts: 16, num_experts_per_tok: 1, moe_intermediate_size: 8192, shared_expert_intermediate_size: 8192,
    sliding_window: 8192, layer_types: layers(48, (i): AttentionLayerType => ((i + 1) % 4 === 0 ? 'full_attention' : 'chunked_attention')),
  },
};

// Which model names are paths is scenario vocabulary (loading resolves them); re-exported for callers here.
export { looksLikePath };

/** Catalog name (case-insensitive) or path to a Hugging Face config.json. Returns a copy. */
export function getModel(name: string, field = 'model'): ModelArchitecture {
  if (looksLikePath(name)) return readHfConfig(name, field);
  const entry = MODEL_CATALOG[name.toLowerCase()];
  if (entry === undefined) throw unknownNameError(field, name, Object.keys(MODEL_CATALOG));
  return structuredClone(entry);
}
