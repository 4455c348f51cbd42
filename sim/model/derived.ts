import type { ModelArchitecture } from './architecture.js';
import type { KvDtype, WeightDtype } from '../scenario/types.js';
import { fieldError } from '../errors.js';

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
  const layer = layerParams(arch, arch.num_attention_heads, arch.num_key_value_heads, 1);
  const embedding = arch.vocab_size * arch.hidden_size;
  const lmHead = arch.tie_word_embeddings ? 0 : embedding;
  return embedding + arch.num_hidden_layers * (layer.matrices + layer.small) + arch.hidden_size + lmHead;
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
  const layer = layerParams(arch, arch.num_attention_heads / tp, kvHeadsPerGpu(arch, tp), 1 / tp);
  const smallBytes = Math.max(bytesPerParam, 2);
  const vocabShard = (arch.vocab_size * arch.hidden_size) / tp;
  const vocabMatrices = pp === 1 && arch.tie_word_embeddings ? 1 : 2;
  const layerBytes = layer.matrices * bytesPerParam + layer.small * smallBytes;
  return layersOnWorstStage(arch, pp) * layerBytes + (vocabMatrices * vocabShard + arch.hidden_size) * smallBytes;
}

/** KV-cache bytes per token for the whole model (one replica): K and V, every layer. */
export function kvBytesPerToken(arch: ModelArchitecture, kvBytes: number): number {
  return 2 * arch.num_hidden_layers * arch.num_key_value_heads * arch.head_dim * kvBytes;
}

/** KV-cache bytes per token on the most loaded GPU of a TP × PP replica. */
export function kvBytesPerTokenPerGpu(arch: ModelArchitecture, kvBytes: number, tp: number, pp: number): number {
  return 2 * layersOnWorstStage(arch, pp) * kvHeadsPerGpu(arch, tp) * arch.head_dim * kvBytes;
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
