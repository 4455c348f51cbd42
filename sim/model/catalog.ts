import type { ModelArchitecture } from './architecture.js';
import { readHfConfig } from './hfConfig.js';
import { unknownNameError } from '../errors.js';
import { looksLikePath } from '../scenario/paths.js';

/**
 * Every figure is copied from the `config.json` in the entry's `hf_repo` (main branch).
 * All these models use SwiGLU (hidden_act "silu", gate + up + down projections).
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
