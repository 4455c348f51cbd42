import { InfersimError } from '../errors.js';
import { getGpu } from '../hardware/catalog.js';
import { forEachCsvRecord } from '../io/csv.js';
import { readText } from '../io/readText.js';
import { kvCapacity } from '../kv/capacity.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { MODEL_CATALOG } from '../model/catalog.js';
import type { KvDtype, ScenarioInput, WeightDtype } from '../scenario/types.js';
import { OLDEST_VLLM_MINOR, vllmMinor, CURRENT_VLLM_VERSION } from '../scenario/vllmVersion.js';
import { checkParallelism } from '../setup/checks.js';
import { resolveEngine } from '../setup/engine.js';
import { parseScenarioObject } from '../setup/load.js';

/**
 * What vLLM printed about its KV cache at start-up, one row each (the columns of
 * ../shared/data/measured/vllm_startup_capacity.csv: source, vllm_version, engine, gpu, tp, pp,
 * model, dtype, quantization, kv_cache_dtype, gpu_memory_utilization, max_model_len, max_num_seqs,
 * max_num_batched_tokens, enforce_eager, block_size, gpu_blocks, kv_cache_tokens, available_kv_gib),
 * against infersim's capacity under the same release and flags. Cells may carry notes ("0.9
 * (default, not stated)"): the leading figure counts. A row this cannot map (a GPU or model outside
 * the catalogs, a quantization it does not model) is skipped with the reason.
 */
export type StartupRow = Record<string, string>;

export interface StartupComparison {
  label: string;
  /** Undefined when reproduced. */
  skipped?: string;
  unit?: 'tokens' | 'blocks' | 'KV GiB';
  printed?: number;
  infersim?: number;
  error?: number;
}

const GiB = 2 ** 30;

export function readStartupRows(path: string): StartupRow[] {
  const rows: StartupRow[] = [];
  let header: string[] = [];
  forEachCsvRecord(readText(path, 'path', 16 << 20), path, (fields) => {
    if (header.length === 0) header = fields;
    else rows.push(Object.fromEntries(header.map((h, i) => [h, fields[i] ?? ''])));
  });
  for (const column of ['vllm_version', 'gpu', 'tp', 'model', 'gpu_memory_utilization']) {
    if (!header.includes(column)) throw new InfersimError(`path: ${path} has no ${column} column (a start-up capacity table names ${column} per row)`);
  }
  return rows;
}

/** The leading number of a cell ("0.9 (default, not stated)" → 0.9); undefined when it states none. */
export function lead(cell: string | undefined): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)/.exec(cell ?? '');
  return m === null ? undefined : Number(m[1]);
}

/** The release a cell names ("0.6.5.dev (PR branch)" → "0.6.5"), if it is one infersim follows. */
function release(cell: string): string | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(cell);
  if (m === null || m[1] !== '0') return undefined;
  const minor = Number(m[2]);
  if (minor < OLDEST_VLLM_MINOR || minor > vllmMinor(CURRENT_VLLM_VERSION)) return undefined;
  return m[3] === undefined ? `0.${minor}` : `0.${minor}.${m[3]}`;
}

/** A GPU as logs name it ("H100 80GB", "A100 40GB") → the catalog's name. */
function gpuName(cell: string): string | undefined {
  const c = cell.toUpperCase();
  if (c.includes('H200')) return 'h200-sxm';
  if (c.includes('H100')) return c.includes('PCIE') ? 'h100-pcie' : 'h100-sxm';
  if (c.includes('A100')) return /\b40\s*GB/.test(c) ? 'a100-sxm-40gb' : 'a100-sxm-80gb';
  if (c.includes('L40S')) return 'l40s';
  if (/\bL4\b/.test(c)) return 'l4';
  if (c.includes('A10G')) return 'a10g';
  return undefined;
}

/** The catalog model a row's Hugging Face repository names (a base model and its instruct or -hf variants alike). */
function modelOf(cell: string): ModelArchitecture | undefined {
  const repo = /([\w.-]+\/[\w.*-]+)/.exec(cell)?.[1];
  if (repo === undefined) return undefined;
  const stem = (name: string): string => name.toLowerCase().replace(/\*$/, '').replace(/-(hf|instruct|chat)$/, '');
  const want = stem(repo);
  return Object.values(MODEL_CATALOG).find((m) => m.hf_repo !== undefined && stem(m.hf_repo) === want);
}

function dtypes(r: StartupRow): { weights: WeightDtype; kv_cache: KvDtype } | string {
  const q = (r.quantization ?? '').toLowerCase();
  const d = (r.dtype ?? '').toLowerCase();
  const base: WeightDtype = d.includes('32') ? 'fp32' : d.startsWith('fp16') || d.startsWith('float16') ? 'fp16' : 'bf16';
  let weights: WeightDtype = base;
  if (q.startsWith('fp8')) weights = 'fp8';
  else if (/gptq|awq|w4a16|int4/.test(q)) weights = 'int4';
  else if (q !== '' && !q.startsWith('none')) return `quantization ${r.quantization} is not modelled`;
  if ((r.kv_cache_dtype ?? '').toLowerCase().startsWith('fp8')) return { weights, kv_cache: 'fp8' };
  if (base === 'fp32') return 'fp32 KV cache is not modelled (precision.kv_cache has no fp32)';
  return { weights, kv_cache: base === 'fp16' ? 'fp16' : 'bf16' };
}

