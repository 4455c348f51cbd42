import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InfersimError } from '../../errors.js';
import { forEachCsvRecord } from '../../io/csv.js';
import { readText } from '../../io/readText.js';
import type { GemmRole, Profile } from './schema.js';
import { PROFILE_FORMAT } from './schema.js';

/*
 * Reader of Vidur's profiling CSVs (microsoft/vidur, `data/profiling/`): compute/<gpu>/<org>/<model>/
 * {mlp,attention}.csv, network/<gpu>_<topology>/all_reduce.csv, cpu_overhead/<gpu>/cpu_overheads.csv.
 * Its send_recv.csv is left unread: no latency term uses point-to-point transfers yet. Times there
 * are milliseconds; Vidur profiles in fp16. The data is converted at run time only: this project
 * never commits measurements it did not make.
 */

/** Vidur's folder name for each catalog GPU it has profiled. */
export const VIDUR_GPU_DIRS: Readonly<Record<string, string>> = { 'h100-sxm': 'h100', 'a100-sxm-80gb': 'a100' };

/** The four projection GEMMs Vidur times per layer, as (N, K) of the per-GPU weight. */
export const VIDUR_GEMM_OPS = ['attn_pre_proj', 'attn_post_proj', 'mlp_up_proj', 'mlp_down_proj'] as const;
export type VidurGemmOp = (typeof VIDUR_GEMM_OPS)[number];
export const VIDUR_GEMM_ROLES: Readonly<Record<VidurGemmOp, GemmRole>> = { attn_pre_proj: 'qkv', attn_post_proj: 'o', mlp_up_proj: 'up', mlp_down_proj: 'down' };

/**
 * Memory-bound kernels Vidur times, with the bytes each moves per token (read + write, fp16).
 * Its `add` is left out: its times are about half of what a residual add's bytes imply at the
 * bandwidth the other kernels reach, so it is not the kernel its name suggests.
 */
export const VIDUR_ELEMENTWISE_OPS = ['input_layernorm', 'post_attention_layernorm', 'attn_rope', 'mlp_act'] as const;
export type VidurElementwiseOp = (typeof VIDUR_ELEMENTWISE_OPS)[number];

export interface VidurModelDims {
  heads: number;
  kv_heads: number;
  hidden: number;
  intermediate: number;
  gated: boolean;
}

/** One measured operator time of one model at one (tokens, TP). */
export interface VidurRecord {
  model: string;
  op: VidurGemmOp | VidurElementwiseOp;
  tp: number;
  tokens: number;
  dims: VidurModelDims;
  time_s: number;
}

export function gemmShape(op: VidurGemmOp, d: VidurModelDims, tp: number): [n: number, k: number] {
  const headDim = d.hidden / d.heads;
  switch (op) {
    case 'attn_pre_proj':
      return [((d.heads + 2 * d.kv_heads) * headDim) / tp, d.hidden];
    case 'attn_post_proj':
      return [d.hidden, (d.heads * headDim) / tp];
    case 'mlp_up_proj':
      return [((d.gated ? 2 : 1) * d.intermediate) / tp, d.hidden];
    case 'mlp_down_proj':
      return [d.hidden, d.intermediate / tp];
  }
}

/** Bytes an elementwise kernel moves for `tokens` tokens (fp16 activations). */
export function elementwiseBytes(op: VidurElementwiseOp, d: VidurModelDims, tp: number, tokens: number): number {
  const headDim = d.hidden / d.heads;
  switch (op) {
    case 'input_layernorm':
    case 'post_attention_layernorm':
      return tokens * d.hidden * 2 * 2; // read x, write the normalized x
    case 'attn_rope':
      return tokens * (((d.heads + d.kv_heads) * headDim) / tp) * 2 * 2; // q and k in place
    case 'mlp_act':
      return tokens * (d.intermediate / tp) * 2 * ((d.gated ? 2 : 1) + 1); // read gate (and up), write
  }
}

interface Table {
  header: Map<string, number>;
  rows: string[][];
}

