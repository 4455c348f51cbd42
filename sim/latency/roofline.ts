import { DOUBLE_ZERO } from '../engine/doubles.js';
import { bytesPerKvElement, bytesPerWeight } from '../model/derived.js';
import { archShapes, windowedDecodeContext, windowedPrefill, type ArchShapes } from './archShapes.js';
import { attentionLookups, type AttentionShape, type DecodeLookup, type PrefillLookup } from './attentionLookups.js';
import type { BatchShape } from './batch.js';
import { captureSizes, GraphSizes } from './cudaGraphs.js';
import { CountMemo } from './countMemo.js';
import { gemmExecution, type GemmExecution } from './dtypeRates.js';
import { decodeAttentionEfficiency, type LatencyEfficiency } from './efficiency.js';
import type { LatencyBand, LatencyModel, OperatorTime } from './model.js';
import type { LogSeries } from './profile/interpolate.js';
import type { GemmRole } from './profile/schema.js';
import type { ProfileTables } from './profile/tables.js';
import {
  allReduceLink,
  allReduceTime_s,
  beyondSeries,
  ELEMENTWISE_KERNELS_PER_LAYER,
  gemmShapeOf,
  gemmTime_s,
  OP_INDEX as I,
  OPS,
  TOKEN_TERMS,
  type GemmShape,
} from './rooflineTerms.js';

import { describe, type RooflineConfig } from './rooflineConfig.js';
export type { RooflineConfig } from './rooflineConfig.js';

/**
 * Iteration time as the sum of per-operator times: each operator is looked up in the profile's
 * measured tables where they cover its shape, else modelled by a roofline,
 * max(FLOPs ÷ (peak × efficiency), bytes ÷ (HBM bandwidth × efficiency)), per layer, times the
 * number of layers; plus tensor-parallel all-reduces, the LM head for emitting sequences, launch
 * overhead (CUDA graph replay, or eager dispatch that the GPU work may hide), and CPU work.
 */
export class RooflineLatencyModel implements LatencyModel {
  private readonly times = new Float64Array(OPS.length);
  /** 1 where this step's operator time came from a measured table. */
  private readonly measured = new Uint8Array(OPS.length);
  /** The terms set by the step's token count alone, and the LM head's, set by the emitting sequences alone. */
  private readonly tokenTerms = new CountMemo(TOKEN_TERMS);
  private readonly headTerms = new CountMemo([I.lm_head_sampler]);
  private readonly layers: number;
  private readonly graphSizes: GraphSizes;
  /** V0 replays graphs for pure-decode batches only. */
  private readonly decodeOnlyGraphs: boolean;
  // Per-GPU GEMM shapes of one layer.
  private readonly qkv: GemmShape;
  private readonly o: GemmShape;
  private readonly upGate: GemmShape;
  private readonly down: GemmShape;
  private readonly lmHead: GemmShape;
  /** Dense layers beside MoE ones and shared experts (DeepSeek, Llama 4) as [layers, up/gate, down]; empty for other models. */
  private readonly extraMlp: [number, GemmShape, GemmShape][] = [];
  private readonly shapes: ArchShapes;
  /** Mixture of experts: experts per layer (1 for a dense MLP) and experts each token is routed to. */
  private readonly experts: number;
  private readonly topK: number;
  private readonly router: GemmShape;
  private readonly weightBytes: number;
  private readonly activationBytes: number;
  private readonly gemmPeak: number;
  /** Quantized checkpoints keep the LM head in 16-bit: it runs at the bf16 rate (fp32 models: fp32). */
  private readonly lmHeadWeightBytes: number;
  private readonly lmHeadPeak: number;
  private readonly attentionPeak: number;
  private readonly hbm: number;
  private readonly headsPerGpu: number;
  private readonly kvBytesPerTokenPerLayer: number;
  private readonly elementwiseBytesPerToken: number;
  private readonly decodeAttentionBandwidth: number;
  private readonly allReduceBandwidth: number;
  private readonly allReduceLatency: number;
  private readonly prefillTable?: PrefillLookup;
  private readonly decodeTable?: DecodeLookup;
  private readonly elementwiseTable?: LogSeries;
  private readonly allReduceTable?: LogSeries;
  private readonly cpuMeasured: boolean;
  /** The step-time multiplier (a band re-run's edge, else 1), a double from the start: a small integer 1 deoptimised `fill` at the band's re-runs. */
  private readonly timeScale: number;
  readonly description: string;
  readonly uncertainty?: LatencyBand;

