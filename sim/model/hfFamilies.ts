import type { AttentionLayerType, ModelArchitecture, MlpLayerType } from './architecture.js';
import { fieldError } from '../errors.js';

/*
 * The config.json families past the Llama shape: what each adds to ModelArchitecture. The rules
 * for which layer is windowed or sparse follow transformers' configuration_*.py and modeling_*.py
 * for the family (cited per family), since config.json states them only partly.
 */

type Json = Record<string, unknown>;

/** What the reader in hfConfig.ts lends a family: the config and its checked field readers. */
export interface FieldReader {
  config: Json;
  field(key: string): string;
  positiveInt(key: string): number;
  optionalPositiveInt(key: string, fallback: number): number;
  optionalBool(key: string, fallback: boolean): boolean;
}

/**
 * Defaults of transformers' config classes for fields that published config.json files leave out
 * (Gemma 3's multimodal text_config states only what differs from Gemma3TextConfig).
 */
export const FAMILY_DEFAULTS: Record<string, Json> = {
  // configuration_gemma2.py Gemma2Config; configuration_gemma3.py Gemma3TextConfig.
  gemma2: { tie_word_embeddings: true },
  gemma3_text: { tie_word_embeddings: true, vocab_size: 262_208, max_position_embeddings: 131_072, sliding_window: 4096, sliding_window_pattern: 6 },
};

function listOf<T>(r: FieldReader, key: string, layers: number, allowed: readonly T[]): T[] | undefined {
  const value = r.config[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length !== layers || value.some((v) => !allowed.includes(v as T))) {
    throw fieldError(r.field(key), `must list one of ${allowed.map((a) => JSON.stringify(a)).join(', ')} per layer (${layers} layers)`, value);
  }
  return value as T[];
}

const LAYER_TYPES: readonly AttentionLayerType[] = ['full_attention', 'sliding_attention', 'chunked_attention'];

/** Window layers by a rule unless config.json lists layer_types itself (newer transformers write it). */
function windowLayers(arch: ModelArchitecture, r: FieldReader, window: number, rule: (i: number) => AttentionLayerType): void {
  const L = arch.num_hidden_layers;
  const stated = listOf(r, 'layer_types', L, LAYER_TYPES);
  const types = stated ?? Array.from({ length: L }, (_, i) => rule(i));
  // A window as long as the context never drops a token (Phi-3-mini-128k states 262144): full attention.
  if (window >= arch.max_position_embeddings || types.every((t) => t === 'full_attention')) return;
  arch.sliding_window = window;
  arch.layer_types = types;
}

/** Gemma 2: GeGLU MLP, four norms a layer, even layers sliding (modeling_gemma2.py: `not bool(layer_idx % 2)`), soft-caps. */
function gemma2(arch: ModelArchitecture, r: FieldReader): void {
  arch.norms_per_layer = 4;
  windowLayers(arch, r, r.positiveInt('sliding_window'), (i) => (i % 2 === 0 ? 'sliding_attention' : 'full_attention'));
  const cap = (key: string) => (typeof r.config[key] === 'number' ? (r.config[key] as number) : undefined);
  const attn = cap('attn_logit_softcapping');
  const final = cap('final_logit_softcapping');
  if (attn !== undefined) arch.attn_logit_softcapping = attn;
  if (final !== undefined) arch.final_logit_softcapping = final;
}

/** Gemma 3: Gemma 2's layer plus q/k norms; every sliding_window_pattern-th layer global (configuration_gemma3.py). */
function gemma3(arch: ModelArchitecture, r: FieldReader): void {
  arch.norms_per_layer = 4;
  arch.qk_norm = true;
  const pattern = r.optionalPositiveInt('sliding_window_pattern', 6);
  windowLayers(arch, r, r.positiveInt('sliding_window'), (i) => ((i + 1) % pattern === 0 ? 'full_attention' : 'sliding_attention'));
}

