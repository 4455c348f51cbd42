import type { ModelArchitecture } from './architecture.js';
import { fieldError, formatValue, shownText } from '../errors.js';
import { parseJsonText } from '../scenario/read.js';
import { readText } from '../io/readText.js';
import { FAMILY_DEFAULTS, readFamily, type FieldReader } from './hfFamilies.js';

/**
 * Architectures whose shapes ModelArchitecture describes exactly: pre-norm RMSNorm decoders with
 * a gated (SwiGLU/GeGLU) MLP or routed experts, and grouped-query or latent (MLA) attention, some
 * layers windowed. Values: model_type for the same family. What each family adds past the Llama
 * shape is read in hfFamilies.ts.
 */
const SUPPORTED = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  MixtralForCausalLM: 'mixtral',
  Phi3ForCausalLM: 'phi3',
  Gemma2ForCausalLM: 'gemma2',
  Gemma3ForCausalLM: 'gemma3_text',
  Gemma3ForConditionalGeneration: 'gemma3',
  Qwen3ForCausalLM: 'qwen3',
  Qwen3MoeForCausalLM: 'qwen3_moe',
  DeepseekV2ForCausalLM: 'deepseek_v2',
  DeepseekV3ForCausalLM: 'deepseek_v3',
  GptOssForCausalLM: 'gpt_oss',
  Llama4ForCausalLM: 'llama4_text',
  Llama4ForConditionalGeneration: 'llama4',
} as const;
/** Multimodal wrappers whose language model's fields sit under text_config; only it is modelled (the vision tower's weights are not counted). */
const TEXT_CONFIG: ReadonlySet<string> = new Set(['Gemma3ForConditionalGeneration', 'Llama4ForConditionalGeneration']);
type SupportedArchitecture = keyof typeof SUPPORTED;
const SUPPORTED_NAMES = Object.keys(SUPPORTED) as SupportedArchitecture[];

type Json = Record<string, unknown>;

/** Past this a dimension is a typo (1e300 is an integer to JavaScript); products of two stay exact in a double. */
const MAX_DIMENSION = 2 ** 31 - 1;

/** Read a Hugging Face config.json of one of the SUPPORTED families. */
export function readHfConfig(path: string, modelField = 'model'): ModelArchitecture {
  const top = parseFile(path, modelField);
  const architecture = detectArchitecture(top, `${modelField} (${shownText(path)}) architectures`);
  const nested = TEXT_CONFIG.has(architecture);
  const config = withDefaults(nested ? textConfig(top, `${modelField} (${shownText(path)}) text_config`) : top);
  const field = (key: string) => `${modelField} (${shownText(path)}) ${nested ? 'text_config.' : ''}${key}`;

  const positiveInt = (key: string): number => {
    const value = Object.hasOwn(config, key) ? config[key] : undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > MAX_DIMENSION) {
      throw fieldError(field(key), `must be a positive integer ≤ ${MAX_DIMENSION}`, value);
    }
    return value;
  };
  // Absent and null both mean "use the family default" (some configs write "head_dim": null).
  const optionalPositiveInt = (key: string, fallback: number): number =>
    config[key] === undefined || config[key] === null ? fallback : positiveInt(key);
  const optionalBool = (key: string, fallback: boolean): boolean => {
    const value = config[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') throw fieldError(field(key), 'must be true or false', value);
    return value;
  };

  const hidden = positiveInt('hidden_size');
  const heads = positiveInt('num_attention_heads');
  const kvHeads = optionalPositiveInt('num_key_value_heads', heads);
  if (heads % kvHeads !== 0) {
    throw fieldError(field('num_key_value_heads'), `must divide num_attention_heads (${heads})`, kvHeads);
  }
  if (config.head_dim == null && hidden % heads !== 0) {
    throw fieldError(field('hidden_size'), `must be divisible by num_attention_heads (${heads}) when head_dim is absent`, hidden);
  }

  const arch: ModelArchitecture = {
    name: path,
    hidden_size: hidden,
    intermediate_size: positiveInt('intermediate_size'),
    num_hidden_layers: positiveInt('num_hidden_layers'),
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: optionalPositiveInt('head_dim', hidden / heads),
    vocab_size: positiveInt('vocab_size'),
    max_position_embeddings: positiveInt('max_position_embeddings'),
    // Every supported family gates its MLP (SwiGLU, Gemma's GeGLU): gate, up and down projections.
    gated_mlp: true,
    // transformers' config classes default to untied embeddings, but Gemma's (FAMILY_DEFAULTS).
    tie_word_embeddings: optionalBool('tie_word_embeddings', false),
  };
  // _name_or_path is often a local cache path; only an "owner/name" string documents the repo.
  const source = top._name_or_path;
  if (typeof source === 'string' && /^[\w.-]+\/[\w.-]+$/.test(source)) arch.hf_repo = source;

  // Qwen2 always has q/k/v biases; Llama reads attention_bias; Mistral/Mixtral have none.
  if (architecture === 'Qwen2ForCausalLM') arch.attention_bias = true;
  else if (architecture === 'LlamaForCausalLM' && optionalBool('attention_bias', false)) arch.attention_bias = true;

  readFamily(arch, architecture, { config, field, positiveInt, optionalPositiveInt, optionalBool } satisfies FieldReader);
  if (architecture === 'MixtralForCausalLM') {
    // Defaults as transformers' MixtralConfig.
    arch.num_local_experts = optionalPositiveInt('num_local_experts', 8);
    arch.num_experts_per_tok = optionalPositiveInt('num_experts_per_tok', 2);
    if (arch.num_experts_per_tok > arch.num_local_experts) {
      throw fieldError(field('num_experts_per_tok'), `must be <= num_local_experts (${arch.num_local_experts})`, arch.num_experts_per_tok);
    }
  }
  return arch;
}

