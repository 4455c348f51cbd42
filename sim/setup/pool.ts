import { getGpu } from '../hardware/catalog.js';
import type { GpuSpec } from '../hardware/gpu.js';
import { defaultProfileFor, loadProfile, type LoadedProfile } from '../latency/profile/load.js';
import { resolveSpeculative } from './speculative.js';
import { checkAdapterRequests, resolveLora } from './lora.js';
import { getModel } from '../model/catalog.js';
import type { RouterSettings, RouterWeightsInput, ScenarioInput } from '../scenario/types.js';
import { sizeKv } from './capacity.js';
import { checkedWarmup, checkParallelism } from './checks.js';
import { checkPipeline } from './pipeline.js';
import { resolveEngine } from './engine.js';
import { fieldError } from '../errors.js';
import { ROUTERS } from '../routing/registry.js';
import { DEFAULT_ROUTER_OPTIONS, ROUTER_KEYS, type RouterOptions, type RouterWeights } from '../routing/router.js';
import { resolveAutoscale } from './autoscale.js';
import { resolveColdStart } from './coldStart.js';
import { DEFAULT_MAX_RETRIES, resolveFailures } from './faults.js';
import type { AutoscaleSettings } from '../autoscale/autoscaler.js';
import { DEFAULT_POOL, type ResolvedRouting, type ResolvedScenario, type RunSetup } from './types.js';

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
export function resolvePool(input: ScenarioInput, replicasField = 'cluster.replicas'): RunSetup {
  const arch = getModel(input.model);
  const gpu = getGpu(input.hardware.gpu);
  const tp = input.hardware.tensor_parallel ?? 1;
  const pp = input.hardware.pipeline_parallel ?? 1;
  checkParallelism(arch, gpu, tp, pp);
  const { engine, policy } = resolveEngine(input, arch, gpu);
  const speculative = resolveSpeculative(input.engine?.speculative, policy, arch);
  if (speculative !== undefined) engine.speculative = speculative;
  const lora = resolveLora(input.engine?.lora, policy, arch, gpu, tp, pp);
  if (lora !== undefined) engine.lora = lora;
  checkAdapterRequests(input.workload, lora);
  checkPipeline(pp, policy, speculative !== undefined);

  const precision = { weights: input.precision?.weights ?? 'bf16', kv_cache: input.precision?.kv_cache ?? 'bf16' } as const;
  const gpu_memory_utilization = input.hardware.gpu_memory_utilization ?? 0.9;
  const profile = scenarioProfile(input, gpu);
  const replicas = input.cluster?.replicas ?? 1;
  const autoscale = scaling(input, replicas, replicasField);
  // The simulator's memory bound holds for the most replicas the pool may have.
  const most = Math.max(1, replicas, autoscale?.max_replicas ?? 0);
  const kv = sizeKv(
    { arch, gpu, tensor_parallel: tp, pipeline_parallel: pp, precision, gpu_memory_utilization, engine, replicas: most, workload: input.workload },
    policy,
  );
  const warmup_s = checkedWarmup(input);
  const scenario: ResolvedScenario = {
    seed: input.seed ?? 0,
    model: input.model,
    hardware: { gpu: gpu.name, tensor_parallel: tp, pipeline_parallel: pp, gpu_memory_utilization, profile: profile?.ref ?? null },
    precision,
    cluster: { replicas, max_retries: input.cluster?.max_retries ?? DEFAULT_MAX_RETRIES, ...resolveRouting(input.cluster, 'cluster') },
    engine,
    workload: input.workload,
    slo: { ...(input.slo ?? {}) },
    metrics: { warmup_s, uncertainty: input.metrics?.uncertainty ?? true, interval_s: input.metrics?.interval_s ?? 10 },
    cost: { usd_per_gpu_hour: gpuPrice(input, gpu) },
    output: { dir: input.output?.dir, tokens: input.output?.tokens ?? false },
    emulates: policy.emulates,
    ...(autoscale === undefined ? {} : { autoscale }),
    // A replica started by an autoscaler or after a failure pays a cold start.
    ...(autoscale === undefined && input.cold_start === undefined && !faulty(input) ? {} : { cold_start: resolveColdStart(input.cold_start, arch, kv.weight_bytes) }),
    ...(input.failures === undefined ? {} : { failures: resolveFailures(input.failures) }),
  };
  const setup: RunSetup = { scenario, arch, gpu, kv, profile, pools: [] };
  setup.pools.push({ name: DEFAULT_POOL, setup, role: 'unified', shadow: false });
  return setup;
}