  get parameters(): LatencyEfficiency {
    return this.cfg.efficiency;
  }

  constructor(private readonly cfg: RooflineConfig) {
    const { arch, gpu, tensor_parallel: tp, efficiency: eff, tables } = cfg;
    this.uncertainty = cfg.uncertainty;
    this.timeScale = DOUBLE_ZERO + (cfg.time_scale ?? 1);
    this.layers = arch.num_hidden_layers;
    this.decodeOnlyGraphs = cfg.graphs === 'v0';
    this.graphSizes = new GraphSizes(captureSizes(cfg.cuda_graphs, cfg.graphs ?? 'v1', cfg.max_num_seqs));
    const h = arch.hidden_size;
    const s = (this.shapes = archShapes(arch, tp, bytesPerKvElement(cfg.kv_cache)));
    this.headsPerGpu = s.headsPerGpu;
    const kvHeadsPerGpu = s.kvHeadsPerGpu;
    const exec = gemmExecution(gpu, cfg.weights);
    const lmHeadDtype = cfg.weights === 'fp32' ? 'fp32' : cfg.weights === 'fp16' ? 'fp16' : 'bf16';
    const lmExec = gemmExecution(gpu, lmHeadDtype);
    this.hbm = gpu.hbm_bandwidth_bytes_per_s;
    this.weightBytes = bytesPerWeight(cfg.weights);
    this.activationBytes = exec.activation_bytes;
    this.gemmPeak = exec.peak_flops_per_s * eff.gemm_compute;
    this.lmHeadWeightBytes = bytesPerWeight(lmHeadDtype);
    this.lmHeadPeak = lmExec.peak_flops_per_s * eff.gemm_compute;
    const shape = (n: number, k: number, role: GemmRole | undefined, lmHead = false): GemmShape =>
      this.gemmShape(tables, lmHead ? lmExec.table_dtype : exec.table_dtype, n, k, role, lmHead);
    this.qkv = shape(s.qkv.n, s.qkv.k, 'qkv');
    this.o = shape(s.o.n, s.o.k, 'o');
    const inter = s.down.k;
    this.upGate = shape(s.upGate.n, h, 'up');
    this.down = shape(h, inter, 'down');
    if (s.denseUpGate && s.denseDown) this.extraMlp.push([s.denseLayers, shape(s.denseUpGate.n, h, 'up'), shape(h, s.denseDown.k, 'down')]);
    if (s.sharedUpGate && s.sharedDown) this.extraMlp.push([s.sparseLayers, shape(s.sharedUpGate.n, h, 'up'), shape(h, s.sharedDown.k, 'down')]);
    this.lmHead = shape(arch.vocab_size / tp, h, 'lm_head', true);
    this.experts = arch.num_local_experts ?? 1;
    this.topK = this.experts > 1 ? (arch.num_experts_per_tok ?? 1) : 1;
    this.router = shape(this.experts, h, undefined, true);
    this.attentionPeak = gpu.tensor_flops_per_s.bf16 * eff.attention_prefill_compute;
    const kvBytes = bytesPerKvElement(cfg.kv_cache);
    this.kvBytesPerTokenPerLayer = s.kvBytesPerTokenPerLayer;
    const ab = this.activationBytes;
    // Fused residual-add + RMSNorm twice (read x and residual, write both), rotary on q and k,
    // SiLU-and-mul (read 2·I, write I), and the KV-cache write.
    this.elementwiseBytesPerToken =
      2 * 4 * h * ab + 2 * (this.headsPerGpu + kvHeadsPerGpu) * arch.head_dim * ab + this.topK * (arch.gated_mlp ? 3 : 2) * inter * ab + this.kvBytesPerTokenPerLayer;
    this.decodeAttentionBandwidth = this.hbm * decodeAttentionEfficiency(eff, cfg.block_size);
    const link = allReduceLink(gpu, tp, eff);
    this.allReduceBandwidth = link.bandwidth_bytes_per_s;
    this.allReduceLatency = link.latency_s;
    const attentionShape: AttentionShape = {
      heads: this.headsPerGpu, kvHeads: kvHeadsPerGpu, headDim: arch.head_dim, blockSize: cfg.block_size, kvBytes, kvBytesPerTokenPerLayer: s.kvBytesPerTokenPerLayer,
      decodeAttentionBandwidth: this.decodeAttentionBandwidth, attentionKernelFloor_s: eff.attention_kernel_floor_s, prefillRoofline: (pairs, context) => this.prefillRoofline(pairs, context),
    };
    const attention = tables && s.attentionTablesApply ? attentionLookups(tables, lmExec.table_dtype, attentionShape) : {};
    this.prefillTable = attention.prefill;
    this.decodeTable = attention.decode;
    this.elementwiseTable = tables?.elementwiseSeries();
    if (tp > 1) this.allReduceTable = tables?.allReduceSeries(tp, link.link);
    this.cpuMeasured = cfg.cpu_measured ?? false;

    this.description = describe(cfg, exec.mode, this.experts, this.topK);
  }