function readCsv(path: string): Table {
  const rows: string[][] = [];
  let header: string[] | undefined;
  forEachCsvRecord(readText(path, 'Vidur profiling CSV'), path, (fields) => {
    if (header === undefined) header = fields;
    else rows.push(fields);
  });
  return { header: new Map((header ?? []).map((name, i) => [name, i])), rows };
}

function column(t: Table, path: string, name: string): number {
  const i = t.header.get(name);
  if (i === undefined) throw new InfersimError(`${path}: missing column ${JSON.stringify(name)} (is this a Vidur profiling CSV?)`);
  return i;
}

function number(t: Table, row: string[], path: string, name: string): number {
  return Number(row[column(t, path, name)]);
}

/** Model folders (org/model) under compute/<gpu>, each holding mlp.csv and maybe attention.csv. */
function modelDirs(computeDir: string): string[] {
  const out: string[] = [];
  for (const org of readdirSync(computeDir).sort()) {
    const orgDir = join(computeDir, org);
    if (!statSync(orgDir).isDirectory()) continue;
    for (const model of readdirSync(orgDir).sort()) if (statSync(join(orgDir, model)).isDirectory()) out.push(join(orgDir, model));
  }
  return out;
}

export interface VidurSelection {
  /** Only these models (folder names, e.g. Llama-2-7b-hf); all when absent. */
  models?: readonly string[];
  /** Leave these models out. */
  exclude?: readonly string[];
}

function selected(model: string, sel: VidurSelection): boolean {
  if (sel.models && !sel.models.includes(model)) return false;
  return !(sel.exclude ?? []).includes(model);
}

function vidurGpuDir(root: string, gpu: string): string {
  const name = VIDUR_GPU_DIRS[gpu];
  if (name === undefined) {
    throw new InfersimError(`--gpu: Vidur has no profiles of ${JSON.stringify(gpu)}; it has ${Object.keys(VIDUR_GPU_DIRS).join(', ')}`);
  }
  if (!existsSync(root)) throw new InfersimError(`Vidur profiling folder ${JSON.stringify(root)} does not exist`);
  return name;
}

/** Every GEMM and elementwise record in compute/<gpu>/…/mlp.csv. */
export function readVidurCompute(root: string, gpu: string, sel: VidurSelection = {}): VidurRecord[] {
  const computeDir = join(root, 'compute', vidurGpuDir(root, gpu));
  if (!existsSync(computeDir)) throw new InfersimError(`${computeDir}: missing (expected Vidur's compute/<gpu>/<org>/<model>/mlp.csv)`);
  const out: VidurRecord[] = [];
  for (const dir of modelDirs(computeDir)) {
    const model = dir.split(/[\\/]/).pop()!;
    const path = join(dir, 'mlp.csv');
    if (!selected(model, sel) || !existsSync(path)) continue;
    const t = readCsv(path);
    for (const row of t.rows) {
      const dims: VidurModelDims = {
        heads: number(t, row, path, 'n_head'),
        kv_heads: number(t, row, path, 'n_kv_head'),
        hidden: number(t, row, path, 'n_embd'),
        intermediate: number(t, row, path, 'n_expanded_embd'),
        gated: row[column(t, path, 'use_gated_mlp')] === 'True',
      };
      const tp = number(t, row, path, 'num_tensor_parallel_workers');
      const tokens = number(t, row, path, 'num_tokens');
      for (const op of [...VIDUR_GEMM_OPS, ...VIDUR_ELEMENTWISE_OPS]) {
        const i = t.header.get(`time_stats.${op}.median`);
        if (i === undefined || row[i] === '') continue;
        const time_s = Number(row[i]) / 1000;
        if (time_s > 0) out.push({ model, op, tp, tokens, dims, time_s });
      }
    }
  }
  return out;
}

export interface VidurCollective {
  collective: 'all_reduce';
  bytes: number;
  group_size: number;
  time_s: number;
}

/**
 * NCCL collectives within one node (over NVLink): rows whose workers span nodes are left out,
 * since profiles describe one node's links. The NVSwitch (`dgx`) measurements are preferred.
 */
