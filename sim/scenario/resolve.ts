import { fieldError, InfersimError } from '../errors.js';
import { getGpu } from '../hardware/catalog.js';
import { defaultProfileFor, loadProfile } from '../latency/profile/load.js';
import type { GpuSpec } from '../hardware/gpu.js';
import { BYTES_PER_KV_BLOCK, MAX_KV_BLOCKS_TOTAL, MAX_REPLICAS } from './bounds.js';
import { kvCapacity, type KvCapacity } from '../kv/capacity.js';
import { V0_WATERMARK } from '../scheduler/vllmV0.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { getModel } from '../model/catalog.js';
import { validateParallelism } from '../model/derived.js';
import type {
  EngineUsage,
  KvDtype,
  OrcaReservation,
  SchedulingPolicy,
  PreemptionMode,
  RouterName,
  ScenarioInput,
  SchedulerName,
  LengthDist,
  WeightDtype,
  WorkloadSpec,
} from './types.js';

/** Which engine behaviour the defaults and each scheduler reproduce (written into summary.json). */
export const EMULATES: Record<SchedulerName, string> = {
  vllm: 'vLLM V1 engine (v0.11-class): chunked prefill, recompute preemption, prefix caching, CUDA graphs',
  'vllm-v0': 'vLLM V0 engine (v0.6-class, default scheduler): prefill-first steps, watermark admission, recompute or swap preemption, copy-on-write samples',
  sarathi: 'Sarathi-Serve stall-free batching (vLLM V0 chunked-prefill scheduler): decodes first, then prefill chunks in one token budget',
  orca: 'Orca (OSDI 2022): iteration-level scheduling, whole prompts, KV reserved at admission',
  static: 'static request-level batching (FasterTransformer-style): a batch runs until its last request finishes',
  dynamic: 'dynamic request-level batching (Triton-style): batches dispatched when full or when the oldest request times out',
};

/** Schedulers that page the KV cache and may preempt (the request-level ones reserve up front). */
const PAGED: readonly SchedulerName[] = ['vllm', 'vllm-v0', 'sarathi'];
/** vLLM's default CPU swap space per GPU, GiB (vllm/engine/arg_utils.py, `swap_space`). */
const DEFAULT_SWAP_SPACE_GB = 4;
/** Default wait of the dynamic batcher to fill a batch, ms (an assumption; Triton's own default is 0). */
const DEFAULT_BATCH_TIMEOUT_MS = 10;

export interface ResolvedEngine {
  scheduler: SchedulerName;
  scheduling_policy: SchedulingPolicy;
  enable_prefix_caching: boolean;
  swap_space_gb: number;
  orca_reservation: OrcaReservation;
  max_batch_size: number;
  batch_timeout_ms: number;
  max_queue_len?: number;
  usage: EngineUsage;
  max_num_seqs: number;
  max_num_batched_tokens: number;
  block_size: number;
  enable_chunked_prefill: boolean;
  preemption: PreemptionMode;
  max_model_len: number;
  num_gpu_blocks_override?: number;
  cuda_graphs: boolean;
  frontend_input_ms: number;
  frontend_output_ms: number;
}

/** Every key filled: what the run actually used. */
export interface ResolvedScenario {
  seed: number;
  model: string;
  /** `profile`: the latency profile used (a shipped name or a path), null when none is shipped for the GPU. */
  hardware: { gpu: string; tensor_parallel: number; pipeline_parallel: number; gpu_memory_utilization: number; profile: string | null };
  precision: { weights: WeightDtype; kv_cache: KvDtype };
  cluster: { replicas: number; router: RouterName };
  engine: ResolvedEngine;
  workload: WorkloadSpec;
  slo: { ttft_ms?: number; tpot_ms?: number; e2e_ms?: number };
  metrics: { warmup_s: number; uncertainty: boolean };
  cost: { usd_per_gpu_hour: number };
  output: { dir?: string; tokens: boolean };
  emulates: string;
}

export interface RunSetup {
  scenario: ResolvedScenario;
  arch: ModelArchitecture;
  gpu: GpuSpec;
  kv: KvCapacity;
}

/**
 * Default server-side overheads (estimates, not measurements): request parsing and tokenization
 * before the engine sees a request, detokenization and streaming of each token after its step.
 */
