import { fieldError } from '../errors.js';
import type { GpuSpec } from '../hardware/gpu.js';
import type { ModelArchitecture } from '../model/architecture.js';
import type {
  EngineUsage,
  OrcaReservation,
  PreemptionMode,
  ScenarioInput,
  SchedulerName,
  SchedulingPolicy,
} from '../scenario/types.js';
import { SCHEDULERS, schedulerNames } from '../scheduler/registry.js';
import type { PolicyDefaults, PolicyKey, SchedulerFactory } from '../scheduler/scheduler.js';
import { v1Defaults } from '../scheduler/traits.js';
import type { ResolvedSpeculative } from './speculative.js';
import type { ResolvedLora } from './lora.js';
import { checkSomeRequestFits } from './checks.js';
import { atLeast, CURRENT_VLLM_VERSION, normalVllmVersion } from '../scenario/vllmVersion.js';

/** The engine section with every key filled (its key order is summary.json's). */
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
  /** The vLLM release followed, major.minor. */
  vllm_version: string;
  frontend_input_ms: number;
  frontend_output_ms: number;
  /** Only with engine.speculative. */
  speculative?: ResolvedSpeculative;
  /** Only with engine.lora (sim/setup/lora.ts). */
  lora?: ResolvedLora;
}

type Engine = NonNullable<ScenarioInput['engine']>;

/** vLLM's default CPU swap space per GPU, GiB (vllm/engine/arg_utils.py, `swap_space`). */
const DEFAULT_SWAP_SPACE_GB = 4;

/**
 * Default server-side overheads (estimates, not measurements): request parsing and tokenization
 * before the engine sees a request, detokenization and streaming of each token after its step.
 */
const DEFAULT_FRONTEND_INPUT_MS = 1.0;
const DEFAULT_FRONTEND_OUTPUT_MS = 0.2;

/** vLLM V1's budgets for this GPU as a server or offline (what `predict` and probe validation assume). */
export function engineDefaults(gpu: GpuSpec, usage: EngineUsage): { max_num_batched_tokens: number; max_num_seqs: number } {
  return v1Defaults(gpu.vllm_default_class, usage);
}

/** The registered policy a scenario names (the schema already checked the name; resolveScenario is also called directly). */
export function policyNamed(name: string): SchedulerFactory {
  if (!Object.hasOwn(SCHEDULERS, name)) throw fieldError('engine.scheduler', `must be one of ${schedulerNames().join(', ')}`, name);
  return SCHEDULERS[name];
}

/** The registered policies that satisfy `test`, by name, in registry order. */
function namesWhere(test: (policy: SchedulerFactory) => boolean): string[] {
  return schedulerNames().filter((name) => test(SCHEDULERS[name]));
}

const accepts = (policy: SchedulerFactory, key: PolicyKey): boolean => policy.traits.keys.includes(key);