/** Phi-3 (mini/medium): Llama's shapes with fused qkv and gate_up (same counts); one sliding_window on every layer when set. */
function phi3(arch: ModelArchitecture, r: FieldReader): void {
  if (r.config.sliding_window === undefined || r.config.sliding_window === null) return;
  windowLayers(arch, r, r.positiveInt('sliding_window'), () => 'sliding_attention');
}

/** Qwen3: q/k norms, no qkv bias; Qwen3-MoE: routed experts of moe_intermediate_size (modeling_qwen3_moe.py's sparse-layer rule). */
function qwen3(arch: ModelArchitecture, r: FieldReader, moe: boolean): void {
  arch.qk_norm = true;
  if (r.optionalBool('use_sliding_window', false)) {
    throw fieldError(r.field('use_sliding_window'), 'is not supported (Qwen3 with max_window_layers); set it false or remove it', true);
  }
  if (!moe) return;
  arch.num_local_experts = r.positiveInt('num_experts');
  arch.num_experts_per_tok = r.positiveInt('num_experts_per_tok');
  arch.moe_intermediate_size = r.positiveInt('moe_intermediate_size');
  const step = r.optionalPositiveInt('decoder_sparse_step', 1);
  const dense = r.config.mlp_only_layers ?? [];
  if (!Array.isArray(dense) || dense.some((i) => !Number.isInteger(i))) throw fieldError(r.field('mlp_only_layers'), 'must be a list of layer indices', dense);
  const types = Array.from({ length: arch.num_hidden_layers }, (_, i): MlpLayerType => (!dense.includes(i) && (i + 1) % step === 0 ? 'sparse' : 'dense'));
  if (types.some((t) => t === 'dense')) arch.mlp_layer_types = types;
}

/**
 * DeepSeek-V2/V3: MLA, n_routed_experts of moe_intermediate_size with n_shared_experts beside
 * them, dense first_k_dense_replace layers (modeling_deepseek.py: sparse when
 * i ≥ first_k_dense_replace and i % moe_layer_freq == 0). V3's router has a score-correction
 * bias. The MTP module (num_nextn_predict_layers) is not counted: vLLM loads it only as a
 * speculative draft, and the published sizes (671B) leave it out.
 */
function deepseek(arch: ModelArchitecture, r: FieldReader, v3: boolean): void {
  const q = r.config.q_lora_rank;
  arch.mla = {
    ...(q === null || q === undefined ? {} : { q_lora_rank: r.positiveInt('q_lora_rank') }),
    kv_lora_rank: r.positiveInt('kv_lora_rank'),
    qk_nope_head_dim: r.positiveInt('qk_nope_head_dim'),
    qk_rope_head_dim: r.positiveInt('qk_rope_head_dim'),
    v_head_dim: r.positiveInt('v_head_dim'),
  };
  // The attention's q·k width: what head_dim stands for in code that reads it (plan's FLOP counts).
  arch.head_dim = arch.mla.qk_nope_head_dim + arch.mla.qk_rope_head_dim;
  arch.num_local_experts = r.positiveInt('n_routed_experts');
  arch.num_experts_per_tok = r.positiveInt('num_experts_per_tok');
  arch.moe_intermediate_size = r.positiveInt('moe_intermediate_size');
  const shared = r.config.n_shared_experts;
  if (shared !== null && shared !== undefined) arch.shared_expert_intermediate_size = r.positiveInt('n_shared_experts') * arch.moe_intermediate_size;
  const firstDense = r.config.first_k_dense_replace === undefined ? 0 : nonNegativeInt(r, 'first_k_dense_replace');
  const freq = r.optionalPositiveInt('moe_layer_freq', 1);
  const types = Array.from({ length: arch.num_hidden_layers }, (_, i): MlpLayerType => (i >= firstDense && i % freq === 0 ? 'sparse' : 'dense'));
  if (types.some((t) => t === 'dense')) arch.mlp_layer_types = types;
  if (v3) arch.router_bias = true;
}