const DEFAULT_FRONTEND_INPUT_MS = 1.0;
const DEFAULT_FRONTEND_OUTPUT_MS = 0.2;

/**
 * vLLM V1's defaults by GPU class and usage context (vllm/engine/arg_utils.py,
 * `_set_default_args`): H100/H200-class GPUs get 8192 tokens / 1024 seqs as a server and
 * 16384 / 1024 offline; A100 and smaller get 2048 / 256 and 8192 / 256.
 */
export function engineDefaults(gpu: GpuSpec, usage: EngineUsage): { max_num_batched_tokens: number; max_num_seqs: number } {
  if (gpu.vllm_default_class === 'large') {
    return usage === 'server'
      ? { max_num_batched_tokens: 8192, max_num_seqs: 1024 }
      : { max_num_batched_tokens: 16384, max_num_seqs: 1024 };
  }
  return usage === 'server'
    ? { max_num_batched_tokens: 2048, max_num_seqs: 256 }
    : { max_num_batched_tokens: 8192, max_num_seqs: 256 };
}

/** vLLM V0's defaults (vllm/config.py SchedulerConfig, v0.5–0.6): 256 sequences; a whole-prompt budget of max(max_model_len, 2048). */
const V0_DEFAULTS = { max_num_batched_tokens: 2048, max_num_seqs: 256 };
/** V0's default budget with chunked prefill (same source): 512 tokens, chosen there to balance ITL and TTFT. */
const V0_CHUNKED_BUDGET = 512;