  /** A GEMM's weight shape with the profile's series over m for it (the bf16/fp16 twin's when its own dtype has none). */
  private gemmShape(tables: ProfileTables | undefined, dtype: GemmExecution['table_dtype'], n: number, k: number, role: GemmRole | undefined, lmHead: boolean): GemmShape {
    const [wb, peak] = lmHead ? [this.lmHeadWeightBytes, this.lmHeadPeak] : [this.weightBytes, this.gemmPeak];
    return gemmShapeOf(tables, dtype, n, k, role, (m, rn, rk) => this.rooflineGemm(m, { n: rn, k: rk }, wb, peak));
  }

  iterationTime_s(batch: BatchShape): number {
    const decode = this.decodeStepTotal(batch);
    if (decode >= 0) return decode;
    this.fill(batch);
    let total = 0;
    for (let i = 0; i < OPS.length; i++) total += this.times[i];
    return total;
  }

  /**
   * A pure-decode step replayed from a CUDA graph whose count-set terms are kept (most steps): the same sum, term by term in OPS
   * order, as `fill` and the loop above (the terms `fill` leaves 0 add nothing), without the per-operator arrays; −1 for other steps.
   */
  private decodeStepTotal(batch: BatchShape): number {
    const tokens = batch.decode_tokens;
    if (batch.prefill_seqs !== 0 || batch.prefill_tokens !== 0 || !(batch.decode_seqs > 0) || !(tokens > 0)) return -1;
    const m = this.graphSizes.padded(tokens);
    const e = batch.emitting_seqs;
    const terms = this.tokenTerms;
    // An infinite scale: `fill` multiplies the zero terms too (NaN), which this sum skips.
    const scale = this.timeScale;
    if (!(m > 0) || !terms.has(m) || !(e > 0) || !this.headTerms.has(e) || !(scale < Infinity)) return -1;
    const eff = this.cfg.efficiency;
    let total = 0;
    total += terms.keptTime(m, 0) * scale;
    total += this.decodeAttention(batch) * scale;
    // o_proj, mlp_up_gate, mlp_down, norms_rope_activation, tp_all_reduce: OPS's order, and tokenTerms'.
    for (let k = 1; k < TOKEN_TERMS.length; k++) total += terms.keptTime(m, k) * scale;
    total += this.headTerms.keptTime(e, 0) * scale;
    total += eff.graph_replay_s * scale;
    total += (eff.cpu_step_s + eff.cpu_per_seq_s * batch.decode_seqs) * scale;
    return total;
  }

