import type { GpuSpec } from '../hardware/gpu.js';
import type { KvCapacity } from '../kv/capacity.js';
import type { LoadedProfile } from '../latency/profile/load.js';
import type { ModelArchitecture } from '../model/architecture.js';
import type { RouterOptions } from '../routing/router.js';
import type { KvDtype, KvLink, PoolRole, RouterName, TrafficInput, WeightDtype, WorkloadSpec } from '../scenario/types.js';
import type { ResolvedEngine } from './engine.js';
import type { AutoscaleSettings } from '../autoscale/autoscaler.js';
import type { ResolvedColdStart } from './coldStart.js';
import type { ResolvedFailures, ResolvedFault } from './faults.js';

/** The one pool of a scenario without `pools:`. */
export const DEFAULT_POOL = 'default';

/** A router and the settings it takes (and only those). */
export type ResolvedRouting = { router: RouterName } & Partial<RouterOptions>;

/** The prefill → decode KV link, every key filled (sim/setup/disagg.ts). */
export interface ResolvedTransfer {
  link: KvLink;
  /** Per GPU, each direction, Gb/s. */
  bandwidth_gbps: number;
  latency_us: number;
  layerwise: boolean;
}

/** A pool as the resolved scenario lists it: every key filled, as for a scenario of its own. */
export interface ResolvedPool extends ResolvedRouting {
  name: string;
  replicas: number;
  role: PoolRole;
  model: string;
  hardware: ResolvedScenario['hardware'];
  precision: ResolvedScenario['precision'];
  engine: ResolvedEngine;
  usd_per_gpu_hour: number;
  emulates: string;
  autoscale?: AutoscaleSettings;
  cold_start?: ResolvedColdStart;
  failures?: ResolvedFailures;
}

/** Every key filled: what the run actually used. */
export interface ResolvedScenario {
  seed: number;
  model: string;
  /** `profile`: the latency profile used (a shipped name or a path), null when none is shipped for the GPU. */
  hardware: { gpu: string; tensor_parallel: number; pipeline_parallel: number; gpu_memory_utilization: number; profile: string | null };
  precision: { weights: WeightDtype; kv_cache: KvDtype };
  /** Router settings only where the router takes them: a router's settings are listed only when they apply. */
  /** `max_retries` is the gateway's, the same for every pool. */
  cluster: { replicas: number; max_retries: number } & ResolvedRouting;
  engine: ResolvedEngine;
  workload: WorkloadSpec;
  slo: { ttft_ms?: number; tpot_ms?: number; e2e_ms?: number };
  metrics: { warmup_s: number; uncertainty: boolean; interval_s: number };
  cost: { usd_per_gpu_hour: number };
  output: { dir?: string; tokens: boolean };
  emulates: string;
  /** Only for a scenario with `pools:` (the fields above are then its first pool's). */
  pools?: ResolvedPool[];
  /** Only for a scenario with `traffic:`, defaults filled. */
  traffic?: TrafficInput;
  /** Only with an autoscaler: its settings, HPA's defaults filled. */
  autoscale?: AutoscaleSettings;
  /** With an autoscaler, a `cold_start` section or failures: what starting a replica takes. */
  cold_start?: ResolvedColdStart;
  /** Only with a `failures` section: random failures, defaults filled. */
  failures?: ResolvedFailures;
  /** Only with prefill and decode pools: the KV link between them, defaults filled. */
  transfer?: ResolvedTransfer;
  /** Only with a `faults` section: each fault's pool named and down time filled. */
  faults?: ResolvedFault[];
}

/** A pool as resolved: its name, and its own setup (a single-pool run's worth: model, GPU, engine, KV cache, profile, router). */
export interface PoolSetup {
  name: string;
  setup: RunSetup;
  /** unified, prefill (hands each prompt's KV to a decode pool) or decode. */
  role: PoolRole;
  /** Serves only mirrored copies (the target of traffic.shadow). */
  shadow: boolean;
}

/** A resolved scenario with what it was resolved against: the model, the GPU, the KV cache, the latency profile. */
export interface RunSetup {
  scenario: ResolvedScenario;
  arch: ModelArchitecture;
  gpu: GpuSpec;
  kv: KvCapacity;
  /** The latency profile, loaded and checked once here (null: none is shipped for the GPU); the latency model uses it. */
  profile: LoadedProfile | null;
  /**
   * Every pool, in scenario order; one pool `default` (this very setup) for a scenario without
   * `pools:`. With pools, the fields above are the first pool's, and `scenario.pools` lists all.
   */
  pools: PoolSetup[];
}