export function resolveScenario(input: ScenarioInput): RunSetup {
  const arch = getModel(input.model);
  const gpu = getGpu(input.hardware.gpu);
  const tp = input.hardware.tensor_parallel ?? 1;
  const pp = input.hardware.pipeline_parallel ?? 1;
  validateParallelism(arch, tp, pp);
  if (tp > gpu.gpus_per_node) {
    throw fieldError(
      'hardware.tensor_parallel',
      `must be ≤ ${gpu.gpus_per_node}, the GPUs of one ${gpu.name} node: a tensor-parallel group across nodes would ` +
        'all-reduce over the network, which is not modelled; use more replicas instead',
      tp,
    );
  }
  if (pp > 1) {
    throw fieldError(
      'hardware.pipeline_parallel',
      'pipeline parallelism is not modelled yet; use 1 (and tensor_parallel for multi-GPU replicas)',
      pp,
    );
  }

  const e = input.engine ?? {};
  const usage = e.usage ?? 'server';
  const scheduler = e.scheduler ?? 'vllm';
  const paged = PAGED.includes(scheduler);
  // Only the V0 family swaps; V1 recomputes, and the reserving schedulers never preempt at all.
  const preemption = e.preemption ?? (scheduler === 'vllm-v0' || scheduler === 'sarathi' ? 'auto' : 'recompute');
  if (scheduler === 'vllm' && preemption !== 'recompute') {
    throw fieldError(
      'engine.preemption',
      'the vllm (V1) scheduler only preempts by recompute; use recompute, or engine.scheduler vllm-v0 or sarathi for swap',
      preemption,
    );
  }
  if (!paged && e.preemption !== undefined) {
    throw fieldError(
      'engine.preemption',
      `the ${scheduler} scheduler reserves each request's KV at admission, so it never runs short and never preempts; leave it out`,
      e.preemption,
    );
  }
  if (!paged && e.swap_space_gb !== undefined) {
    throw fieldError('engine.swap_space_gb', `the ${scheduler} scheduler never preempts, so it never swaps; leave it out`, e.swap_space_gb);
  }
  const enable_prefix_caching = e.enable_prefix_caching ?? scheduler === 'vllm';
  if (enable_prefix_caching && !paged) {
    throw fieldError('engine.enable_prefix_caching', `needs a paged scheduler (${PAGED.join(', ')}); ${scheduler} reserves whole requests`, true);
  }
  for (const key of ['max_batch_size', 'batch_timeout_ms'] as const) {
    if (e[key] !== undefined && scheduler !== 'static' && scheduler !== 'dynamic') {
      throw fieldError(`engine.${key}`, `is used by the static and dynamic schedulers only (engine.scheduler is ${scheduler})`, e[key]);
    }
  }
  if (e.batch_timeout_ms !== undefined && scheduler === 'static') {
    throw fieldError('engine.batch_timeout_ms', 'is used by the dynamic scheduler only; static dispatches whatever is waiting', e.batch_timeout_ms);
  }
  if (!paged && e.orca_reservation === undefined && input.workload.max_tokens === undefined && e.max_model_len === undefined) {
    // Orca reserves prompt + max_tokens; with neither max_tokens nor max_model_len given, that is the
    // model's whole context, a size the user never wrote: every request holds the KV of a 131,072-token
    // one and the quickstart's TTFT goes from 32 ms to 99 s. Refused rather than warned: the result
    // hinges on it, and a warning scrolls by unseen in a sweep.
    throw fieldError(
      'engine.orca_reservation',
      `the ${scheduler} scheduler reserves each request's KV at admission for prompt + workload.max_tokens, and with neither ` +
        `max_tokens nor engine.max_model_len set that is ${arch.name}'s whole context (${arch.max_position_embeddings} tokens) per request; ` +
        "set workload.max_tokens (the clients' limit) or engine.max_model_len, or engine.orca_reservation (max, pow2 or oracle)",
    );
  }
  if (e.orca_reservation !== undefined && paged) {
    throw fieldError('engine.orca_reservation', `is used by the orca, static and dynamic schedulers only (engine.scheduler is ${scheduler})`, e.orca_reservation);
  }
  if (e.swap_space_gb !== undefined && preemption === 'recompute') {
    throw fieldError('engine.swap_space_gb', 'has no effect with engine.preemption recompute', e.swap_space_gb);
  }
  const scheduling_policy = e.scheduling_policy ?? (input.workload.priority !== undefined ? 'priority' : 'fcfs');
  if (scheduling_policy === 'priority' && !paged) {
    const why = `priority scheduling is modelled for ${PAGED.join(', ')}; ${scheduler} serves FCFS`;
    if (e.scheduling_policy === 'priority') throw fieldError('engine.scheduling_policy', why, 'priority');
    throw fieldError('workload.priority', `${why}: drop the classes or pick one of those schedulers`);
  }
  const block_size = e.block_size ?? 16;
  if (scheduler === 'vllm-v0' ? block_size % 8 !== 0 : block_size % 16 !== 0) {
    throw fieldError(
      'engine.block_size',
      scheduler === 'vllm-v0'
        ? 'must be a multiple of 8 for the vllm-v0 scheduler (8, 16, 32, … as V0 allowed)'
        : `must be a multiple of 16 for the ${scheduler} scheduler (FlashAttention backend; only vllm-v0 also allows 8)`,
      block_size,
    );
  }
  const max_model_len = e.max_model_len ?? arch.max_position_embeddings;
  if (max_model_len > arch.max_position_embeddings) {
    throw fieldError(
      'engine.max_model_len',
      `must be ≤ ${arch.name}'s max_position_embeddings (${arch.max_position_embeddings})`,
      max_model_len,
    );
  }
  checkSomeRequestFits(input.workload, max_model_len, e.max_model_len !== undefined);
  // Only vllm and sarathi chunk prompts; the others run whole prompts by definition.
  const chunks = scheduler === 'vllm' ? undefined : scheduler === 'sarathi';
  if (chunks !== undefined && e.enable_chunked_prefill !== undefined && e.enable_chunked_prefill !== chunks) {
    throw fieldError(
      'engine.enable_chunked_prefill',
      chunks
        ? 'the sarathi scheduler always chunks prompts (that is its policy); leave it out or use vllm-v0 for whole prompts'
        : `the ${scheduler} scheduler runs whole prompts; leave it out, or use sarathi (V0 with chunked prefill) or vllm`,
      e.enable_chunked_prefill,
    );
  }
  const enable_chunked_prefill = chunks ?? e.enable_chunked_prefill ?? true;
  const defaults = scheduler === 'vllm' ? engineDefaults(gpu, usage) : V0_DEFAULTS;
  // Without chunking a whole prompt must fit in one step, so vLLM raises the budget to max_model_len.
  const defaultBudget = enable_chunked_prefill
    ? (scheduler === 'sarathi' ? V0_CHUNKED_BUDGET : defaults.max_num_batched_tokens)
    : Math.max(max_model_len, defaults.max_num_batched_tokens);
  const max_num_batched_tokens = e.max_num_batched_tokens ?? defaultBudget;
  if (!enable_chunked_prefill && max_num_batched_tokens < max_model_len) {
    throw fieldError(
      'engine.max_num_batched_tokens',
      `must be ≥ max_model_len (${max_model_len}) when chunked prefill is disabled, or a long prompt could never run`,
      max_num_batched_tokens,
    );
  }
  const max_num_seqs = e.max_num_seqs ?? defaults.max_num_seqs;
  // vLLM refuses this too: a step must be able to give every running sequence its decode token.
  if (max_num_batched_tokens < max_num_seqs) {
    throw fieldError(
      'engine.max_num_batched_tokens',
      `must be ≥ engine.max_num_seqs (${max_num_seqs}${e.max_num_seqs === undefined ? ', the default here' : ''})`,
      max_num_batched_tokens,
    );
  }
  const engine: ResolvedEngine = {
    scheduler,
    scheduling_policy,
    enable_prefix_caching,
    swap_space_gb: preemption === 'recompute' ? 0 : (e.swap_space_gb ?? DEFAULT_SWAP_SPACE_GB),
    orca_reservation: e.orca_reservation ?? 'max',
    max_batch_size: e.max_batch_size ?? max_num_seqs,
    batch_timeout_ms: scheduler === 'dynamic' ? (e.batch_timeout_ms ?? DEFAULT_BATCH_TIMEOUT_MS) : 0,
    usage,
    max_num_seqs,
    max_num_batched_tokens,
    block_size,
    enable_chunked_prefill,
    preemption,
    max_model_len,
    cuda_graphs: e.cuda_graphs ?? true,
    frontend_input_ms: e.frontend_input_ms ?? DEFAULT_FRONTEND_INPUT_MS,
    frontend_output_ms: e.frontend_output_ms ?? DEFAULT_FRONTEND_OUTPUT_MS,
  };
  if (e.num_gpu_blocks_override !== undefined) engine.num_gpu_blocks_override = e.num_gpu_blocks_override;
  if (e.max_queue_len !== undefined) engine.max_queue_len = e.max_queue_len;

  const precision = { weights: input.precision?.weights ?? 'bf16', kv_cache: input.precision?.kv_cache ?? 'bf16' } as const;
  const gpu_memory_utilization = input.hardware.gpu_memory_utilization ?? 0.9;
  // Loading checks the file (format, GPU) now, before any output is written.
  const profile =
    input.hardware.profile !== undefined ? loadProfile(input.hardware.profile, gpu.name).ref : (defaultProfileFor(gpu.name)?.ref ?? null);
  const kv = kvCapacity({
    arch,
    gpu,
    tensor_parallel: tp,
    pipeline_parallel: pp,
    weights: precision.weights,
    kv_cache: precision.kv_cache,
    gpu_memory_utilization,
    block_size,
    max_num_batched_tokens,
    max_num_seqs,
    cuda_graphs: engine.cuda_graphs,
    num_gpu_blocks_override: engine.num_gpu_blocks_override,
  });
  const usable_tokens = kv.usable_blocks * block_size;
  if (usable_tokens < max_model_len) {
    throw new InfersimError(
      `engine.max_model_len: ${max_model_len} tokens do not fit in the KV cache (${usable_tokens} tokens = ` +
        `${kv.usable_blocks} usable blocks × ${block_size}); lower engine.max_model_len to ≤ ${usable_tokens}, ` +
        'raise hardware.gpu_memory_utilization or tensor_parallel, or use a larger GPU',
    );
  }

  const replicas = input.cluster?.replicas ?? 1;
  checkClusterMemory(replicas, kv.num_gpu_blocks);

  if (scheduler === 'vllm-v0' || scheduler === 'sarathi') {
    // V0 keeps a watermark free at admission and refuses a prompt that could never pass it.
    const watermark = Math.floor(V0_WATERMARK * kv.usable_blocks);
    const admissible = (kv.usable_blocks - watermark) * block_size;
    if (admissible < max_model_len) {
      throw new InfersimError(
        `engine.max_model_len: ${max_model_len} tokens exceed what the ${scheduler} scheduler can admit (${admissible} tokens: ` +
          `${kv.usable_blocks} usable blocks less V0's 1 % watermark of ${watermark}, × ${block_size}); lower engine.max_model_len to ≤ ${admissible}`,
      );
    }
    const samples = Math.max(input.workload.n ?? 1, input.workload.best_of ?? 1);
    if (samples > max_num_seqs) {
      throw fieldError(
        input.workload.best_of !== undefined && input.workload.best_of >= (input.workload.n ?? 1) ? 'workload.best_of' : 'workload.n',
        `must be ≤ engine.max_num_seqs (${max_num_seqs}): the ${scheduler} scheduler runs every sample of a request at once`,
        samples,
      );
    }
  }

  const warmup_s = input.metrics?.warmup_s ?? 0;
  const duration_s = input.workload.duration_s;
  if (duration_s !== undefined && warmup_s > 0 && warmup_s >= duration_s) {
    throw fieldError(
      'metrics.warmup_s',
      `must be < workload.duration_s (${duration_s}): requests arriving before the warm-up are left out of every latency figure, and none arrive after duration_s`,
      warmup_s,
    );
  }
  const scenario: ResolvedScenario = {
    seed: input.seed ?? 0,
    model: input.model,
    hardware: { gpu: gpu.name, tensor_parallel: tp, pipeline_parallel: pp, gpu_memory_utilization, profile },
    precision,
    cluster: { replicas, router: input.cluster?.router ?? 'round-robin' },
    engine,
    workload: input.workload,
    slo: { ...(input.slo ?? {}) },
    metrics: { warmup_s, uncertainty: input.metrics?.uncertainty ?? true },
    cost: { usd_per_gpu_hour: input.cost?.usd_per_gpu_hour ?? gpu.usd_per_gpu_hour },
    output: { dir: input.output?.dir, tokens: input.output?.tokens ?? false },
    emulates: EMULATES[scheduler],
  };
  return { scenario, arch, gpu, kv };
}