  breakdown(batch: BatchShape): OperatorTime[] {
    this.fill(batch);
    const measuredSource = this.cfg.tables?.measured ?? false;
    const source = (i: number): OperatorTime['source'] => (measuredSource && this.measured[i] === 1 ? 'measured' : 'modelled');
    return OPS.map((name, i) => ({ name, time_s: this.times[i], source: source(i) }));
  }

  /** Modelled prefill attention of one layer: causal query-key pairs at the attention peak, or the KV read, plus a kernel floor. */
  private prefillRoofline(pairs: number, contextTokens: number): number {
    const eff = this.cfg.efficiency;
    const flops = this.shapes.attentionFlopsPerPair * pairs;
    const bytes = contextTokens * this.kvBytesPerTokenPerLayer;
    return Math.max(flops / this.attentionPeak, bytes / (this.hbm * eff.gemm_memory)) + eff.attention_kernel_floor_s;
  }

  /** Modelled time of one elementwise kernel moving `bytes` (an arrow property, made once: the step loop passes it to beyondSeries without allocating). */
  private readonly elementwiseKernel = (bytes: number): number =>
    this.cfg.efficiency.elementwise_kernel_floor_s + bytes / (this.hbm * this.cfg.efficiency.elementwise_memory);
  /** Modelled time of one TP all-reduce of `bytes` per GPU. */
  private readonly allReduce = (bytes: number): number => allReduceTime_s(bytes, this.cfg.tensor_parallel, this.allReduceBandwidth, this.allReduceLatency);

  private rooflineGemm(m: number, { n, k }: GemmShape, weightBytes: number, peak: number): number {
    const eff = this.cfg.efficiency;
    return gemmTime_s(m, n, k, weightBytes, this.activationBytes, peak, this.hbm * eff.gemm_memory, eff.gemm_kernel_floor_s);
  }

  /**
   * One GEMM, from the profile's series when it covers m (marking `op` measured), else the
   * roofline; beyond the series' range the roofline is scaled to meet the table at its edge, so
   * the time stays continuous where the table ends.
   */
  private gemm(op: number, m: number, shape: GemmShape, weightBytes = this.weightBytes, peak = this.gemmPeak): number {
    const series = shape.series;
    if (series === undefined) return this.rooflineGemm(m, shape, weightBytes, peak);
    const t = series.at(m);
    if (t > 0) {
      if (shape.measured) this.measured[op] = 1;
      return t;
    }
    return beyondSeries(series, m, (x) => this.rooflineGemm(x, shape, weightBytes, peak));
  }

  /**
   * A fused MoE GEMM (vLLM's fused_moe, every expert sharded by TP): `m` tokens each routed to
   * top-k experts give m·k token-expert rows of compute, and each expert hit is read once. With
   * uniform routing the expected number of distinct experts hit is E · (1 − (1 − k/E)^m): one
   * decode token reads k experts' weights, a large batch reads them all. From a table: the
   * experts hit, each a GEMM of its share of the rows.
   */
  private expertGemm(op: number, m: number, shape: GemmShape): number {
    const eff = this.cfg.efficiency;
    const rows = m * this.topK;
    const hit = this.experts * (1 - Math.pow(1 - this.topK / this.experts, m));
    const series = shape.series;
    if (series) {
      const perExpert = series.at(rows / hit);
      if (perExpert > 0 && shape.measured) this.measured[op] = 1;
      if (perExpert > 0) return hit * perExpert;
      return hit * beyondSeries(series, rows / hit, (x) => this.rooflineGemm(x, shape, this.weightBytes, this.gemmPeak));
    }
    const flops = 2 * rows * shape.n * shape.k;
    const bytes = hit * shape.n * shape.k * this.weightBytes + rows * (shape.k + shape.n) * this.activationBytes;
    return eff.gemm_kernel_floor_s + Math.max(flops / this.gemmPeak, bytes / (this.hbm * eff.gemm_memory));
  }

