import type { GpuSpec } from '../../hardware/gpu.js';
import { profileEfficiency } from '../build.js';
import type { LatencyEfficiency } from '../efficiency.js';
import { allReduceLink, allReduceTime_s, beyondSeries, gemmTime_s } from '../rooflineTerms.js';
import type { LogSeries } from './interpolate.js';
import type { GemmRole, Profile, UncertaintyBand } from './schema.js';
import { ProfileTables } from './tables.js';
import {
  elementwiseBytes,
  gemmShape,
  VIDUR_GEMM_OPS,
  VIDUR_GEMM_ROLES,
  type VidurCollective,
  type VidurCpuOverhead,
  type VidurGemmOp,
  type VidurRecord,
  type VidurElementwiseOp,
} from './vidur.js';

/**
 * Operator-level predictions of one profile, the way the latency model makes them (a table where
 * it covers the shape, else the roofline with the profile's efficiencies), for comparison with
 * measurements.
 */
export class OperatorPredictor {
  readonly efficiency: LatencyEfficiency;
  private readonly tables?: ProfileTables;
  private readonly gemmCache = new Map<string, LogSeries | undefined>();
  private readonly elementwise?: LogSeries;

  constructor(
    readonly gpu: GpuSpec,
    profile: Profile | undefined,
    efficiency?: Partial<LatencyEfficiency>,
  ) {
    this.efficiency = profileEfficiency(profile, efficiency);
    if (profile?.tables) this.tables = new ProfileTables(profile);
    this.elementwise = this.tables?.elementwiseSeries();
  }

  /** A 16-bit GEMM (Vidur measures fp16) of a role in the layer. */
  gemm_s(m: number, n: number, k: number, role?: GemmRole): number {
    const e = this.efficiency;
    const rooflineAt = (x: number, rn: number, rk: number): number =>
      gemmTime_s(x, rn, rk, 2, 2, this.gpu.tensor_flops_per_s.fp16 * e.gemm_compute, this.gpu.hbm_bandwidth_bytes_per_s * e.gemm_memory, e.gemm_kernel_floor_s);
    const roofline = (x: number): number => rooflineAt(x, n, k);
    if (!this.tables) return roofline(m);
    const key = `${n}x${k}x${role}`;
    if (!this.gemmCache.has(key)) {
      const found = this.tables.gemmSeries('fp16', n, k, role, rooflineAt) ?? this.tables.gemmSeries('bf16', n, k, role, rooflineAt);
      this.gemmCache.set(key, found?.series);
    }
    const series = this.gemmCache.get(key);
    if (!series) return roofline(m);
    const t = series.at(m);
    return t > 0 ? t : beyondSeries(series, m, roofline);
  }

  elementwise_s(bytes: number): number {
    const modelled = (b: number): number => this.efficiency.elementwise_kernel_floor_s + b / (this.gpu.hbm_bandwidth_bytes_per_s * this.efficiency.elementwise_memory);
    const series = this.elementwise;
    if (!series) return modelled(bytes);
    const t = series.at(bytes);
    return t > 0 ? t : beyondSeries(series, bytes, modelled);
  }

  allReduce_s(bytes: number, group: number): number {
    const link = allReduceLink(this.gpu, group, this.efficiency);
    const roofline = (b: number): number => allReduceTime_s(b, group, link.bandwidth_bytes_per_s, link.latency_s);
    const series = this.tables?.allReduceSeries(group, link.link);
    if (!series) return roofline(bytes);
    const t = series.at(bytes);
    return t > 0 ? t : beyondSeries(series, bytes, roofline);
  }
}

/** One comparison: a measured time and the profile's prediction for it. */
export interface Comparison {
  /** Operator class: the Vidur op name for compute, `all_reduce` for collectives. */
  op: string;
  kind: 'gemm' | 'elementwise' | 'all_reduce' | 'cpu';
  model: string;
  measured_s: number;
  predicted_s: number;
}

export function compareCompute(records: readonly VidurRecord[], predictor: OperatorPredictor): Comparison[] {
  return records.map((r) => {
    if ((VIDUR_GEMM_OPS as readonly string[]).includes(r.op)) {
      const [n, k] = gemmShape(r.op as VidurGemmOp, r.dims, r.tp);
      return { op: r.op, kind: 'gemm' as const, model: r.model, measured_s: r.time_s, predicted_s: predictor.gemm_s(r.tokens, n, k, VIDUR_GEMM_ROLES[r.op as VidurGemmOp]) };
    }
    const bytes = elementwiseBytes(r.op as VidurElementwiseOp, r.dims, r.tp, r.tokens);
    return { op: r.op, kind: 'elementwise' as const, model: r.model, measured_s: r.time_s, predicted_s: predictor.elementwise_s(bytes) };
  });
}