/** Every replica holds its KV block table: their total must fit the simulator's memory bound. */
function checkClusterMemory(replicas: number, blocks: number): void {
  // The schema says the same; resolveScenario is also called directly.
  if (!(Number.isInteger(replicas) && replicas >= 1 && replicas <= MAX_REPLICAS)) {
    throw fieldError('cluster.replicas', `must be an integer ≥ 1 and ≤ ${MAX_REPLICAS} (a simulation holds every replica in memory)`, replicas);
  }
  if (replicas * blocks <= MAX_KV_BLOCKS_TOTAL) return;
  const gb = ((replicas * blocks * BYTES_PER_KV_BLOCK) / 1e9).toFixed(1);
  throw fieldError(
    'cluster.replicas',
    `must be ≤ ${Math.floor(MAX_KV_BLOCKS_TOTAL / blocks)} here: ${replicas} replicas × ${blocks} KV blocks each would take ${gb} GB ` +
      `of simulator memory (a simulation holds every replica's blocks, at most ${MAX_KV_BLOCKS_TOTAL} in all); ` +
      'use fewer replicas, or engine.num_gpu_blocks_override for smaller pools',
    replicas,
  );
}

/** The fewest tokens a length distribution can draw (1 where only the data knows: empirical). */
function fewestTokens(d: LengthDist | undefined): number {
  switch (d?.dist) {
    case 'fixed':
      return d.value;
    case 'uniform':
    case 'zipf':
      return d.min;
    case 'normal':
    case 'lognormal':
      return d.min ?? 1;
    default:
      return 1;
  }
}

/** A synthetic workload whose every request exceeds max_model_len would only be rejected: refuse it. */
function checkSomeRequestFits(w: WorkloadSpec, max_model_len: number, lenGiven: boolean): void {
  if (w.trace !== undefined) return;
  const input = fewestTokens(w.input_tokens);
  const output = Math.min(fewestTokens(w.output_tokens), w.max_tokens ?? Infinity);
  if (input + output <= max_model_len) return;
  const field = lenGiven ? 'engine.max_model_len' : 'workload.input_tokens';
  throw fieldError(
    field,
    `every request needs at least ${input + output} tokens (prompt ≥ ${input}, output ≥ ${output}), more than max_model_len ${max_model_len}, ` +
      'so every one would be rejected; shorten the lengths' + (lenGiven ? ' or raise engine.max_model_len' : ''),
    lenGiven ? max_model_len : w.input_tokens,
  );
}