/** A multimodal config's text_config, over the defaults of its model_type's config class. */
function textConfig(top: Json, label: string): Json {
  const text = top.text_config;
  if (text === null || typeof text !== 'object' || Array.isArray(text)) throw fieldError(label, 'must be an object holding the language model\'s fields', text);
  return text as Json;
}

/** The config over its family's defaults (FAMILY_DEFAULTS; most families have none). */
function withDefaults(config: Json): Json {
  const type = config.model_type;
  return { ...(typeof type === 'string' && Object.hasOwn(FAMILY_DEFAULTS, type) ? FAMILY_DEFAULTS[type] : undefined), ...config };
}

/** A config.json is a few kilobytes; the bound keeps a mistaken path (a log, a disk image) from being read whole. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

function parseFile(path: string, field: string): Json {
  // Any name with a slash is read as a path: say so, for someone who meant a catalog name.
  const label = `${field} (a Hugging Face config.json)`;
  const parsed = parseJsonText(readText(path, label, MAX_CONFIG_BYTES), path, label);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw fieldError(label, `${shownText(path)} must hold a JSON object`, parsed);
  }
  return parsed as Json;
}

/** `architectures` decides; `model_type` is the fallback for hand-written configs without it. */
function detectArchitecture(config: Json, field: string): SupportedArchitecture {
  const supportedList = `supported architectures: ${SUPPORTED_NAMES.join(', ')}`;
  const declared = config.architectures;
  if (declared !== undefined) {
    if (!Array.isArray(declared) || declared.some((a) => typeof a !== 'string')) {
      throw fieldError(field, 'must be a list of architecture names', declared);
    }
    const match = SUPPORTED_NAMES.find((name) => declared.includes(name));
    if (match === undefined) throw fieldError(field, `unsupported architecture; ${supportedList}`, declared);
    return match;
  }
  const byType = SUPPORTED_NAMES.find((name) => SUPPORTED[name] === config.model_type);
  if (byType === undefined) {
    throw fieldError(field, `missing, and model_type ${formatValue(config.model_type)} is not a supported family; ${supportedList}`);
  }
  return byType;
}