export function compareCollectives(rows: readonly VidurCollective[], predictor: OperatorPredictor): Comparison[] {
  return rows
    .filter((c) => c.collective === 'all_reduce')
    .map((c) => ({ op: 'all_reduce', kind: 'all_reduce' as const, model: `${c.group_size} GPUs`, measured_s: c.time_s, predicted_s: predictor.allReduce_s(c.bytes, c.group_size) }));
}

/** Engine CPU time per step (TP1: the profile's CPU terms describe one process) against Vidur's vLLM measurements. */
export function compareCpu(rows: readonly VidurCpuOverhead[], efficiency: LatencyEfficiency): Comparison[] {
  const step = efficiency.cpu_step_s;
  const perSeq = efficiency.cpu_per_seq_s;
  return rows
    .filter((r) => r.tp === 1)
    .map((r) => ({ op: 'cpu_overhead', kind: 'cpu' as const, model: r.model.split('/').pop()!, measured_s: r.time_s, predicted_s: step + perSeq * r.batch_size }));
}

export interface ErrorStats {
  n: number;
  /** Median and 90th percentile of |predicted − measured| ÷ measured. */
  median_abs: number;
  p90_abs: number;
  /** 10th and 90th percentiles of (predicted − measured) ÷ measured: the band's edges. */
  p10_signed: number;
  p90_signed: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function errorStats(comparisons: readonly Comparison[]): ErrorStats {
  const signed = comparisons.map((c) => (c.predicted_s - c.measured_s) / c.measured_s).sort((a, b) => a - b);
  const abs = signed.map(Math.abs).sort((a, b) => a - b);
  return { n: signed.length, median_abs: quantile(abs, 0.5), p90_abs: quantile(abs, 0.9), p10_signed: quantile(signed, 0.1), p90_signed: quantile(signed, 0.9) };
}

export interface ErrorRow extends ErrorStats {
  op: string;
  /** A model name, a group size for collectives, or `all`. */
  model: string;
}

/** Error statistics per operator (all models together) and per operator and model. */
export function errorTable(comparisons: readonly Comparison[]): ErrorRow[] {
  const groups = new Map<string, Comparison[]>();
  const add = (key: string, c: Comparison): void => {
    const list = groups.get(key);
    if (list) list.push(c);
    else groups.set(key, [c]);
  };
  for (const c of comparisons) {
    add(`${c.op}\u0000all`, c);
    add(`${c.op}\u0000${c.model}`, c);
  }
  const opOrder = [...new Set(comparisons.map((c) => c.op))];
  return [...groups]
    .map(([key, list]) => {
      const [op, model] = key.split('\u0000');
      return { op, model, ...errorStats(list) };
    })
    .sort((a, b) => opOrder.indexOf(a.op) - opOrder.indexOf(b.op) || (a.model === 'all' ? -1 : b.model === 'all' ? 1 : a.model.localeCompare(b.model)));
}

export function formatErrorTable(rows: readonly ErrorRow[]): string {
  const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '—');
  const header = ['operator', 'model', 'n', 'median |err|', 'p90 |err|', 'p10 err', 'p90 err'];
  const body = rows.map((r) => [r.op, r.model, String(r.n), pct(r.median_abs), pct(r.p90_abs), pct(r.p10_signed), pct(r.p90_signed)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

/** The p10–p90 of the signed relative errors as a band (0 always inside), with its statistics. */
export function errorBand(comparisons: readonly Comparison[], basis: string): UncertaintyBand {
  const s = errorStats(comparisons);
  const round = (v: number): number => Number(v.toFixed(4));
  return { low: round(Math.min(0, s.p10_signed)), high: round(Math.max(0, s.p90_signed)), median_abs: round(s.median_abs), p90_abs: round(s.p90_abs), n: s.n, basis };
}

/**
 * Bands per operator class from a validation against `source`: GEMMs (the four projections
 * together), elementwise kernels, all-reduce, and the iteration (the GEMM band: GEMMs are most of
 * an iteration's GPU time). Classes without comparisons are left out.
 */
export function bandsAgainst(comparisons: readonly Comparison[], source: string): NonNullable<Profile['uncertainty']> {
  const out: NonNullable<Profile['uncertainty']> = {};
  const of = (kind: Comparison['kind'], what: string): UncertaintyBand | undefined => {
    const cs = comparisons.filter((c) => c.kind === kind);
    return cs.length > 0 ? errorBand(cs, `p10–p90 of ${what} errors against ${source}`) : undefined;
  };
  const gemm = of('gemm', 'GEMM');
  const elementwise = of('elementwise', 'elementwise');
  const allReduce = of('all_reduce', 'all-reduce');
  if (gemm) out.gemm = gemm;
  if (elementwise) out.elementwise = elementwise;
  if (allReduce) out.all_reduce = allReduce;
  if (gemm) out.iteration = { ...gemm, basis: `GEMM band (GEMMs dominate iteration time): ${gemm.basis}` };
  return out;
}