  private fill(batch: BatchShape): void {
    const eff = this.cfg.efficiency;
    const t = this.times;
    const L = this.layers;
    const tokens = batch.prefill_tokens + batch.decode_tokens;
    const seqs = batch.prefill_seqs + batch.decode_seqs;
    // A loop: TypedArray.fill's call cost more than clearing eleven slots, once a step.
    for (let i = 0; i < t.length; i++) t[i] = this.measured[i] = 0;
    if (tokens === 0) return;
    const graphSize = this.decodeOnlyGraphs && batch.prefill_seqs > 0 ? 0 : this.graphSizes.padded(tokens);
    // A captured graph runs at its captured batch size: padding slots cost GEMM and elementwise time.
    const m = graphSize > 0 ? graphSize : tokens;

    if (!this.tokenTerms.restore(m, t, this.measured)) {
      this.fillLayerGemms(m);
      this.fillElementwise(m);
      if (this.cfg.tensor_parallel > 1) this.fillAllReduce(m);
      this.tokenTerms.save(m, t, this.measured);
    }
    if (batch.prefill_seqs > 0) this.fillPrefillAttention(batch);
    if (batch.decode_seqs > 0) this.times[I.attention_decode] = this.decodeAttention(batch);
    const e = batch.emitting_seqs;
    if (e > 0 && !this.headTerms.restore(e, t, this.measured)) {
      // Logits in fp32, written then read by the sampler.
      t[I.lm_head_sampler] = this.gemm(I.lm_head_sampler, e, this.lmHead, this.lmHeadWeightBytes, this.lmHeadPeak) + (e * this.lmHead.n * 4 * 2) / (this.hbm * eff.elementwise_memory);
      this.headTerms.save(e, t, this.measured);
    }

    if (graphSize > 0) {
      t[I.launch_overhead] = eff.graph_replay_s;
    } else {
      // Eager: the host dispatches kernels while the GPU runs earlier ones, so dispatch only
      // costs time when it is slower than the GPU work it feeds.
      let gpuTime = 0;
      for (let i = 0; i < I.launch_overhead; i++) gpuTime += t[i];
      const dispatch = L * eff.kernels_per_layer * eff.eager_dispatch_per_kernel_s;
      t[I.launch_overhead] = Math.max(0, dispatch - gpuTime);
    }
    t[I.cpu_overhead] = eff.cpu_step_s + eff.cpu_per_seq_s * seqs;
    if (this.cpuMeasured) this.measured[I.cpu_overhead] = 1;
    const scale = this.timeScale;
    // ×1 leaves every double as it was; a loop the main run never entered deoptimised this at the first band re-run.
    for (let i = 0; i < OPS.length; i++) t[i] *= scale;
  }

  /** The per-layer projection and MLP GEMMs, times the layers, for `m` tokens (padded to the graph size). */
  private fillLayerGemms(m: number): void {
    const t = this.times;
    const L = this.layers;
    t[I.qkv_proj] = L * this.gemm(I.qkv_proj, m, this.qkv);
    t[I.o_proj] = L * this.gemm(I.o_proj, m, this.o);
    if (this.experts > 1) {
      // The router's logits are a small 16-bit GEMM; it is charged to mlp_up_gate.
      const router = this.gemm(I.mlp_up_gate, m, this.router, 2, this.lmHeadPeak);
      const routerMeasured = this.measured[I.mlp_up_gate];
      this.measured[I.mlp_up_gate] = 0;
      const Ls = this.shapes.sparseLayers;
      t[I.mlp_up_gate] = Ls * (router + this.expertGemm(I.mlp_up_gate, m, this.upGate));
      // Measured only when both parts were.
      this.measured[I.mlp_up_gate] &= routerMeasured;
      t[I.mlp_down] = Ls * this.expertGemm(I.mlp_down, m, this.down);
      this.fillDenseAndSharedMlp(m);
    } else {
      t[I.mlp_up_gate] = L * this.gemm(I.mlp_up_gate, m, this.upGate);
      t[I.mlp_down] = L * this.gemm(I.mlp_down, m, this.down);
    }
  }

  /** The dense layers of a mixed model and the shared experts of its MoE layers: dense GEMMs over every token. */
  private fillDenseAndSharedMlp(m: number): void {
    for (const [layers, up, down] of this.extraMlp) {
      this.times[I.mlp_up_gate] += layers * this.gemm(I.mlp_up_gate, m, up);
      this.times[I.mlp_down] += layers * this.gemm(I.mlp_down, m, down);
    }
  }

