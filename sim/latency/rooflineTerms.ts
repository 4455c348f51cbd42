import type { GpuSpec } from '../hardware/gpu.js';
import type { GemmExecution } from './dtypeRates.js';
import type { LatencyEfficiency } from './efficiency.js';
import type { LogSeries } from './profile/interpolate.js';
import type { GemmRole } from './profile/schema.js';
import type { ProfileTables } from './profile/tables.js';

/*
 * The roofline's formulas and the operator slots, apart from the model that applies them per step:
 * profile validation predicts single operators with the same formulas, without building a model.
 */

/** A GEMM weight shape [N, K] with its measured time over M, when the profile has one. */
export interface GemmShape {
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

/** bf16 and fp16 run at one tensor rate on every catalog GPU: either table stands in for the other. */
export function twinDtype(dtype: GemmExecution['table_dtype']): GemmExecution['table_dtype'] {
  return dtype === 'bf16' ? 'fp16' : dtype === 'fp16' ? 'bf16' : undefined;
}

/** Operator slots, in the order breakdowns are reported. */
export const OPS = [
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
/** Each slot's index in OPS (the per-step time and measured arrays are indexed by it). */
export const OP_INDEX: Record<Op, number> = Object.fromEntries(OPS.map((name, i) => [name, i])) as Record<Op, number>;

/** The slots a step's token count alone sets, in OPS order (attention left out): RooflineLatencyModel's decode fast path adds them in this order. */
export const TOKEN_TERMS: readonly number[] = (['qkv_proj', 'o_proj', 'mlp_up_gate', 'mlp_down', 'norms_rope_activation', 'tp_all_reduce'] as const).map((op) => OP_INDEX[op]);

/** Elementwise kernels per layer the profile's bandwidth curve is applied to: two fused add+norms, rotary, the activation, the KV-cache write. */
export const ELEMENTWISE_KERNELS_PER_LAYER = 5;

/**
 * A GEMM's weight shape [n, k] with the profile's series over m for it (the bf16/fp16 twin's when
 * its own dtype has none); `roofline` models the GEMM where a table must be extended.
 */
export function gemmShapeOf(
  tables: ProfileTables | undefined,
  dtype: GemmExecution['table_dtype'],
  n: number,
  k: number,
  role: GemmRole | undefined,
  roofline: (m: number, n: number, k: number) => number,
): GemmShape {
  if (!tables || dtype === undefined) return { n, k };
  const twin = twinDtype(dtype);
  const found = tables.gemmSeries(dtype, n, k, role, roofline) ?? (twin ? tables.gemmSeries(twin, n, k, role, roofline) : undefined);
  return found ? { n, k, series: found.series, measured: found.measured } : { n, k };
}
