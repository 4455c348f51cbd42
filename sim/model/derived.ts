import type { ModelArchitecture } from './architecture.js';
import type { KvDtype, WeightDtype } from '../scenario/types.js';
import { fieldError } from '../errors.js';
import { isExtended, isSparseLayer, isWindowedLayer, kvBytesPerTokenAt, layerParamsAt, worstStage } from './layers.js';

const WEIGHT_BYTES: Record<WeightDtype, number> = { fp32: 4, fp16: 2, bf16: 2, fp8: 1, int8: 1, int4: 0.5 };
const KV_BYTES: Record<KvDtype, number> = { fp16: 2, bf16: 2, fp8: 1 };

export function bytesPerWeight(dtype: WeightDtype): number {
  return WEIGHT_BYTES[dtype];
}

export function bytesPerKvElement(dtype: KvDtype): number {
  return KV_BYTES[dtype];
}

/** Parameters of one attention + MLP block; shards: query/KV heads and MLP columns held by one GPU. */
function layerParams(arch: ModelArchitecture, qHeads: number, kvHeads: number, mlpFraction: number) {
  const h = arch.hidden_size;
  const q = qHeads * arch.head_dim;
  const kv = kvHeads * arch.head_dim;
  const experts = arch.num_local_experts ?? 1;
  const mlpMatrices = arch.gated_mlp ? 3 : 2;
  return {
    /** Weight matrices: the part that quantization shrinks. */
    matrices: 2 * h * q + 2 * h * kv + experts * mlpMatrices * h * arch.intermediate_size * mlpFraction,
    /** q/k/v biases, MoE router, two RMSNorm weights: kept in 16-bit (or fp32) by quantized checkpoints. */
    small: (arch.attention_bias ? q + 2 * kv : 0) + (experts > 1 ? h * experts : 0) + 2 * h,
  };
}

/** Total parameters, counted the way published model sizes are (embeddings included). */
export function parameterCount(arch: ModelArchitecture): number {
  if (isExtended(arch)) return activeOrTotal(arch, false);
  const layer = layerParams(arch, arch.num_attention_heads, arch.num_key_value_heads, 1);
  const embedding = arch.vocab_size * arch.hidden_size;
  const lmHead = arch.tie_word_embeddings ? 0 : embedding;
  return embedding + arch.num_hidden_layers * (layer.matrices + layer.small) + arch.hidden_size + lmHead;
}

/**
 * Parameters one token uses: the total less the routed experts it is not sent to (embeddings
 * included, as Qwen and Meta count "active"; OpenAI's gpt-oss figures leave the input embedding out).
 */
export function activeParameterCount(arch: ModelArchitecture): number {
  return activeOrTotal(arch, true);
}

/** Embedding, every layer, final norm and LM head; `active`: only num_experts_per_tok routed experts per MoE layer. */
function activeOrTotal(arch: ModelArchitecture, active: boolean): number {
  const embedding = arch.vocab_size * arch.hidden_size;
  let layers = 0;
  for (let i = 0; i < arch.num_hidden_layers; i++) {
    const p = layerParamsAt(arch, i, 1);
    layers += p.matrices + p.small;
    if (active && isSparseLayer(arch, i)) layers -= idleExpertParams(arch);
  }
  return embedding + layers + arch.hidden_size + (arch.tie_word_embeddings ? 0 : embedding);
}

/** Weights (and biases) of the routed experts a token skips in one MoE layer. */
function idleExpertParams(arch: ModelArchitecture): number {
  const experts = arch.num_local_experts ?? 1;
  const idle = experts - (arch.num_experts_per_tok ?? experts);
  const width = arch.moe_intermediate_size ?? arch.intermediate_size;
  const mats = arch.gated_mlp ? 3 : 2;
  const bias = arch.expert_bias ? (mats - 1) * width + arch.hidden_size : 0;
  return idle * (mats * arch.hidden_size * width + bias);
}

/** KV heads one GPU stores: vLLM replicates KV heads when tp exceeds their count. */
function kvHeadsPerGpu(arch: ModelArchitecture, tp: number): number {
  return Math.max(1, Math.floor(arch.num_key_value_heads / tp));
}

function layersOnWorstStage(arch: ModelArchitecture, pp: number): number {
  return Math.ceil(arch.num_hidden_layers / pp);
}

/**
 * Weight bytes on the most loaded GPU of a TP × PP replica.
 * - Layers: ceil(layers / pp) on the worst stage; attention heads and MLP columns split by tp
 *   (every expert is split by tp, as vLLM's fused MoE does without expert parallelism).
 * - Embedding and LM head: vocab-parallel, split by tp. With pp > 1, vLLM puts the embedding on
 *   the first stage and the LM head on the last; we charge both to the worst stage (conservative
 *   by one vocab × hidden / tp matrix), and count the LM head even when tied, since the last
 *   stage then holds its own copy.
 * - Embedding, LM head, norms, biases and router stay at max(bytesPerWeight, 2): quantized
 *   checkpoints (fp8, AWQ/GPTQ int4) quantize only the linear layers. Quantization scales
 *   (about 3 % extra for int4 with group size 128) are not counted.
 */
export function weightBytesPerGpu(arch: ModelArchitecture, bytesPerParam: number, tp: number, pp: number): number {
  if (isExtended(arch)) return extendedWeightBytesPerGpu(arch, bytesPerParam, tp, pp);
  const layer = layerParams(arch, arch.num_attention_heads / tp, kvHeadsPerGpu(arch, tp), 1 / tp);
  const smallBytes = Math.max(bytesPerParam, 2);
  const vocabShard = (arch.vocab_size * arch.hidden_size) / tp;
  const vocabMatrices = pp === 1 && arch.tie_word_embeddings ? 1 : 2;
  const layerBytes = layer.matrices * bytesPerParam + layer.small * smallBytes;
  return layersOnWorstStage(arch, pp) * layerBytes + (vocabMatrices * vocabShard + arch.hidden_size) * smallBytes;
}

