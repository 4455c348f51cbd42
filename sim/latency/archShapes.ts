import type { ModelArchitecture } from '../model/architecture.js';
import { isSparseLayer, isWindowedLayer, kvBytesPerTokenAt } from '../model/layers.js';
import type { BatchShape } from './batch.js';

/*
 * The roofline's per-GPU operator shapes, from the architecture. For a Llama-shaped model every
 * figure is computed with the arithmetic roofline.ts always used (so existing outputs stay
 * identical); MLA, MoE layers with shared experts next to dense ones, and windowed layers add
 * the terms below.
 */

/** A GEMM weight shape [N, K] of one GPU. */
export interface WeightShape {
  n: number;
  k: number;
}

export interface ArchShapes {
  headsPerGpu: number;
  kvHeadsPerGpu: number;
  qkv: WeightShape;
  o: WeightShape;
  /** The MLP of a dense layer, or one routed expert of an MoE layer. */
  upGate: WeightShape;
  down: WeightShape;
  /** Layers with routed experts (all of them in Mixtral-style models), and the dense ones beside them. */
  sparseLayers: number;
  denseLayers: number;
  /** Dense layers' MLP in a model whose experts have another width (DeepSeek's first layers, Llama 4's interleaved ones). */
  denseUpGate?: WeightShape;
  denseDown?: WeightShape;
  /** The shared expert(s) of each MoE layer: a dense GEMM over every token. */
  sharedUpGate?: WeightShape;
  sharedDown?: WeightShape;
  /** Attention FLOPs per query-key pair on one GPU: 2 × heads × (q·k width + v width). */
  attentionFlopsPerPair: number;
  kvBytesPerTokenPerLayer: number;
  /** Layers attending over the whole context, and over a window (sliding or chunked). */
  fullLayers: number;
  windowedLayers: number;
  window: number;
  chunked: boolean;
  /** MLA's attention has no shape in the profile tables (heads × head_dim): it is always modelled. */
  attentionTablesApply: boolean;
}

export function archShapes(arch: ModelArchitecture, tp: number, kvBytes: number): ArchShapes {
  const h = arch.hidden_size;
  const d = arch.head_dim;
  const headsPerGpu = arch.num_attention_heads / tp;
  const kvHeadsPerGpu = Math.max(1, arch.num_key_value_heads / tp);
  const mats = arch.gated_mlp ? 2 : 1;
  const L = arch.num_hidden_layers;
  let sparse = 0;
  let windowed = 0;
  for (let i = 0; i < L; i++) {
    if (isSparseLayer(arch, i)) sparse++;
    if (isWindowedLayer(arch, i)) windowed++;
  }
  const moe = (arch.num_local_experts ?? 1) > 1;
  const expertWidth = (arch.moe_intermediate_size ?? arch.intermediate_size) / tp;
  const shapes: ArchShapes = {
    headsPerGpu,
    kvHeadsPerGpu,
    qkv: { n: ((arch.num_attention_heads + 2 * arch.num_key_value_heads) * d) / tp, k: h },
    o: { n: h, k: (arch.num_attention_heads * d) / tp },
    upGate: { n: mats * expertWidth, k: h },
    down: { n: h, k: expertWidth },
    sparseLayers: moe ? sparse : L,
    denseLayers: moe ? L - sparse : 0,
    attentionFlopsPerPair: 4 * headsPerGpu * d,
    kvBytesPerTokenPerLayer: 2 * kvHeadsPerGpu * d * kvBytes,
    fullLayers: L - windowed,
    windowedLayers: windowed,
    window: arch.sliding_window ?? 0,
    chunked: arch.layer_types?.includes('chunked_attention') ?? false,
    attentionTablesApply: arch.mla === undefined,
  };
  if (moe && sparse < L) {
    shapes.denseUpGate = { n: (mats * arch.intermediate_size) / tp, k: h };
    shapes.denseDown = { n: h, k: arch.intermediate_size / tp };
  }
  const shared = arch.shared_expert_intermediate_size;
  if (moe && shared !== undefined) {
    shapes.sharedUpGate = { n: (mats * shared) / tp, k: h };
    shapes.sharedDown = { n: h, k: shared / tp };
  }
  if (arch.mla !== undefined) applyMla(shapes, arch, tp, kvBytes);
  return shapes;
}