export function readVidurNetwork(root: string, gpu: string): VidurCollective[] {
  const name = vidurGpuDir(root, gpu);
  const out: VidurCollective[] = [];
  const collective = 'all_reduce';
  const dir = [`${name}_dgx`, `${name}_pairwise_nvlink`].map((d) => join(root, 'network', d)).find((d) => existsSync(join(d, `${collective}.csv`)));
  if (dir === undefined) return out;
  const path = join(dir, `${collective}.csv`);
  const t = readCsv(path);
  for (const row of t.rows) {
    const workers = number(t, row, path, 'num_workers');
    const perNode = number(t, row, path, 'devices_per_node');
    const time_s = number(t, row, path, `time_stats.${collective}.median`) / 1000;
    if (perNode < workers) continue;
    if (time_s > 0) out.push({ collective, bytes: number(t, row, path, 'size'), group_size: workers, time_s });
  }
  return out;
}

export interface VidurCpuOverhead {
  model: string;
  batch_size: number;
  tp: number;
  /** Engine CPU time per step: scheduling, input preparation, sampler, output processing. */
  time_s: number;
}

export function readVidurCpu(root: string, gpu: string): VidurCpuOverhead[] {
  const path = join(root, 'cpu_overhead', vidurGpuDir(root, gpu), 'cpu_overheads.csv');
  if (!existsSync(path)) return [];
  const t = readCsv(path);
  const parts = ['schedule_median', 'sampler_e2e_median', 'prepare_inputs_e2e_median', 'process_model_outputs_median'];
  return t.rows.map((row) => ({
    model: row[column(t, path, 'model_name')],
    batch_size: number(t, row, path, 'batch_size'),
    tp: number(t, row, path, 'tensor_parallel_degree'),
    time_s: parts.reduce((sum, p) => sum + number(t, row, path, p), 0) / 1000,
  }));
}

/** Least-squares line y = a + b·x. */
export function fitLine(points: readonly (readonly [number, number])[]): { intercept: number; slope: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { intercept: my - slope * mx, slope };
}

/** Attention rows of Vidur's attention.csv files (absent from the data shipped with this project, present in Vidur's repo). */
function readVidurAttention(root: string, gpu: string, sel: VidurSelection): Pick<NonNullable<Profile['tables']>, 'attention_prefill' | 'attention_decode'> {
  const computeDir = join(root, 'compute', vidurGpuDir(root, gpu));
  const prefill: NonNullable<NonNullable<Profile['tables']>['attention_prefill']> = [];
  const decode: NonNullable<NonNullable<Profile['tables']>['attention_decode']> = [];
  if (!existsSync(computeDir)) return {};
  for (const dir of modelDirs(computeDir)) {
    const model = dir.split(/[\\/]/).pop()!;
    const path = join(dir, 'attention.csv');
    if (!selected(model, sel) || !existsSync(path)) continue;
    const t = readCsv(path);
    for (const row of t.rows) {
      const tp = number(t, row, path, 'num_tensor_parallel_workers');
      const headsAll = number(t, row, path, 'n_q_head');
      const head_dim = number(t, row, path, 'n_embd') / headsAll;
      const heads = headsAll / tp;
      const kv_heads = Math.max(1, number(t, row, path, 'n_kv_head') / tp);
      const seqs = number(t, row, path, 'batch_size');
      const cached = number(t, row, path, 'kv_cache_size');
      const backend = t.header.has('attention_backend') ? row[t.header.get('attention_backend')!] : '';
      const kernel = /flashinfer/i.test(backend) ? 'flashinfer' : /flash/i.test(backend) ? 'flash-attn' : backend ? `vidur-${backend.toLowerCase()}` : undefined;
      const isPrefill = row[column(t, path, 'is_prefill')] === 'True';
      if (!Number.isInteger(heads) || !Number.isInteger(seqs) || !Number.isInteger(head_dim)) continue;
      if (isPrefill) {
        const query_tokens = number(t, row, path, 'prefill_chunk_size');
        const time_s = number(t, row, path, 'time_stats.attn_prefill.median') / 1000;
        if (time_s > 0 && query_tokens > 0) {
          prefill.push({ dtype: 'fp16', seqs, query_tokens, context_tokens: cached + query_tokens, heads, kv_heads, head_dim, causal: true, time_s, ...(kernel ? { kernel } : {}) });
        }
      } else {
        const time_s = number(t, row, path, 'time_stats.attn_decode.median') / 1000;
        if (time_s > 0 && cached > 0) {
          decode.push({ dtype: 'fp16', seqs, context_tokens: cached, heads, kv_heads, head_dim, block_size: number(t, row, path, 'block_size'), time_s, ...(kernel ? { kernel } : {}) });
        }
      }
    }
  }
  return { ...(prefill.length ? { attention_prefill: prefill } : {}), ...(decode.length ? { attention_decode: decode } : {}) };
}