function nonNegativeInt(r: FieldReader, key: string): number {
  const value = r.config[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw fieldError(r.field(key), 'must be a non-negative integer', value);
  return value;
}

/** GPT-OSS: MoE on every layer with biased experts and router, biased q/k/v/o, a sink per head, alternate sliding layers (layer_types). */
function gptOss(arch: ModelArchitecture, r: FieldReader): void {
  arch.num_local_experts = r.positiveInt('num_local_experts');
  arch.num_experts_per_tok = r.optionalPositiveInt('num_experts_per_tok', r.optionalPositiveInt('experts_per_token', 4));
  arch.attention_bias = r.optionalBool('attention_bias', true);
  arch.o_bias = arch.attention_bias;
  arch.attention_sinks = true;
  arch.router_bias = true;
  arch.expert_bias = true;
  // modeling_gpt_oss.py's default when layer_types is absent: even layers sliding.
  windowLayers(arch, r, r.positiveInt('sliding_window'), (i) => (i % 2 === 0 ? 'sliding_attention' : 'full_attention'));
}

/**
 * Llama 4 (text_config): routed experts of intermediate_size plus one shared expert as wide, on
 * the layers moe_layers names (default every interleave_moe_layer_step-th); dense layers of
 * intermediate_size_mlp. Layers with RoPE (no_rope_layers[i] = 1; default all but every 4th)
 * attend within attention_chunk_size chunks (configuration_llama4.py, modeling_llama4.py).
 */
function llama4(arch: ModelArchitecture, r: FieldReader): void {
  const L = arch.num_hidden_layers;
  arch.num_local_experts = r.positiveInt('num_local_experts');
  arch.num_experts_per_tok = r.optionalPositiveInt('num_experts_per_tok', 1);
  arch.moe_intermediate_size = arch.intermediate_size;
  arch.shared_expert_intermediate_size = arch.intermediate_size;
  arch.intermediate_size = r.optionalPositiveInt('intermediate_size_mlp', arch.intermediate_size);
  const step = r.optionalPositiveInt('interleave_moe_layer_step', 1);
  const moeLayers = r.config.moe_layers;
  const sparse = (i: number) => (Array.isArray(moeLayers) ? moeLayers.includes(i) : (i + 1) % step === 0);
  const types = Array.from({ length: L }, (_, i): MlpLayerType => (sparse(i) ? 'sparse' : 'dense'));
  if (types.some((t) => t === 'dense')) arch.mlp_layer_types = types;
  const noRope = r.config.no_rope_layers;
  const interval = r.optionalPositiveInt('no_rope_layer_interval', 4);
  const ropeAt = (i: number) => (Array.isArray(noRope) && noRope.length === L ? noRope[i] === 1 : (i + 1) % interval !== 0);
  const chunk = r.config.attention_chunk_size;
  if (chunk === null || chunk === undefined) return;
  windowLayers(arch, r, r.positiveInt('attention_chunk_size'), (i) => (ropeAt(i) ? 'chunked_attention' : 'full_attention'));
}

/** Adds what the family of `architecture` has past the Llama shape; Llama, Mistral, Qwen2 and Mixtral are read in hfConfig.ts. */
export function readFamily(arch: ModelArchitecture, architecture: string, r: FieldReader): void {
  switch (architecture) {
    case 'Gemma2ForCausalLM': return gemma2(arch, r);
    case 'Gemma3ForCausalLM':
    case 'Gemma3ForConditionalGeneration': return gemma3(arch, r);
    case 'Phi3ForCausalLM': return phi3(arch, r);
    case 'Qwen3ForCausalLM': return qwen3(arch, r, false);
    case 'Qwen3MoeForCausalLM': return qwen3(arch, r, true);
    case 'DeepseekV2ForCausalLM': return deepseek(arch, r, false);
    case 'DeepseekV3ForCausalLM': return deepseek(arch, r, true);
    case 'GptOssForCausalLM': return gptOss(arch, r);
    case 'Llama4ForCausalLM':
    case 'Llama4ForConditionalGeneration': return llama4(arch, r);
  }
}