/**
 * MLA as vLLM runs it: the projections as one GEMM of the same weight count (q_a + q_b or q_proj,
 * kv_a_proj_with_mqa, kv_b_proj: decode absorbs kv_b into the query and output, prefill
 * expands the latent with it, either way one pass over its weights per token), o_proj from the
 * heads' v; attention over qk_nope + qk_rope query-key width and v_head_dim values; the cache
 * read is the replicated latent (see model/layers.ts).
 */
function applyMla(shapes: ArchShapes, arch: ModelArchitecture, tp: number, kvBytes: number): void {
  const mla = arch.mla!;
  const h = arch.hidden_size;
  const heads = shapes.headsPerGpu;
  const qHead = mla.qk_nope_head_dim + mla.qk_rope_head_dim;
  const q = mla.q_lora_rank === undefined ? h * heads * qHead : h * mla.q_lora_rank + mla.q_lora_rank * heads * qHead;
  const kv = h * (mla.kv_lora_rank + mla.qk_rope_head_dim) + mla.kv_lora_rank * heads * (mla.qk_nope_head_dim + mla.v_head_dim);
  shapes.qkv = { n: (q + kv) / h, k: h };
  shapes.o = { n: h, k: heads * mla.v_head_dim };
  shapes.attentionFlopsPerPair = 2 * heads * (qHead + mla.v_head_dim);
  shapes.kvBytesPerTokenPerLayer = kvBytesPerTokenAt(arch, kvBytes, tp);
  shapes.kvHeadsPerGpu = 1;
}

/** The KV tokens a windowed layer attends to for a context of `c`: a sliding window keeps the last `w`; a chunked layer the current chunk, w/2 on average once past the first. */
function attended(c: number, w: number, chunked: boolean): number {
  if (c <= w) return c;
  return chunked ? w / 2 : w;
}

/**
 * Decode context tokens a windowed layer reads. The batch keeps sums, not each sequence's
 * context, so the window is applied to the mean context (an upper bound on Σ min(cᵢ, w)).
 */
export function windowedDecodeContext(batch: BatchShape, s: ArchShapes): number {
  const mean = batch.decode_context_tokens / batch.decode_seqs;
  return batch.decode_seqs * attended(mean, s.window, s.chunked);
}

/**
 * Query-key pairs and KV tokens a windowed layer's prefill computes and reads: the mean chunk
 * (q̄ new tokens after c̄₀ cached) gives the share of its causal pairs inside the window, applied
 * to the batch's pairs. Chunked layers are charged as sliding ones here (an upper bound).
 */
export function windowedPrefill(batch: BatchShape, s: ArchShapes): { pairs: number; context: number } {
  const q = batch.prefill_tokens / batch.prefill_seqs;
  const c = batch.prefill_context_tokens / batch.prefill_seqs;
  const c0 = c - q;
  const w = s.window;
  if (c <= w) return { pairs: batch.prefill_attention_pairs, context: batch.prefill_context_tokens };
  // Positions c0+1 … c0+q see min(position, w) keys: those up to w see all before them.
  const inside = Math.max(0, Math.min(c0 + q, w) - c0);
  const windowedPairs = inside * c0 + (inside * (inside + 1)) / 2 + (q - inside) * w;
  const fullPairs = q * (c0 + (q + 1) / 2);
  return {
    pairs: batch.prefill_attention_pairs * (windowedPairs / fullPairs),
    context: batch.prefill_context_tokens * (Math.min(c, w + q) / c),
  };
}
