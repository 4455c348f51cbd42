import type { GpuSpec } from '../hardware/gpu.js';
import type { ModelArchitecture } from '../model/architecture.js';
import type { KvDtype, WeightDtype } from '../scenario/types.js';
import { bytesPerKvElement, bytesPerWeight } from '../model/derived.js';
import type { BatchShape } from './batch.js';
import { cudaGraphCaptureSizes, paddedGraphSize } from './cudaGraphs.js';
import { gemmExecution, type GemmExecution } from './dtypeRates.js';
import { decodeAttentionEfficiency, type LatencyEfficiency } from './efficiency.js';
import type { LatencyBand, LatencyModel, OperatorTime } from './model.js';
import type { LogSeries } from './profile/interpolate.js';
import type { GemmRole } from './profile/schema.js';
import type { ProfileTables, TimedLookup } from './profile/tables.js';

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
  /** Measured operator tables; operators they cover are looked up instead of modelled. */
  tables?: ProfileTables;
  /** The CPU terms (cpu_step_s, cpu_per_seq_s in the efficiency) were measured, not modelled. */
  cpu_measured?: boolean;
  /** The profile's name or path, for the description. */
  profile_ref?: string;
  /** The model's error band, from the profile (carried through for the engine's summary). */
  uncertainty?: LatencyBand;
}

