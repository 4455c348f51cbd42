import type { Request } from '../workload/request.js';

/** Where a replica is in its life. Only `ready` replicas are offered to a router. */
export type ReplicaState = 'starting' | 'ready' | 'draining' | 'stopped' | 'failed';

/** What a router may read about a replica: what a real gateway could see. */
export interface ReplicaLoad {
  /** The replica's index in the cluster (stable for its life). */
  readonly index: number;
  /** Requests routed to the replica and not yet finished. */
  readonly outstanding: number;
  /** Requests routed to the replica that no step has started yet (vLLM's `num_requests_waiting`). */
  readonly waiting: number;
  /** Share of the replica's KV blocks in use, 0..1 (vLLM's `kv_cache_usage_perc`, as a fraction). */
  readonly kv_used_fraction: number;
  /**
   * Tokens of work sent to the replica and not yet finished: each unfinished request's prompt plus
   * the output its samples are to generate (what a gateway that counts tokens in and out holds).
   */
  readonly outstanding_tokens: number;
  /** The name of the pool the replica belongs to (`pools[].name`; `default` for a scenario without pools). */
  readonly pool: string;
  /**
   * Prompt tokens of `request` the replica holds in its prefix cache now (whole blocks from the
   * start), as a cache-aware gateway's index of the replicas' caches would say. Changes nothing.
   */
  cached_prefix_tokens(request: Request): number;
  /**
   * Multi-LoRA (engine.lora): whether the replica holds `adapter` in one of its GPU adapter slots
   * now, and how many of those slots are free (what vLLM's `vllm:lora_requests_info` metric lets a
   * LoRA-aware gateway see). Without LoRA: false and 0.
   */
  has_adapter(adapter: number): boolean;
  readonly free_adapter_slots: number;
}

/** A replica's GPU-resident LoRA adapters as a router sees them (sim/cluster/adapterCache.ts keeps them). */
export interface AdapterResidency {
  has(adapter: number): boolean;
  readonly free_slots: number;
}

/** The load figures a router may declare it reads (everything in ReplicaLoad but the index). */
export const LOAD_FIELDS = [
  'outstanding',
  'waiting',
  'kv_used_fraction',
  'outstanding_tokens',
  'pool',
  'cached_prefix_tokens',
  'has_adapter',
  'free_adapter_slots',
] as const satisfies readonly (keyof ReplicaLoad)[];

/** The position of the lightest candidate by `lighter` (the first on a tie, so the choice is deterministic). */
export function lightestBy(candidates: readonly ReplicaLoad[], lighter: (a: ReplicaLoad, b: ReplicaLoad) => boolean): number {
  let best = 0;
  for (let i = 1; i < candidates.length; i++) if (lighter(candidates[i], candidates[best])) best = i;
  return best;
}

/** Router settings a scenario may give (`cluster.<key>`); a router lists those it accepts in its traits. */
export interface RouterOptions {
  /**
   * How many more waiting requests the affine replica (longest cached prefix, or the session's)
   * may have than the lightest before the request goes to the lightest instead.
   */
  balance_threshold: number;
  /** prompt-length: prompts of at least this many tokens go to `long_prompt_pool`. */
  long_prompt_tokens: number;
  /** prompt-length: the pool long prompts go to (the others go to the remaining pools); '' when unset. */
  long_prompt_pool: string;
  /** latency-aware: the latency whose moving average ranks replicas. */
  latency_metric: 'ttft' | 'e2e';
  /** latency-aware: the weight of the newest observation in the exponentially weighted moving average, in (0, 1]. */
  ewma_alpha: number;
  /** weighted: each normalized scorer's weight (≥ 0; at least one positive). */
  weights: RouterWeights;
}
/** The scorers of the weighted router, as llm-d's scheduler names its scorer plugins. */
export interface RouterWeights {
  queue: number;
  kv: number;
  prefix: number;
  tokens: number;
}
export type RouterKey = keyof RouterOptions;
export const ROUTER_KEYS: readonly RouterKey[] = ['balance_threshold', 'long_prompt_tokens', 'long_prompt_pool', 'latency_metric', 'ewma_alpha', 'weights'];
/**
 * The routers' settings when a scenario gives none:
 * - balance_threshold: SGLang's cache-aware router starts balancing when the busiest worker has
 *   more than 64 requests over the idlest (its `--balance-abs-threshold` default, as GPUStack's
 *   router docs list it for sglang-gateway v0.3.1); a single absolute threshold here.
 * - long_prompt_tokens: no gateway we know of has such a default. 8192 is vLLM V1's per-step token
 *   budget for a server on an H100/H200-class GPU (see v1Defaults in sim/scheduler/traits.ts): a
 *   prompt that long fills whole steps with its prefill by itself, which is when it delays the
 *   other requests' first tokens most.
 * - long_prompt_pool: none, so that a scenario must name it (with none, every prompt may go anywhere).
 * - latency_metric: time to first token, the latency that queueing on a replica moves most.
 * - ewma_alpha: no source; 0.3 weighs the newest observation like a plain mean of about the last
 *   5-6 (an EWMA matches the N-sample mean when alpha = 2/(N + 1)), so the average follows a
 *   replica that slows down within a handful of its requests without jumping on one outlier.
 * - weights: the default scheduling profile of the Gateway API Inference Extension's InferencePool
 *   chart, whose endpoint picker llm-d's scheduler extends (queue-scorer 2, kv-cache-utilization-scorer
 *   2, prefix-cache-scorer 3: config/charts/inferencepool/templates/epp-config.yaml in
 *   kubernetes-sigs/gateway-api-inference-extension at 0ae94df; Red Hat's llm-d docs describe the
 *   same queue 2 and prefix 3 as the default). That profile has no token scorer: 0.
 */
export const DEFAULT_ROUTER_OPTIONS: RouterOptions = {
  balance_threshold: 64,
  long_prompt_tokens: 8192,
  long_prompt_pool: '',
  latency_metric: 'ttft',
  ewma_alpha: 0.3,
  weights: { queue: 2, kv: 2, prefix: 3, tokens: 0 },
};

/**
 * Picks a replica for an arriving request among those that can take it (`candidates`, never
 * empty, in cluster order); returns a position in `candidates`.
 */
export interface Router {
  route(request: Request, candidates: readonly ReplicaLoad[]): number;
  /**
   * A request this router placed on replica `replica` finished: its latencies as the gateway saw
   * them (`ttft_s` null when it had no token). Called in finish order; for routers that learn.
   */
  observe?(replica: number, ttft_s: number | null, e2e_s: number): void;
}

/** What a router policy is, for the scenario's checks and the conformance suite. */
export interface RouterTraits {
  /** Draws from its own seeded random stream (else its choice is a function of what it has seen). */
  readonly randomized: boolean;
  /** The replica figures its choice reads. */
  readonly reads: readonly (keyof ReplicaLoad)[];
  /** The `cluster.*` settings it takes (others are refused when it is chosen). */
  readonly keys?: readonly RouterKey[];
  /** One line for summaries and docs. */
  readonly description: string;
}

export interface RouterFactory {
  readonly name: string;
  readonly traits: RouterTraits;
  /** A fresh router for one run; `seed` is the scenario's (randomized routers derive their stream from it). */
  create(seed: number, options: RouterOptions): Router;
}
