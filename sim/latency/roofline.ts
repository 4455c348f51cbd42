import type { GpuSpec } from '../hardware/gpu.js';
import type { ModelArchitecture } from '../model/architecture.js';
import type { KvDtype, WeightDtype } from '../scenario/types.js';
import { bytesPerKvElement, bytesPerWeight } from '../model/derived.js';
import type { BatchShape } from './batch.js';
import { cudaGraphCaptureSizes, paddedGraphSize } from './cudaGraphs.js';
import { gemmExecution } from './dtypeRates.js';
import { decodeAttentionEfficiency, type LatencyEfficiency } from './efficiency.js';
import type { LatencyModel, OperatorTime } from './model.js';

export interface RooflineConfig {
  arch: ModelArchitecture;
  gpu: GpuSpec;
  tensor_parallel: number;
  weights: WeightDtype;
  kv_cache: KvDtype;
  block_size: number;
  cuda_graphs: boolean;
  max_num_seqs: number;
  efficiency: LatencyEfficiency;
  /** Every operator time is multiplied by this (1 by default): runs at an uncertainty band's edges use it. */
  time_scale?: number;
}

/**
 * One GEMM [m × k] · [k × n]: a fixed kernel floor plus the larger of its compute time and its
 * memory time (weights once, activations in and out). Peak and bandwidth are already derated.
 */
export function gemmTime_s(
  m: number,
  n: number,
  k: number,
  weight_bytes: number,
  activation_bytes: number,
  achieved_flops_per_s: number,
  achieved_bytes_per_s: number,
  floor_s: number,
): number {
  const flops = 2 * m * n * k;
  const bytes = n * k * weight_bytes + (m * k + m * n) * activation_bytes;
  return floor_s + Math.max(flops / achieved_flops_per_s, bytes / achieved_bytes_per_s);
}

/** Operator slots, in the order breakdowns are reported. */
const OPS = [
  'qkv_proj',
  'attention_prefill',
  'attention_decode',
  'o_proj',
  'mlp_up_gate',
  'mlp_down',
  'norms_rope_activation',
  'tp_all_reduce',
  'lm_head_sampler',
  'launch_overhead',
  'cpu_overhead',
] as const;
type Op = (typeof OPS)[number];
const I: Record<Op, number> = Object.fromEntries(OPS.map((name, i) => [name, i])) as Record<Op, number>;

/**
 * Iteration time as the sum of per-operator rooflines: each operator takes
 * max(FLOPs ÷ (peak × efficiency), bytes ÷ (HBM bandwidth × efficiency)), per layer, times the
 * number of layers, plus tensor-parallel all-reduces, the LM head for emitting sequences, launch
 * overhead (CUDA graph replay, or eager dispatch that the GPU work may hide), and CPU work.
 */
export class RooflineLatencyModel implements LatencyModel {
  private readonly times = new Float64Array(OPS.length);
  private readonly layers: number;
  private readonly captureSizes: number[];
  // Per-GPU GEMM shapes (N, K) of one layer.
  private readonly qkv: [number, number];
  private readonly o: [number, number];
  private readonly upGate: [number, number];
  private readonly down: [number, number];
  private readonly lmHead: [number, number];
  /** Mixture of experts: experts per layer (1 for a dense MLP) and experts each token is routed to. */
  private readonly experts: number;
  private readonly topK: number;
  private readonly router: [number, number];
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
  readonly description: string;