  /** Norms, rotary, the activation and the KV-cache write: bandwidth-bound kernels over `m` tokens. */
  private fillElementwise(m: number): void {
    const t = this.times;
    const L = this.layers;
    const elementwiseBytes = m * this.elementwiseBytesPerToken;
    const ew = this.elementwiseTable;
    if (ew) {
      const perKernelBytes = elementwiseBytes / ELEMENTWISE_KERNELS_PER_LAYER;
      const looked = ew.at(perKernelBytes);
      if (looked > 0) this.measured[I.norms_rope_activation] = 1;
      const perKernel = looked > 0 ? looked : beyondSeries(ew, perKernelBytes, this.elementwiseKernel);
      t[I.norms_rope_activation] = L * ELEMENTWISE_KERNELS_PER_LAYER * perKernel;
    } else {
      t[I.norms_rope_activation] = L * ELEMENTWISE_KERNELS_PER_LAYER * this.elementwiseKernel(elementwiseBytes / ELEMENTWISE_KERNELS_PER_LAYER);
    }
  }

  private fillPrefillAttention(batch: BatchShape): void {
    const L = this.shapes.fullLayers;
    const q = batch.prefill_tokens / batch.prefill_seqs;
    const context = batch.prefill_context_tokens / batch.prefill_seqs;
    if (this.prefillTable) {
      const looked = this.prefillTable(q, context, batch.prefill_attention_pairs);
      this.times[I.attention_prefill] = L * looked.time_s;
      if (looked.measured) this.measured[I.attention_prefill] = 1;
    } else {
      this.times[I.attention_prefill] = L * this.prefillRoofline(batch.prefill_attention_pairs, batch.prefill_context_tokens);
    }
    if (this.shapes.windowedLayers > 0) this.times[I.attention_prefill] += this.shapes.windowedLayers * this.windowedPrefillLayer(batch);
  }

  /** One windowed layer's prefill attention: the pairs and KV inside the window (archShapes.ts). */
  private windowedPrefillLayer(batch: BatchShape): number {
    const w = windowedPrefill(batch, this.shapes);
    if (!this.prefillTable) return this.prefillRoofline(w.pairs, w.context);
    const looked = this.prefillTable(batch.prefill_tokens / batch.prefill_seqs, w.context / batch.prefill_seqs, w.pairs);
    if (looked.measured) this.measured[I.attention_prefill] = 1;
    return looked.time_s;
  }

  private decodeAttention(batch: BatchShape): number {
    let time_s = this.shapes.fullLayers * this.decodeLayer(batch.decode_seqs, batch.decode_context_tokens);
    if (this.shapes.windowedLayers > 0) time_s += this.shapes.windowedLayers * this.decodeLayer(batch.decode_seqs, windowedDecodeContext(batch, this.shapes));
    return time_s;
  }

  /** One layer's decode attention over `context` KV tokens in all (a windowed layer: those inside its window). */
  private decodeLayer(seqs: number, context: number): number {
    if (this.decodeTable) {
      const looked = this.decodeTable(seqs, context / seqs);
      if (looked.measured) this.measured[I.attention_decode] = 1;
      return looked.time_s;
    }
    const bytes = context * this.kvBytesPerTokenPerLayer;
    return bytes / this.decodeAttentionBandwidth + this.cfg.efficiency.attention_kernel_floor_s;
  }

  /** Two TP all-reduces per layer of the `m` tokens' hidden states. */
  private fillAllReduce(m: number): void {
    const bytes = m * this.cfg.arch.hidden_size * this.activationBytes;
    const table = this.allReduceTable;
    let one: number;
    if (table) {
      const looked = table.at(bytes);
      if (looked > 0) this.measured[I.tp_all_reduce] = 1;
      one = looked > 0 ? looked : beyondSeries(table, bytes, this.allReduce);
    } else {
      one = this.allReduce(bytes);
    }
    this.times[I.tp_all_reduce] = 2 * this.layers * one;
  }
}