/** "a", "a and b", "a, b and c". */
function listed(names: string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** "the dynamic scheduler", "the static and dynamic schedulers": the policies that read `key`. */
function readersOf(key: PolicyKey): string {
  const names = namesWhere((p) => accepts(p, key));
  return `the ${listed(names)} scheduler${names.length === 1 ? '' : 's'}`;
}

/** engine.preemption and engine.swap_space_gb against what the policy does when KV runs short. */
function checkPreemption(e: Engine, policy: SchedulerFactory, preemption: PreemptionMode): void {
  const { name, traits } = policy;
  const { modes, refusal } = traits.preemption;
  if (modes.length > 0 && !modes.includes(preemption)) {
    throw fieldError('engine.preemption', refusal ?? `the ${name} scheduler preempts by ${modes.join(' or ')} only`, preemption);
  }
  if (modes.length === 0 && e.preemption !== undefined) {
    throw fieldError(
      'engine.preemption',
      `the ${name} scheduler reserves each request's KV at admission, so it never runs short and never preempts; leave it out`,
      e.preemption,
    );
  }
  if (modes.length === 0 && e.swap_space_gb !== undefined) {
    throw fieldError('engine.swap_space_gb', `the ${name} scheduler never preempts, so it never swaps; leave it out`, e.swap_space_gb);
  }
}

/** The request-level keys (batch size, batching timer, KV reservation rule) against the policy. */
function checkRequestLevelKeys(input: ScenarioInput, policy: SchedulerFactory, arch: ModelArchitecture): void {
  const e: Engine = input.engine ?? {};
  const { name } = policy;
  for (const key of ['max_batch_size', 'batch_timeout_ms'] as const) {
    if (e[key] !== undefined && !accepts(policy, 'max_batch_size')) {
      throw fieldError(`engine.${key}`, `is used by ${readersOf('max_batch_size')} only (engine.scheduler is ${name})`, e[key]);
    }
  }
  if (e.batch_timeout_ms !== undefined && !accepts(policy, 'batch_timeout_ms')) {
    throw fieldError('engine.batch_timeout_ms', `is used by ${readersOf('batch_timeout_ms')} only; ${name} dispatches whatever is waiting`, e.batch_timeout_ms);
  }
  if (policy.traits.kv === 'reserved' && e.orca_reservation === undefined && input.workload.max_tokens === undefined && e.max_model_len === undefined) {
    // Orca reserves prompt + max_tokens; with neither max_tokens nor max_model_len given, that is the
    // model's whole context, a size the user never wrote: every request holds the KV of a 131,072-token
    // one and the quickstart's TTFT goes from 32 ms to 99 s. Refused rather than warned: the result
    // hinges on it, and a warning scrolls by unseen in a sweep.
    throw fieldError(
      'engine.orca_reservation',
      `the ${name} scheduler reserves each request's KV at admission for prompt + workload.max_tokens, and with neither ` +
        `max_tokens nor engine.max_model_len set that is ${arch.name}'s whole context (${arch.max_position_embeddings} tokens) per request; ` +
        "set workload.max_tokens (the clients' limit) or engine.max_model_len, or engine.orca_reservation (max, pow2 or oracle)",
    );
  }
  if (e.orca_reservation !== undefined && !accepts(policy, 'orca_reservation')) {
    throw fieldError('engine.orca_reservation', `is used by ${readersOf('orca_reservation')} only (engine.scheduler is ${name})`, e.orca_reservation);
  }
}

/** engine.enable_prefix_caching: the policy's default; only a paged policy can share cached blocks. */
function prefixCaching(e: Engine, policy: SchedulerFactory): boolean {
  const enabled = e.enable_prefix_caching ?? policy.traits.prefix_caching;
  if (enabled && policy.traits.kv !== 'paged') {
    const paged = namesWhere((p) => p.traits.kv === 'paged').join(', ');
    throw fieldError('engine.enable_prefix_caching', `needs a paged scheduler (${paged}); ${policy.name} reserves whole requests`, true);
  }
  return enabled;
}

/** engine.scheduling_policy: priority when the workload has classes, if the policy serves it. */
function schedulingPolicy(input: ScenarioInput, policy: SchedulerFactory): SchedulingPolicy {
  const given = input.engine?.scheduling_policy;
  const chosen = given ?? (input.workload.priority !== undefined ? 'priority' : 'fcfs');
  if (chosen === 'priority' && !policy.traits.priority) {
    const why = `priority scheduling is modelled for ${namesWhere((p) => p.traits.priority).join(', ')}; ${policy.name} serves FCFS`;
    if (given === 'priority') throw fieldError('engine.scheduling_policy', why, 'priority');
    throw fieldError('workload.priority', `${why}: drop the classes or pick one of those schedulers`);
  }
  return chosen;
}

function checkBlockSize(policy: SchedulerFactory, block_size: number): void {
  const { multiple, why } = policy.traits.block_size;
  if (block_size % multiple !== 0) {
    throw fieldError('engine.block_size', `must be a multiple of ${multiple} for the ${policy.name} scheduler (${why})`, block_size);
  }
}

/**
 * The release a V0 policy follows unless told: 0.6, the one its scheduler and defaults were modelled
 * on (vllm/core/scheduler.py, vllm/config.py of 0.5–0.6). V0 shipped until 0.10: vLLM 0.11.0 removed
 * it (RFC vllm-project/vllm#18571; V1 the default since 0.8.0).
 */
const V0_VERSION = '0.6';
const LAST_V0_VERSION = '0.10';

/**
 * The policy and the vLLM release: each as named, or defaulted from the other. A V0 policy
 * without a release follows 0.6; a release without a policy gets the engine
 * it ran by default: V1 from 0.8.0, else V0, chunking prompts (sarathi) where it did so unasked:
 * from 0.5.4 (PR #6666) when max_model_len exceeds 32,768 tokens.
 */
function policyAndRelease(e: Engine, arch: ModelArchitecture): { policy: SchedulerFactory; vllm_version: string } {
  const named = e.scheduler === undefined ? undefined : policyNamed(e.scheduler);
  const vllm_version = e.vllm_version !== undefined ? normalVllmVersion(e.vllm_version) : named?.vllm_engine === 'v0' ? V0_VERSION : CURRENT_VLLM_VERSION;
  if (named !== undefined) {
    checkRelease(named, vllm_version, e.vllm_version);
    return { policy: named, vllm_version };
  }
  if (atLeast(vllm_version, 8)) return { policy: policyNamed('vllm'), vllm_version };
  const long = (e.max_model_len ?? arch.max_position_embeddings) > 32768;
  const chunks = e.enable_chunked_prefill ?? (atLeast(vllm_version, 5, 4) && long);
  return { policy: policyNamed(chunks ? 'sarathi' : 'vllm-v0'), vllm_version };
}

/** A vLLM policy only in the releases that had its engine. */
function checkRelease(policy: SchedulerFactory, version: string, given: string | undefined): void {
  if (given === undefined) return;
  if (policy.vllm_engine === 'v1' && !atLeast(version, 7)) {
    throw fieldError('engine.vllm_version', `has no V1 engine (engine.scheduler ${policy.name}): it first shipped in 0.7.0 and is the default from 0.8.0; for older releases use vllm-v0 or sarathi`, given);
  }
  if (policy.vllm_engine === 'v0' && atLeast(version, 11)) {
    throw fieldError('engine.vllm_version', `has no V0 engine (engine.scheduler ${policy.name}): vLLM 0.11.0 removed it; name ${LAST_V0_VERSION} or older, or use the vllm scheduler`, given);
  }
}

/** engine.max_model_len: the model's context unless given, and some request of the workload must fit it. */
function maxModelLen(input: ScenarioInput, arch: ModelArchitecture): number {
  const given = input.engine?.max_model_len;
  const max_model_len = given ?? arch.max_position_embeddings;
  if (max_model_len > arch.max_position_embeddings) {
    throw fieldError(
      'engine.max_model_len',
      `must be ≤ ${arch.name}'s max_position_embeddings (${arch.max_position_embeddings})`,
      max_model_len,
    );
  }
  checkSomeRequestFits(input.workload, max_model_len, given !== undefined);
  return max_model_len;
}

/** engine.enable_chunked_prefill: fixed by a policy that always or never chunks, else the scenario's (default on). */
function chunkedPrefill(e: Engine, policy: SchedulerFactory): boolean {
  const { rule, refusal } = policy.traits.chunking;
  const chunks = rule === 'optional' ? undefined : rule === 'always';
  if (chunks !== undefined && e.enable_chunked_prefill !== undefined && e.enable_chunked_prefill !== chunks) {
    throw fieldError(
      'engine.enable_chunked_prefill',
      refusal ??
        (chunks
          ? `the ${policy.name} scheduler always chunks prompts (that is its policy); leave it out`
          : `the ${policy.name} scheduler runs whole prompts; leave it out, or use sarathi (V0 with chunked prefill) or vllm`),
      e.enable_chunked_prefill,
    );
  }
  return chunks ?? e.enable_chunked_prefill ?? true;
}

/** The step budget and sequence cap: the scenario's, else the policy's defaults; each step must fit every decode. */
function budgets(e: Engine, chunked: boolean, max_model_len: number, defaults: PolicyDefaults): { max_num_batched_tokens: number; max_num_seqs: number } {
  const max_num_batched_tokens = e.max_num_batched_tokens ?? defaults.max_num_batched_tokens;
  if (!chunked && max_num_batched_tokens < max_model_len) {
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
  return { max_num_batched_tokens, max_num_seqs };
}

/**
 * The engine section, checked against the named policy's traits and filled with its defaults, in
 * the order the checks have always run (a scenario with several problems hears the same first one).
 */
export function resolveEngine(input: ScenarioInput, arch: ModelArchitecture, gpu: GpuSpec): { engine: ResolvedEngine; policy: SchedulerFactory } {
  const e: Engine = input.engine ?? {};
  const usage = e.usage ?? 'server';
  const { policy, vllm_version } = policyAndRelease(e, arch);
  const preemption = e.preemption ?? policy.traits.preemption.default;
  checkPreemption(e, policy, preemption);
  const enable_prefix_caching = prefixCaching(e, policy);
  checkRequestLevelKeys(input, policy, arch);
  if (e.swap_space_gb !== undefined && preemption === 'recompute') {
    throw fieldError('engine.swap_space_gb', 'has no effect with engine.preemption recompute', e.swap_space_gb);
  }
  const scheduling_policy = schedulingPolicy(input, policy);
  const block_size = e.block_size ?? 16;
  checkBlockSize(policy, block_size);
  const max_model_len = maxModelLen(input, arch);
  const enable_chunked_prefill = chunkedPrefill(e, policy);
  const defaults = policy.defaults({ gpu_class: gpu.vllm_default_class, usage, chunked: enable_chunked_prefill, max_model_len, vllm_version });
  const { max_num_batched_tokens, max_num_seqs } = budgets(e, enable_chunked_prefill, max_model_len, defaults);
  const engine: ResolvedEngine = {
    scheduler: policy.name,
    scheduling_policy,
    enable_prefix_caching,
    swap_space_gb: preemption === 'recompute' ? 0 : (e.swap_space_gb ?? DEFAULT_SWAP_SPACE_GB),
    orca_reservation: e.orca_reservation ?? 'max',
    max_batch_size: e.max_batch_size ?? max_num_seqs,
    batch_timeout_ms: accepts(policy, 'batch_timeout_ms') ? (e.batch_timeout_ms ?? defaults.batch_timeout_ms ?? 0) : 0,
    usage,
    max_num_seqs,
    max_num_batched_tokens,
    block_size,
    enable_chunked_prefill,
    preemption,
    max_model_len,
    cuda_graphs: e.cuda_graphs ?? true,
    vllm_version,
    frontend_input_ms: e.frontend_input_ms ?? DEFAULT_FRONTEND_INPUT_MS,
    frontend_output_ms: e.frontend_output_ms ?? DEFAULT_FRONTEND_OUTPUT_MS,
  };
  if (e.num_gpu_blocks_override !== undefined) engine.num_gpu_blocks_override = e.num_gpu_blocks_override;
  if (e.max_queue_len !== undefined) engine.max_queue_len = e.max_queue_len;
  return { engine, policy };
}