  constructor(private readonly cfg: RooflineConfig) {
    const { arch, gpu, tensor_parallel: tp, efficiency: eff } = cfg;
    this.layers = arch.num_hidden_layers;
    this.captureSizes = cfg.cuda_graphs ? cudaGraphCaptureSizes(cfg.max_num_seqs) : [];
    const h = arch.hidden_size;
    const d = arch.head_dim;
    this.headsPerGpu = arch.num_attention_heads / tp;
    const kvHeadsPerGpu = Math.max(1, arch.num_key_value_heads / tp);
    this.qkv = [((arch.num_attention_heads + 2 * arch.num_key_value_heads) * d) / tp, h];
    this.o = [h, (arch.num_attention_heads * d) / tp];
    const inter = arch.intermediate_size / tp;
    this.upGate = [(arch.gated_mlp ? 2 : 1) * inter, h];
    this.down = [h, inter];
    this.lmHead = [arch.vocab_size / tp, h];
    this.experts = arch.num_local_experts ?? 1;
    this.topK = this.experts > 1 ? (arch.num_experts_per_tok ?? 1) : 1;
    this.router = [this.experts, h];
    const exec = gemmExecution(gpu, cfg.weights);
    this.weightBytes = bytesPerWeight(cfg.weights);
    this.activationBytes = exec.activation_bytes;
    this.gemmPeak = exec.peak_flops_per_s * eff.gemm_compute;
    const lmHeadDtype = cfg.weights === 'fp32' ? 'fp32' : cfg.weights === 'fp16' ? 'fp16' : 'bf16';
    this.lmHeadWeightBytes = bytesPerWeight(lmHeadDtype);
    this.lmHeadPeak = gemmExecution(gpu, lmHeadDtype).peak_flops_per_s * eff.gemm_compute;
    this.attentionPeak = gpu.tensor_flops_per_s.bf16 * eff.attention_prefill_compute;
    this.hbm = gpu.hbm_bandwidth_bytes_per_s;
    const kvBytes = bytesPerKvElement(cfg.kv_cache);
    this.kvBytesPerTokenPerLayer = 2 * kvHeadsPerGpu * d * kvBytes;
    const ab = this.activationBytes;
    // Fused residual-add + RMSNorm twice (read x and residual, write both), rotary on q and k,
    // SiLU-and-mul (read 2·I, write I), and the KV-cache write.
    this.elementwiseBytesPerToken =
      2 * 4 * h * ab +
      2 * (this.headsPerGpu + kvHeadsPerGpu) * d * ab +
      this.topK * (arch.gated_mlp ? 3 : 2) * inter * ab +
      this.kvBytesPerTokenPerLayer;
    this.decodeAttentionBandwidth = this.hbm * decodeAttentionEfficiency(eff, cfg.block_size);
    const nvlink = gpu.nvlink_bandwidth_bytes_per_s > 0 && tp <= gpu.nvlink_group_size;
    const linkOneDirection = (nvlink ? gpu.nvlink_bandwidth_bytes_per_s : gpu.pcie_bandwidth_bytes_per_s) / 2;
    this.allReduceBandwidth = linkOneDirection * eff.all_reduce_link;
    this.allReduceLatency = nvlink ? eff.all_reduce_latency_nvlink_s : eff.all_reduce_latency_pcie_s;
    this.description =
      `roofline: ${gpu.name}, TP${tp}, weights ${exec.mode}, kv ${cfg.kv_cache}, ` +
      (this.experts > 1 ? `MoE top-${this.topK} of ${this.experts}, ` : '') +
      `block ${cfg.block_size}, CUDA graphs ${cfg.cuda_graphs ? 'on' : 'off'}`;
  }

  iterationTime_s(batch: BatchShape): number {
    this.fill(batch);
    let total = 0;
    for (let i = 0; i < OPS.length; i++) total += this.times[i];
    return total;
  }

  breakdown(batch: BatchShape): OperatorTime[] {
    this.fill(batch);
    return OPS.map((name, i) => ({ name, time_s: this.times[i], source: 'modelled' as const }));
  }

  private gemm(m: number, [n, k]: [number, number], weightBytes = this.weightBytes, peak = this.gemmPeak): number {
    const eff = this.cfg.efficiency;
    return gemmTime_s(m, n, k, weightBytes, this.activationBytes, peak, this.hbm * eff.gemm_memory, eff.gemm_kernel_floor_s);
  }