/** A `measured` profile (in memory) of Vidur's data for one GPU. */
export function importVidur(root: string, gpu: string, sel: VidurSelection = {}, now = new Date()): Profile {
  const compute = readVidurCompute(root, gpu, sel);
  if (compute.length === 0) throw new InfersimError(`${join(root, 'compute', VIDUR_GPU_DIRS[gpu])}: no mlp.csv rows for the selected models`);
  const gemm = new Map<string, { m: number; n: number; k: number; role: GemmRole; times: number[] }>();
  const elementwise: NonNullable<NonNullable<Profile['tables']>['elementwise']> = [];
  for (const r of compute) {
    if ((VIDUR_GEMM_OPS as readonly string[]).includes(r.op)) {
      const [n, k] = gemmShape(r.op as VidurGemmOp, r.dims, r.tp);
      const role = VIDUR_GEMM_ROLES[r.op as VidurGemmOp];
      const key = `${r.tokens}x${n}x${k}x${role}`;
      const entry = gemm.get(key) ?? { m: r.tokens, n, k, role, times: [] };
      entry.times.push(r.time_s);
      gemm.set(key, entry);
    } else {
      const op = r.op as VidurElementwiseOp;
      const bytes = elementwiseBytes(op, r.dims, r.tp, r.tokens);
      const name = op.endsWith('layernorm') ? 'rmsnorm' : op === 'mlp_act' ? 'silu_mul' : 'rope';
      if (Number.isInteger(bytes)) elementwise.push({ op: name, bytes, time_s: r.time_s });
    }
  }
  const net = readVidurNetwork(root, gpu);
  const cpu = readVidurCpu(root, gpu);
  const cpuFit = cpu.length >= 2 ? fitLine(cpu.filter((c) => c.tp === 1).map((c) => [c.batch_size, c.time_s])) : undefined;
  const models = [...new Set(compute.map((r) => r.model))];
  return {
    format: PROFILE_FORMAT,
    source: 'measured',
    gpu: { catalog: gpu, name: gpu },
    provenance: {
      description:
        `Imported at run time from Vidur profiling CSVs in ${root} (measured by microsoft/vidur's profiler, MIT licence; fp16); ` +
        `models: ${models.join(', ')}`,
      date: now.toISOString(),
      references: ['https://github.com/microsoft/vidur (data/profiling)'],
    },
    tables: {
      gemm: [...gemm.values()].map(({ m, n, k, role, times }) => ({ dtype: 'fp16' as const, m, n, k, role, time_s: times.sort((a, b) => a - b)[times.length >> 1] })),
      ...readVidurAttention(root, gpu, sel),
      ...(elementwise.length ? { elementwise } : {}),
      ...(net.length > 0 ? { all_reduce: net.map(({ bytes, group_size, time_s }) => ({ bytes, group_size, link: 'nvlink' as const, time_s })) } : {}),
    },
    ...(cpuFit && cpuFit.intercept > 0 && cpuFit.slope >= 0 ? { scalars: { cpu_step_s: cpuFit.intercept, cpu_per_seq_s: cpuFit.slope } } : {}),
  };
}