/** A GEMM weight shape [N, K] with its measured time over M, when the profile has one. */
interface GemmShape {
  n: number;
  k: number;
  series?: LogSeries;
  /** False when the series is extrapolated across weight shapes beyond the measured ones. */
  measured?: boolean;
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

/** A ring all-reduce of `bytes` per GPU over `tp` GPUs: a fixed latency plus 2(tp−1)/tp of the data over one link direction. */
export function allReduceTime_s(bytes: number, tp: number, achieved_bytes_per_s: number, latency_s: number): number {
  return latency_s + ((2 * (tp - 1)) / tp) * (bytes / achieved_bytes_per_s);
}

/** The link an all-reduce over `tp` GPUs runs on, and its achieved one-direction bandwidth and latency. */
export function allReduceLink(gpu: GpuSpec, tp: number, eff: LatencyEfficiency): { link: 'nvlink' | 'pcie'; bandwidth_bytes_per_s: number; latency_s: number } {
  const nvlink = gpu.nvlink_bandwidth_bytes_per_s > 0 && tp <= gpu.nvlink_group_size;
  const oneDirection = (nvlink ? gpu.nvlink_bandwidth_bytes_per_s : gpu.pcie_bandwidth_bytes_per_s) / 2;
  return {
    link: nvlink ? 'nvlink' : 'pcie',
    bandwidth_bytes_per_s: oneDirection * eff.all_reduce_link,
    latency_s: nvlink ? eff.all_reduce_latency_nvlink_s : eff.all_reduce_latency_pcie_s,
  };
}

/**
 * A time outside a measured series' range: the roofline, scaled to meet the series at its nearest
 * edge so the time stays continuous where the table ends.
 */
export function beyondSeries(series: LogSeries, x: number, roofline: (x: number) => number): number {
  const edge = x > series.maxX ? series.maxX : series.minX;
  return (series.at(edge) * roofline(x)) / roofline(edge);
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

/** Elementwise kernels per layer the profile's bandwidth curve is applied to: two fused add+norms, rotary, the activation, the KV-cache write. */
const ELEMENTWISE_KERNELS_PER_LAYER = 5;

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
  private readonly layers: number;
  private readonly captureSizes: number[];
  // Per-GPU GEMM shapes of one layer.
  private readonly qkv: GemmShape;
  private readonly o: GemmShape;
  private readonly upGate: GemmShape;
  private readonly down: GemmShape;
  private readonly lmHead: GemmShape;
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
  private readonly prefillTable?: (q: number, context: number, pairs: number) => TimedLookup;
  private readonly decodeTable?: (seqs: number, context: number) => TimedLookup;
  private readonly elementwiseTable?: LogSeries;
  private readonly allReduceTable?: LogSeries;
  private readonly cpuMeasured: boolean;
  readonly description: string;
  readonly uncertainty?: LatencyBand;

  get parameters(): LatencyEfficiency {
    return this.cfg.efficiency;
  }

  constructor(private readonly cfg: RooflineConfig) {
    const { arch, gpu, tensor_parallel: tp, efficiency: eff, tables } = cfg;
    this.uncertainty = cfg.uncertainty;
    this.layers = arch.num_hidden_layers;
    this.captureSizes = cfg.cuda_graphs ? cudaGraphCaptureSizes(cfg.max_num_seqs) : [];
    const h = arch.hidden_size;
    const d = arch.head_dim;
    this.headsPerGpu = arch.num_attention_heads / tp;
    const kvHeadsPerGpu = Math.max(1, arch.num_key_value_heads / tp);
    const exec = gemmExecution(gpu, cfg.weights);
    const lmHeadDtype = cfg.weights === 'fp32' ? 'fp32' : cfg.weights === 'fp16' ? 'fp16' : 'bf16';
    const lmExec = gemmExecution(gpu, lmHeadDtype);
    // bf16 and fp16 run at one tensor rate on every catalog GPU: either table stands in for the other.
    const twin = (dtype: GemmExecution['table_dtype']) => (dtype === 'bf16' ? 'fp16' : dtype === 'fp16' ? 'bf16' : undefined);
    this.hbm = gpu.hbm_bandwidth_bytes_per_s;
    this.weightBytes = bytesPerWeight(cfg.weights);
    this.activationBytes = exec.activation_bytes;
    this.gemmPeak = exec.peak_flops_per_s * eff.gemm_compute;
    this.lmHeadWeightBytes = bytesPerWeight(lmHeadDtype);
    this.lmHeadPeak = lmExec.peak_flops_per_s * eff.gemm_compute;
    const shape = (n: number, k: number, role: GemmRole | undefined, lmHead = false): GemmShape => {
      const dtype = lmHead ? lmExec.table_dtype : exec.table_dtype;
      if (!tables || dtype === undefined) return { n, k };
      const [wb, peak] = lmHead ? [this.lmHeadWeightBytes, this.lmHeadPeak] : [this.weightBytes, this.gemmPeak];
      const roofline = (m: number, rn: number, rk: number): number => this.rooflineGemm(m, { n: rn, k: rk }, wb, peak);
      const found = tables.gemmSeries(dtype, n, k, role, roofline) ?? (twin(dtype) ? tables.gemmSeries(twin(dtype)!, n, k, role, roofline) : undefined);
      return found ? { n, k, series: found.series, measured: found.measured } : { n, k };
    };
    this.qkv = shape(((arch.num_attention_heads + 2 * arch.num_key_value_heads) * d) / tp, h, 'qkv');
    this.o = shape(h, (arch.num_attention_heads * d) / tp, 'o');
    const inter = arch.intermediate_size / tp;
    this.upGate = shape((arch.gated_mlp ? 2 : 1) * inter, h, 'up');
    this.down = shape(h, inter, 'down');
    this.lmHead = shape(arch.vocab_size / tp, h, 'lm_head', true);
    this.experts = arch.num_local_experts ?? 1;
    this.topK = this.experts > 1 ? (arch.num_experts_per_tok ?? 1) : 1;
    this.router = shape(this.experts, h, undefined, true);
    this.attentionPeak = gpu.tensor_flops_per_s.bf16 * eff.attention_prefill_compute;
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
    const link = allReduceLink(gpu, tp, eff);
    this.allReduceBandwidth = link.bandwidth_bytes_per_s;
    this.allReduceLatency = link.latency_s;

    const attnDtype = lmExec.table_dtype;
    if (tables && attnDtype) {
      const heads = this.headsPerGpu;
      const prefillRoofline = (q: number, context: number): number => this.prefillRoofline(q * (context - q + (q + 1) / 2), context);
      // Tables are measured with a 16-bit cache; the roofline here reads that cache too.
      const kv16 = this.kvBytesPerTokenPerLayer * (2 / kvBytes);
      const decodeRoofline = (seqs: number, context: number): number =>
        (seqs * context * kv16) / this.decodeAttentionBandwidth + eff.attention_kernel_floor_s;
      this.prefillTable =
        tables.prefillAttention(attnDtype, heads, kvHeadsPerGpu, d, prefillRoofline) ?? tables.prefillAttention(twin(attnDtype)!, heads, kvHeadsPerGpu, d, prefillRoofline);
      const decode =
        tables.decodeAttention(attnDtype, heads, kvHeadsPerGpu, d, cfg.block_size, decodeRoofline) ??
        tables.decodeAttention(twin(attnDtype)!, heads, kvHeadsPerGpu, d, cfg.block_size, decodeRoofline);
      // An fp8 cache reads half the bytes of the 16-bit cache the table was measured with.
      const kvScale = kvBytes / 2;
      if (decode) {
        this.decodeTable =
          kvScale === 1
            ? decode
            : (seqs, context) => {
                const r = decode(seqs, context);
                return { time_s: r.time_s * kvScale, measured: r.measured };
              };
      }
    }
    this.elementwiseTable = tables?.elementwiseSeries();
    if (tp > 1) this.allReduceTable = tables?.allReduceSeries(tp, link.link);
    this.cpuMeasured = cfg.cpu_measured ?? false;

    const covered = tables ? ` + ${tables.measured ? 'measured' : 'tabulated'} tables where they cover a shape` : '';
    this.description =
      `${cfg.profile_ref ? `profile ${cfg.profile_ref}: ` : ''}roofline${covered}; ${gpu.name}, TP${tp}, weights ${exec.mode}, kv ${cfg.kv_cache}, ` +
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
    const measuredSource = this.cfg.tables?.measured ?? false;
    return OPS.map((name, i) => ({
      name,
      time_s: this.times[i],
      source: measuredSource && this.measured[i] === 1 ? ('measured' as const) : ('modelled' as const),
    }));
  }

  /** Modelled prefill attention of one layer: causal query-key pairs at the attention peak, or the KV read, plus a kernel floor. */
  private prefillRoofline(pairs: number, contextTokens: number): number {
    const eff = this.cfg.efficiency;
    const flops = 4 * this.headsPerGpu * this.cfg.arch.head_dim * pairs;
    const bytes = contextTokens * this.kvBytesPerTokenPerLayer;
    return Math.max(flops / this.attentionPeak, bytes / (this.hbm * eff.gemm_memory)) + eff.attention_kernel_floor_s;
  }

  // Arrow properties, made once: the step loop passes them to beyondSeries without allocating.
  /** Modelled time of one elementwise kernel moving `bytes`. */
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
    t.fill(0);
    this.measured.fill(0);
    if (tokens === 0) return;
    const graphSize = paddedGraphSize(this.captureSizes, tokens);
    // A captured graph runs at its captured batch size: padding slots cost GEMM and elementwise time.
    const m = graphSize > 0 ? graphSize : tokens;

    t[I.qkv_proj] = L * this.gemm(I.qkv_proj, m, this.qkv);
    t[I.o_proj] = L * this.gemm(I.o_proj, m, this.o);
    if (this.experts > 1) {
      // The router's logits are a small 16-bit GEMM; it is charged to mlp_up_gate.
      const router = this.gemm(I.mlp_up_gate, m, this.router, 2, this.lmHeadPeak);
      const routerMeasured = this.measured[I.mlp_up_gate];
      this.measured[I.mlp_up_gate] = 0;
      t[I.mlp_up_gate] = L * (router + this.expertGemm(I.mlp_up_gate, m, this.upGate));
      // Measured only when both parts were.
      this.measured[I.mlp_up_gate] &= routerMeasured;
      t[I.mlp_down] = L * this.expertGemm(I.mlp_down, m, this.down);
    } else {
      t[I.mlp_up_gate] = L * this.gemm(I.mlp_up_gate, m, this.upGate);
      t[I.mlp_down] = L * this.gemm(I.mlp_down, m, this.down);
    }
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

    if (batch.prefill_seqs > 0) {
      const q = batch.prefill_tokens / batch.prefill_seqs;
      const context = batch.prefill_context_tokens / batch.prefill_seqs;
      if (this.prefillTable) {
        const looked = this.prefillTable(q, context, batch.prefill_attention_pairs);
        t[I.attention_prefill] = L * looked.time_s;
        if (looked.measured) this.measured[I.attention_prefill] = 1;
      } else {
        t[I.attention_prefill] = L * this.prefillRoofline(batch.prefill_attention_pairs, batch.prefill_context_tokens);
      }
    }
    if (batch.decode_seqs > 0) {
      if (this.decodeTable) {
        const looked = this.decodeTable(batch.decode_seqs, batch.decode_context_tokens / batch.decode_seqs);
        t[I.attention_decode] = L * looked.time_s;
        if (looked.measured) this.measured[I.attention_decode] = 1;
      } else {
        const bytes = batch.decode_context_tokens * this.kvBytesPerTokenPerLayer;
        t[I.attention_decode] = L * (bytes / this.decodeAttentionBandwidth + eff.attention_kernel_floor_s);
      }
    }

    const tp = this.cfg.tensor_parallel;
    if (tp > 1) {
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
      t[I.tp_all_reduce] = 2 * L * one;
    }

    if (batch.emitting_seqs > 0) {
      // Logits in fp32, written then read by the sampler.
      const samplerBytes = batch.emitting_seqs * this.lmHead.n * 4 * 2;
      t[I.lm_head_sampler] =
        this.gemm(I.lm_head_sampler, batch.emitting_seqs, this.lmHead, this.lmHeadWeightBytes, this.lmHeadPeak) +
        samplerBytes / (this.hbm * eff.elementwise_memory);
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
    const scale = this.cfg.time_scale ?? 1;
    if (scale !== 1) for (let i = 0; i < OPS.length; i++) t[i] *= scale;
  }
}