/** weightBytesPerGpu for layers that differ (MoE next to dense, MLA): the same rules, layer by layer. */
function extendedWeightBytesPerGpu(arch: ModelArchitecture, bytesPerParam: number, tp: number, pp: number): number {
  const smallBytes = Math.max(bytesPerParam, 2);
  const layerBytes = (i: number): number => {
    const p = layerParamsAt(arch, i, tp);
    return p.matrices * bytesPerParam + p.small * smallBytes;
  };
  const vocabShard = (arch.vocab_size * arch.hidden_size) / tp;
  const vocabMatrices = pp === 1 && arch.tie_word_embeddings ? 1 : 2;
  return worstStage(arch.num_hidden_layers, pp, layerBytes) + (vocabMatrices * vocabShard + arch.hidden_size) * smallBytes;
}

/**
 * KV-cache bytes per token for the whole model (one replica): K and V, every layer (MLA: the
 * latent, see layers.ts). Windowed layers count in full: the figure is what a token costs while
 * the sequence is within every window, and it is the per-token size vLLM V1 states its cache in
 * (see kvBytesPerTokenPerGpu); kvBytesForSequence gives the windowed total.
 */
export function kvBytesPerToken(arch: ModelArchitecture, kvBytes: number): number {
  if (isExtended(arch)) return arch.num_hidden_layers * kvBytesPerTokenAt(arch, kvBytes, 1);
  return 2 * arch.num_hidden_layers * arch.num_key_value_heads * arch.head_dim * kvBytes;
}

/**
 * KV-cache bytes per token on the most loaded GPU of a TP × PP replica: the figure the cache's
 * blocks are sized by. Sliding-window and chunked layers count as full ones. vLLM V1's hybrid KV
 * cache manager gives each kind of layer its own block table over one shared pool and frees a
 * windowed layer's blocks once they leave the window (SlidingWindowManager); the pool holds as many
 * tokens per layer as a full-attention cache, and the startup line "GPU KV cache size: N tokens"
 * is num_blocks // len(kv_cache_groups) × block_size (v1/core/kv_cache_utils.py
 * _report_kv_cache_config), i.e. memory ÷ this figure. The simulator's block manager keeps one
 * block table per sequence, so it cannot hand back a long sequence's out-of-window blocks: it
 * admits as that log line counts, which understates how many long sequences vLLM fits (its
 * "Maximum concurrency" line, from kvBytesForSequence's per-layer bound). The attention time does
 * use the window (sim/latency/archShapes.ts).
 */
export function kvBytesPerTokenPerGpu(arch: ModelArchitecture, kvBytes: number, tp: number, pp: number): number {
  if (isExtended(arch)) return layersOnWorstStage(arch, pp) * kvBytesPerTokenAt(arch, kvBytes, tp);
  return 2 * layersOnWorstStage(arch, pp) * kvHeadsPerGpu(arch, tp) * arch.head_dim * kvBytes;
}

/**
 * KV-cache bytes one sequence of `tokens` tokens holds in the whole model once windowed layers
 * drop what left their window: full layers keep every token, sliding and chunked layers at most
 * sliding_window (vLLM keeps sliding_window − 1 past tokens plus the ones being computed, and a
 * chunked layer the current chunk's).
 */
export function kvBytesForSequence(arch: ModelArchitecture, kvBytes: number, tokens: number): number {
  const perLayer = isExtended(arch) ? kvBytesPerTokenAt(arch, kvBytes, 1) : 2 * arch.num_key_value_heads * arch.head_dim * kvBytes;
  let total = 0;
  for (let i = 0; i < arch.num_hidden_layers; i++) {
    total += perLayer * (isWindowedLayer(arch, i) ? Math.min(tokens, arch.sliding_window!) : tokens);
  }
  return total;
}

/** vLLM's rule: tp divides the query heads, and tp and the KV heads divide one another. */
function tpFits(arch: ModelArchitecture, tp: number): boolean {
  const kv = arch.num_key_value_heads;
  return arch.num_attention_heads % tp === 0 && (tp >= kv ? tp % kv === 0 : kv % tp === 0);
}

/** Throws a field error unless vLLM could shard `arch` with this tensor/pipeline parallelism. */
export function validateParallelism(
  arch: ModelArchitecture,
  tp: number,
  pp: number,
  fields = { tp: 'hardware.tensor_parallel', pp: 'hardware.pipeline_parallel' },
): void {
  if (!Number.isInteger(tp) || tp < 1) throw fieldError(fields.tp, 'must be a positive integer', tp);
  if (!Number.isInteger(pp) || pp < 1) throw fieldError(fields.pp, 'must be a positive integer', pp);
  const heads = arch.num_attention_heads;
  const kv = arch.num_key_value_heads;
  const allowed = Array.from({ length: heads }, (_, i) => i + 1).filter((t) => tpFits(arch, t));
  const allowedText = `allowed for ${arch.name}: ${allowed.join(', ')}`;
  if (heads % tp !== 0) {
    throw fieldError(fields.tp, `must divide num_attention_heads (${heads}); ${allowedText}`, tp);
  }
  if (!tpFits(arch, tp)) {
    throw fieldError(
      fields.tp,
      `must divide num_key_value_heads (${kv}) or be a multiple of it; ${allowedText}`,
      tp,
    );
  }
  if (pp > arch.num_hidden_layers) {
    throw fieldError(fields.pp, `must be <= num_hidden_layers (${arch.num_hidden_layers}) of ${arch.name}`, pp);
  }
}