  /**
   * A fused MoE GEMM (vLLM's fused_moe, every expert sharded by TP): `m` tokens each routed to
   * top-k experts give m·k token-expert rows of compute, and each expert hit is read once. With
   * uniform routing the expected number of distinct experts hit is E · (1 − (1 − k/E)^m): one
   * decode token reads k experts' weights, a large batch reads them all.
   */
  private expertGemm(m: number, [n, k]: [number, number]): number {
    const eff = this.cfg.efficiency;
    const rows = m * this.topK;
    const hit = this.experts * (1 - Math.pow(1 - this.topK / this.experts, m));
    const flops = 2 * rows * n * k;
    const bytes = hit * n * k * this.weightBytes + rows * (k + n) * this.activationBytes;
    return eff.gemm_kernel_floor_s + Math.max(flops / this.gemmPeak, bytes / (this.hbm * eff.gemm_memory));
  }

  private fill(batch: BatchShape): void {
    const eff = this.cfg.efficiency;
    const t = this.times;
    const L = this.layers;
    const tokens = batch.prefill_tokens + batch.decode_tokens;
    const seqs = batch.prefill_seqs + batch.decode_seqs;
    t.fill(0);
    if (tokens === 0) return;
    const graphSize = paddedGraphSize(this.captureSizes, tokens);
    // A captured graph runs at its captured batch size: padding slots cost GEMM and elementwise time.
    const m = graphSize > 0 ? graphSize : tokens;

    t[I.qkv_proj] = L * this.gemm(m, this.qkv);
    t[I.o_proj] = L * this.gemm(m, this.o);
    if (this.experts > 1) {
      // The router's logits are a small 16-bit GEMM; it is charged to mlp_up_gate.
      t[I.mlp_up_gate] = L * (this.gemm(m, this.router, 2) + this.expertGemm(m, this.upGate));
      t[I.mlp_down] = L * this.expertGemm(m, this.down);
    } else {
      t[I.mlp_up_gate] = L * this.gemm(m, this.upGate);
      t[I.mlp_down] = L * this.gemm(m, this.down);
    }
    t[I.norms_rope_activation] = (L * m * this.elementwiseBytesPerToken) / (this.hbm * eff.elementwise_memory);

    if (batch.prefill_seqs > 0) {
      const flops = 4 * this.headsPerGpu * this.cfg.arch.head_dim * batch.prefill_attention_pairs;
      const bytes = batch.prefill_context_tokens * this.kvBytesPerTokenPerLayer;
      const perLayer = Math.max(flops / this.attentionPeak, bytes / (this.hbm * eff.gemm_memory));
      t[I.attention_prefill] = L * (perLayer + eff.attention_kernel_floor_s);
    }
    if (batch.decode_seqs > 0) {
      const bytes = batch.decode_context_tokens * this.kvBytesPerTokenPerLayer;
      t[I.attention_decode] = L * (bytes / this.decodeAttentionBandwidth + eff.attention_kernel_floor_s);
    }

    const tp = this.cfg.tensor_parallel;
    if (tp > 1) {
      const bytes = m * this.cfg.arch.hidden_size * this.activationBytes;
      const one = this.allReduceLatency + ((2 * (tp - 1)) / tp) * (bytes / this.allReduceBandwidth);
      t[I.tp_all_reduce] = 2 * L * one;
    }

    if (batch.emitting_seqs > 0) {
      // Logits in fp32, written then read by the sampler.
      const samplerBytes = batch.emitting_seqs * this.lmHead[0] * 4 * 2;
      t[I.lm_head_sampler] =
        this.gemm(batch.emitting_seqs, this.lmHead, this.lmHeadWeightBytes, this.lmHeadPeak) + samplerBytes / (this.hbm * eff.elementwise_memory);
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
    const scale = this.cfg.time_scale ?? 1;
    if (scale !== 1) for (let i = 0; i < OPS.length; i++) t[i] *= scale;
  }
}
