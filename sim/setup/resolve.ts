import { getGpu } from '../hardware/catalog.js';
import type { GpuSpec } from '../hardware/gpu.js';
import type { KvCapacity } from '../kv/capacity.js';
import { defaultProfileFor, loadProfile, type LoadedProfile } from '../latency/profile/load.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { getModel } from '../model/catalog.js';
import type { KvDtype, RouterName, ScenarioInput, WeightDtype, WorkloadSpec } from '../scenario/types.js';
import { sizeKv } from './capacity.js';
import { checkedWarmup, checkParallelism } from './checks.js';
import { resolveEngine, type ResolvedEngine } from './engine.js';
import { fieldError } from '../errors.js';
import { ROUTERS } from '../routing/registry.js';
import { DEFAULT_ROUTER_OPTIONS, ROUTER_KEYS } from '../routing/router.js';

export { engineDefaults, type ResolvedEngine } from './engine.js';

/** Every key filled: what the run actually used. */
export interface ResolvedScenario {
  seed: number;
  model: string;
  /** `profile`: the latency profile used (a shipped name or a path), null when none is shipped for the GPU. */
  hardware: { gpu: string; tensor_parallel: number; pipeline_parallel: number; gpu_memory_utilization: number; profile: string | null };
  precision: { weights: WeightDtype; kv_cache: KvDtype };
  /** `balance_threshold` only where the router takes it: a router's settings are listed only when they apply. */
  cluster: { replicas: number; router: RouterName; balance_threshold?: number };
  engine: ResolvedEngine;
  workload: WorkloadSpec;
  slo: { ttft_ms?: number; tpot_ms?: number; e2e_ms?: number };
  metrics: { warmup_s: number; uncertainty: boolean };
  cost: { usd_per_gpu_hour: number };
  output: { dir?: string; tokens: boolean };
  emulates: string;
}

/** A resolved scenario with what it was resolved against: the model, the GPU, the KV cache, the latency profile. */
export interface RunSetup {
  scenario: ResolvedScenario;
  arch: ModelArchitecture;
  gpu: GpuSpec;
  kv: KvCapacity;
  /** The latency profile, loaded and checked once here (null: none is shipped for the GPU); the latency model uses it. */
  profile: LoadedProfile | null;
}

/** The profile a scenario names, or the best shipped one for its GPU; loading checks it (format, GPU) before any output is written. */
function scenarioProfile(input: ScenarioInput, gpu: GpuSpec): LoadedProfile | null {
  const ref = input.hardware.profile;
  return ref !== undefined ? loadProfile(ref, gpu.name) : (defaultProfileFor(gpu.name) ?? null);
}

/**
 * A validated scenario → the run it describes: hardware and parallelism checked, the engine
 * resolved against its scheduling policy's traits, the profile loaded, the KV cache sized, every
 * default filled. Throws the first problem found, in a fixed order.
 */
export function resolveScenario(input: ScenarioInput): RunSetup {
  const arch = getModel(input.model);
  const gpu = getGpu(input.hardware.gpu);
  const tp = input.hardware.tensor_parallel ?? 1;
  const pp = input.hardware.pipeline_parallel ?? 1;
  checkParallelism(arch, gpu, tp, pp);
  const { engine, policy } = resolveEngine(input, arch, gpu);

  const precision = { weights: input.precision?.weights ?? 'bf16', kv_cache: input.precision?.kv_cache ?? 'bf16' } as const;
  const gpu_memory_utilization = input.hardware.gpu_memory_utilization ?? 0.9;
  const profile = scenarioProfile(input, gpu);
  const replicas = input.cluster?.replicas ?? 1;
  const kv = sizeKv(
    { arch, gpu, tensor_parallel: tp, pipeline_parallel: pp, precision, gpu_memory_utilization, engine, replicas, workload: input.workload },
    policy,
  );
  const warmup_s = checkedWarmup(input);
  const scenario: ResolvedScenario = {
    seed: input.seed ?? 0,
    model: input.model,
    hardware: { gpu: gpu.name, tensor_parallel: tp, pipeline_parallel: pp, gpu_memory_utilization, profile: profile?.ref ?? null },
    precision,
    cluster: resolveCluster(input, replicas),
    engine,
    workload: input.workload,
    slo: { ...(input.slo ?? {}) },
    metrics: { warmup_s, uncertainty: input.metrics?.uncertainty ?? true },
    cost: { usd_per_gpu_hour: input.cost?.usd_per_gpu_hour ?? gpu.usd_per_gpu_hour },
    output: { dir: input.output?.dir, tokens: input.output?.tokens ?? false },
    emulates: policy.emulates,
  };
  return { scenario, arch, gpu, kv, profile };
}

/** The router and its settings: a setting the chosen router does not take is refused, not ignored. */
function resolveCluster(input: ScenarioInput, replicas: number): ResolvedScenario['cluster'] {
  const router = input.cluster?.router ?? 'round-robin';
  const accepts = ROUTERS[router].traits.keys ?? [];
  const cluster: ResolvedScenario['cluster'] = { replicas, router };
  for (const key of ROUTER_KEYS) {
    const given = input.cluster?.[key];
    if (accepts.includes(key)) cluster[key] = given ?? DEFAULT_ROUTER_OPTIONS[key];
    else if (given !== undefined) {
      const takers = Object.values(ROUTERS).filter((f) => f.traits.keys?.includes(key)).map((f) => f.name);
      throw fieldError(`cluster.${key}`, `is used by the ${takers.join(' and ')} routers only (cluster.router is ${router})`, given);
    }
  }
  return cluster;
}