/** Whether replicas of this scenario may fail (and be replaced). */
function faulty(input: ScenarioInput): boolean {
  return input.failures !== undefined || input.faults !== undefined;
}

/** The autoscaler's settings, if any; a pool may start empty only when it may scale from zero. */
function scaling(input: ScenarioInput, replicas: number, replicasField: string): AutoscaleSettings | undefined {
  if (input.autoscale !== undefined) return resolveAutoscale(input.autoscale, replicas, replicasField);
  if (replicas === 0) throw fieldError(replicasField, 'can be 0 only with an autoscaler that may scale the pool from zero (autoscale with min_replicas 0)', replicas);
  return undefined;
}

/** The price of an hour of `gpu`: the scenario's (one for all, or this GPU's in a map), else the catalog's. */
export function gpuPrice(input: ScenarioInput, gpu: GpuSpec): number {
  const price = input.cost?.usd_per_gpu_hour;
  if (price === undefined) return gpu.usd_per_gpu_hour;
  if (typeof price === 'number') return price;
  // Keys are GPU names as the catalog knows them (any spelling it accepts): `H100-SXM` prices h100-sxm.
  const own = Object.entries(price).find(([name]) => getGpu(name, `cost.usd_per_gpu_hour.${name}`).name === gpu.name)?.[1];
  if (own === undefined) {
    throw fieldError('cost.usd_per_gpu_hour', `lists no price for GPU ${gpu.name} (it lists ${Object.keys(price).join(', ')}); give every GPU the scenario uses a price`, price);
  }
  return own;
}

/**
 * The router of `settings` (else `fallback`'s) and its settings: a setting the chosen router does
 * not take is refused, not ignored. `where` prefixes the field names in messages (`cluster`, `pools[1]`).
 */
export function resolveRouting(settings: RouterSettings | undefined, where: string, fallback?: ResolvedRouting): ResolvedRouting {
  const router = settings?.router ?? fallback?.router ?? 'round-robin';
  const accepts = ROUTERS[router].traits.keys ?? [];
  const routing: ResolvedRouting = { router };
  const inherited = settings?.router === undefined ? fallback : undefined;
  for (const key of ROUTER_KEYS) {
    const given = settings?.[key];
    if (accepts.includes(key)) {
      const value = given === undefined ? (inherited?.[key] ?? DEFAULT_ROUTER_OPTIONS[key]) : key === 'weights' ? listedWeights(given as RouterWeightsInput, `${where}.weights`) : given;
      (routing as Record<string, unknown>)[key] = value;
    } else if (given !== undefined) {
      const takers = Object.values(ROUTERS).filter((f) => f.traits.keys?.includes(key)).map((f) => f.name);
      throw fieldError(`${where}.${key}`, `is used by the ${takers.join(' and ')} routers only (${where}.router is ${router})`, given);
    }
  }
  return routing;
}

/** Weights as a scenario lists them: the scorers it leaves out weigh nothing (as llm-d runs only the scorers its config lists). */
function listedWeights(given: RouterWeightsInput, field: string): RouterWeights {
  const weights = { queue: given.queue ?? 0, kv: given.kv ?? 0, prefix: given.prefix ?? 0, tokens: given.tokens ?? 0 };
  if (weights.queue + weights.kv + weights.prefix + weights.tokens <= 0) {
    throw fieldError(field, 'must give at least one scorer (queue, kv, prefix, tokens) a positive weight', given);
  }
  return weights;
}

/** The settings a router is created with: its own, over the defaults. */
export function routerOptions(routing: ResolvedRouting): RouterOptions {
  const { router: _router, ...own } = routing;
  return { ...DEFAULT_ROUTER_OPTIONS, ...own };
}