/** A row in a few words: where it was printed, the release, model, GPU, parallelism and context. */
function labelOf(r: StartupRow): string {
  const src = r.source ?? '';
  const gh = /github\.com\/[^/]+\/([^/]+)\/(?:pull|issues)\/(\d+)/.exec(src);
  const where = gh !== null ? `${gh[1]}#${gh[2]}` : src.includes('llm-d') ? 'llm-d' : src.split(' ')[0];
  const model = (/([\w.-]+\/[\w.*-]+)/.exec(r.model ?? '')?.[1] ?? r.model ?? '').split('/').pop();
  const extras = [r.quantization && !/^none/i.test(r.quantization) ? r.quantization.split(' ')[0] : '', /fp8/i.test(r.kv_cache_dtype ?? '') ? 'kv fp8' : '', /32/.test(r.dtype ?? '') ? 'fp32' : '']
    .filter((x) => x !== '')
    .join(' ');
  return `${where} ${release(r.vllm_version ?? '') ?? '?'} ${model} ${r.gpu?.split(' ')[0] ?? ''} tp${r.tp || 1}pp${r.pp || 1} len ${lead(r.max_model_len) ?? '-'}${extras ? ` ${extras}` : ''}`;
}

/** infersim's capacity for a row, or why it was skipped. */
export function compareStartupRow(r: StartupRow): StartupComparison {
  const label = labelOf(r);
  const version = release(r.vllm_version ?? '');
  const gpu = gpuName(r.gpu ?? '');
  const arch = modelOf(r.model ?? '');
  const types = dtypes(r);
  const skip = (why: string): StartupComparison => ({ label, skipped: why });
  if (version === undefined) return skip(`no release from 0.${OLDEST_VLLM_MINOR} to ${CURRENT_VLLM_VERSION} named: ${r.vllm_version}`);
  if (gpu === undefined) return skip(`GPU not in the catalog: ${r.gpu}`);
  if (arch === undefined) return skip(`model not in the catalog: ${r.model}`);
  if (typeof types === 'string') return skip(types);
  const printed = printedFigure(r);
  if (printed === undefined) return skip('prints no KV figure');
  try {
    const kv = capacityOf(r, version, gpu, arch, types);
    const infersim = printed.unit === 'tokens' ? kv.kv_tokens : printed.unit === 'blocks' ? kv.num_gpu_blocks : kv.kv_cache_bytes / GiB;
    return { label, unit: printed.unit, printed: printed.value, infersim, error: infersim / printed.value - 1 };
  } catch (err) {
    if (err instanceof InfersimError) return skip(`infersim refuses it: ${err.message}`);
    throw err;
  }
}

/** The first positive KV figure a row prints: tokens, else blocks, else GiB. */
function printedFigure(r: StartupRow): { unit: 'tokens' | 'blocks' | 'KV GiB'; value: number } | undefined {
  const figures = [['tokens', lead(r.kv_cache_tokens)], ['blocks', lead(r.gpu_blocks)], ['KV GiB', lead(r.available_kv_gib)]] as const;
  const found = figures.find(([, v]) => v !== undefined && v > 0);
  return found === undefined ? undefined : { unit: found[0], value: found[1] as number };
}

/** The row as a scenario: its engine resolved with that release's defaults, then its KV capacity (no fit check: a failed start-up still printed its pool). */
function capacityOf(r: StartupRow, version: string, gpuNameValue: string, arch: ModelArchitecture, types: { weights: WeightDtype; kv_cache: KvDtype }) {
  const gpu = getGpu(gpuNameValue);
  const tp = lead(r.tp) ?? 1;
  const pp = lead(r.pp) ?? 1;
  const engine: NonNullable<ScenarioInput['engine']> = {
    vllm_version: version,
    // The row's engine column says which one profiled (V0 ran until 0.10 beside V1).
    ...(/^v0/i.test(r.engine ?? '') ? { scheduler: 'vllm-v0' } : /^v1/i.test(r.engine ?? '') ? { scheduler: 'vllm' } : {}),
    ...(lead(r.max_model_len) !== undefined ? { max_model_len: lead(r.max_model_len) } : {}),
    ...(lead(r.max_num_seqs) !== undefined ? { max_num_seqs: lead(r.max_num_seqs) } : {}),
    ...(lead(r.max_num_batched_tokens) !== undefined ? { max_num_batched_tokens: lead(r.max_num_batched_tokens) } : {}),
    ...(lead(r.block_size) !== undefined ? { block_size: lead(r.block_size) } : {}),
    ...(/^\s*true/i.test(r.enforce_eager ?? '') ? { cuda_graphs: false } : {}),
  };
  const utilization = lead(r.gpu_memory_utilization) ?? 0.9;
  // Checked as a scenario would be (bounds, TP against the heads), so a bad cell is skipped with its reason.
  const input = parseScenarioObject({
    model: arch.name,
    hardware: { gpu: gpu.name, tensor_parallel: tp, gpu_memory_utilization: utilization },
    engine,
    workload: { arrival: { process: 'burst' }, input_tokens: { dist: 'fixed', value: 1 }, output_tokens: { dist: 'fixed', value: 1 }, num_requests: 1 },
  });
  // Pipeline stages are not simulated yet, but their KV capacity is: only TP is checked against the model.
  checkParallelism(arch, gpu, tp, 1);
  const { engine: e, policy } = resolveEngine(input, arch, gpu);
  return kvCapacity({
    arch, gpu, tensor_parallel: tp, pipeline_parallel: pp, weights: types.weights, kv_cache: types.kv_cache,
    gpu_memory_utilization: utilization, block_size: e.block_size,
    max_num_batched_tokens: e.max_num_batched_tokens, max_num_seqs: e.max_num_seqs, cuda_graphs: e.cuda_graphs,
    vllm_version: e.vllm_version, ...(policy.vllm_engine === undefined ? {} : { vllm_engine: policy.vllm_engine }),
  });
}
