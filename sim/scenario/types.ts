/**
 * The scenario as a user writes it, after validation: every key the schema knows, optional
 * where the user may leave it out. `resolve.ts` turns this into a `ResolvedScenario` with all
 * defaults filled (some depend on the GPU and model, so they cannot live in the schema).
 */

export type WeightDtype = 'fp32' | 'fp16' | 'bf16' | 'fp8' | 'int8' | 'int4';
export type KvDtype = 'fp16' | 'bf16' | 'fp8';
/**
 * A router's or a scheduler's name: one registered in sim/routing/registry.ts or
 * sim/scheduler/registry.ts (built in, or added at run time). The vocabulary does not list them:
 * adding a policy is its own file plus one registry line, and validation asks the registries
 * (through sim/setup/load.ts) which names exist.
 */
export type RouterName = string;
export type SchedulerName = string;
/** The policy names a scenario may use, as the registries list them (in their order, for messages). */
export interface PolicyNames {
  readonly schedulers: readonly string[];
  readonly routers: readonly string[];
}
/** `auto` is vLLM V0's rule: recompute a single-sequence request, swap a group of samples (n > 1). */
export type PreemptionMode = 'recompute' | 'swap' | 'auto';
export type OrcaReservation = 'max' | 'pow2' | 'oracle';
export type SchedulingPolicy = 'fcfs' | 'priority';
export type EngineUsage = 'server' | 'offline';
export type TraceFormat = 'csv' | 'jsonl' | 'azure-2023' | 'mooncake' | 'vidur' | 'azure-2024' | 'burstgpt' | 'splitwise' | 'arrow';

/** Options of format burstgpt (docs/traces.md). */
export interface BurstGptOptions {
  /** Rows with `Response tokens` 0 (failed requests): dropped (default) or replayed with a 1-token output. */
  failed?: 'drop' | 'keep';
  /** Keep only rows of this `Log Type` (Conversation log / API log); default: both. */
  log_type?: 'conversation' | 'api';
  /** BurstGPT model name → the scenario's model for such requests; without it the Model column is ignored. */
  models?: Record<string, string>;
}

/** Generic csv/jsonl traces name the columns that hold each field. */
export interface TraceColumns {
  /** Column with the arrival time. Omit for a trace with no timestamps (all arrive at t=0 unless `workload.arrival` is given). */
  arrival?: string;
  /** Unit of the arrival column. */
  arrival_unit?: 's' | 'ms' | 'us';
  input_tokens: string;
  output_tokens: string;
  /** Column naming each request's model (a pool's `model`); absent: every request is for the top-level model. */
  model?: string;
  /** Column with each request's user id (any string or number), for `traffic.sticky_by: user`. */
  user?: string;
  /** Column naming each request's LoRA adapter (any string; empty or absent: the base model). Needs engine.lora. */
  adapter?: string;
}

export interface TraceSpec {
  /** Absolute path (relative paths were resolved against the scenario file's folder). */
  path: string;
  format: TraceFormat;
  columns?: TraceColumns;
  /** Multiply arrival times by 1/speedup (replay a trace faster or slower). */
  speedup?: number;
  /** Format burstgpt only. */
  burstgpt?: BurstGptOptions;
}

/** One step of a rate schedule: `rate_per_s` (≥ 0) from the previous step's `until_s` (0 for the first) up to its own. */
export interface RateStep {
  until_s: number;
  rate_per_s: number;
}

/** rate(t) = mean × (1 + amplitude × sin(2π (t − phase_s) / period_s)), amplitude in [0, 1]. */
export interface DiurnalRate {
  mean: number;
  amplitude: number;
  period_s: number;
  phase_s?: number;
}

/**
 * Requests per second: a constant; a schedule of steps (no arrival after the last `until_s`); or a
 * sinusoid. sim/workload/README.md says how each process follows a rate that varies.
 */
export type ArrivalRate = number | RateStep[] | DiurnalRate;

export type ArrivalSpec =
  | { process: 'poisson'; rate_per_s: ArrivalRate }
  | { process: 'gamma'; rate_per_s: ArrivalRate; cv: number }
  | { process: 'constant'; rate_per_s: ArrivalRate }
  | { process: 'burst' };

export type LengthDist =
  | { dist: 'fixed'; value: number }
  | { dist: 'uniform'; min: number; max: number }
  | { dist: 'normal'; mean: number; std: number; min?: number; max?: number }
  | { dist: 'lognormal'; mean: number; sigma: number; min?: number; max?: number }
  | { dist: 'zipf'; s: number; min: number; max: number }
  /** Sample from the lengths column of a file (csv with header, or jsonl). */
  | { dist: 'empirical'; path: string; column: string };

export interface WorkloadSpec {
  trace?: TraceSpec;
  arrival?: ArrivalSpec;
  /** Closed loop: this many requests in flight; the next is sent when one finishes. */
  concurrency?: number;
  input_tokens?: LengthDist;
  output_tokens?: LengthDist;
  num_requests?: number;
  duration_s?: number;
  /** Shared system prompts: `groups` prompts of `tokens` tokens, put in front of a `fraction` of requests (group drawn uniformly). */
  prefix?: { groups: number; tokens: number; fraction: number };
  /**
   * Multi-turn sessions: each arrival (or closed-loop slot) starts a session of `turns` requests; turn
   * t + 1's prompt is turn t's prompt + its answer + a new input_tokens draw, sent `think_time_s`
   * after turn t completes.
   */
  sessions?: { turns: LengthDist; think_time_s: number };
  /** Priority classes drawn per request by weight; lower `priority` is served first (vLLM's convention). */
  priority?: { classes: { priority: number; weight: number; name?: string }[] };
  /** A request still waiting (never scheduled) this long after arriving leaves as `timed_out`. */
  timeout_s?: number;
  /** Samples returned per request (OpenAI `n`). */
  n?: number;
  /** Samples generated per request (≥ n; the best n are returned). */
  best_of?: number;
  /** The client's max_tokens: longer outputs are cut to it; Orca reserves it. Default: max_model_len − prompt. */
  max_tokens?: number;
  /** Generated requests draw their model by weight (names are pools' models); absent: the top-level model. */
  models?: { name: string; weight: number }[];
  /** Generated requests come from this many users, whose activity follows Zipf's law (s = 1): user k sends ∝ 1/k. */
  users?: number;
  /** Multi-LoRA: each request (each session) names one of `adapters` LoRA adapters, or none. Needs engine.lora. */
  lora?: WorkloadLoraInput;
}

export type AdapterPopularity = 'zipf' | 'uniform' | 'round_robin';

/** Which LoRA adapter each generated request names (ids 0 … adapters − 1), from a seeded stream of its own ('lora'). */
export interface WorkloadLoraInput {
  adapters: number;
  /** zipf (default): adapter k drawn ∝ 1/(k + 1)^zipf_alpha; uniform; round_robin: 0, 1, …, adapters − 1, 0, … in turn. */
  popularity?: AdapterPopularity;
  /** Zipf's exponent (default 1.0). */
  zipf_alpha?: number;
  /** Share of requests that name no adapter (the base model), 0..1 (default 0). */
  base_fraction?: number;
}

export interface ScenarioInput {
  seed?: number;
  /** Catalog name, or an absolute path to a Hugging Face config.json. */
  model: string;
  hardware: {
    gpu: string;
    tensor_parallel?: number;
    pipeline_parallel?: number;
    gpu_memory_utilization?: number;
    /** Latency profile: a name in profiles/ (without .json) or a path to a profile file; absent: the best shipped one for the GPU. */
    profile?: string;
  };
  precision?: { weights?: WeightDtype; kv_cache?: KvDtype };
  /** Router settings: each only for the routers that take it (balance_threshold: prefix-affinity, session-affinity; …). */
  cluster?: ClusterInput;
  /** Several pools of replicas; the top-level model, hardware, precision and engine are what each pool overrides. */
  pools?: PoolInput[];
  /** An autoscaler for the replicas (each pool's, merged under a pool's own `autoscale`). */
  autoscale?: AutoscaleInput;
  /** What starting a replica takes (each pool's, merged under a pool's own `cold_start`). */
  cold_start?: ColdStartInput;
  /** Random replica failures (each pool's, merged under a pool's own `failures`). */
  failures?: FailuresInput;
  /** Replica failures at given times. */
  faults?: FaultInput[];
  traffic?: TrafficInput;
  /** The link a request's KV crosses from a prefill pool to a decode pool (disaggregated serving). */
  transfer?: TransferInput;
  engine?: EngineInput;
  workload: WorkloadSpec;
  slo?: { ttft_ms?: number; tpot_ms?: number; e2e_ms?: number };
  metrics?: {
    warmup_s?: number;
    /** Re-run at the edges of the latency model's error band and report low/high bounds (default true). */
    uncertainty?: boolean;
    /** cluster.arrow's interval: one row per pool per this many seconds (default 10). */
    interval_s?: number;
  };
  /** A price for every GPU, or one per GPU name (each pool's GPU must be listed). */
  cost?: { usd_per_gpu_hour?: number | Record<string, number> };
  output?: { dir?: string; tokens?: boolean };
  /**
   * Used by `infersim sweep` only (`infersim run` ignores it): dotted key paths, each with the
   * values to sweep; `grid` lists form a cartesian product, `zip` lists advance together.
   */
  sweep?: { grid?: Record<string, unknown[]>; zip?: Record<string, unknown[]> };
}

export type SpeculativeMethod = 'draft' | 'eagle' | 'mtp' | 'ngram';

/** Speculative decoding: each step proposes `k` tokens per sequence, the target verifies them in one pass. */
export interface SpeculativeInput {
  method: SpeculativeMethod;
  /** The draft model (method draft only): catalog name or config.json path. */
  model?: string;
  /** Tokens proposed per step (vLLM's num_speculative_tokens). */
  k: number;
  /** Acceptance: one rate α for every position, or one per position (k of them). */
  acceptance?: number | number[];
}

/** Multi-LoRA serving (vLLM's --enable-lora with its LoRA settings); keys left out take vLLM's defaults. */
export interface LoraInput {
  /** Distinct adapters one step may hold: the GPU adapter slots. */
  max_loras?: number;
  /** The largest adapter rank served; every slot is allocated at this rank. */
  max_lora_rank?: number;
  /** Adapters kept in CPU memory (≥ max_loras). */
  max_cpu_loras?: number;
}

/** The engine section of a scenario (or of a pool, overriding it). */
export interface EngineInput {
  speculative?: SpeculativeInput;
  lora?: LoraInput;
  scheduler?: SchedulerName;
  usage?: EngineUsage;
  max_num_seqs?: number;
  max_num_batched_tokens?: number;
  block_size?: number;
  enable_chunked_prefill?: boolean;
  preemption?: PreemptionMode;
  max_model_len?: number;
  num_gpu_blocks_override?: number;
  cuda_graphs?: boolean;
  /** The vLLM release whose defaults and memory accounting to follow ("0.6", "0.10.1"); default the current one. */
  vllm_version?: string;
  /** Server-side time before the scheduler sees a request (HTTP handling, tokenization), ms. */
  frontend_input_ms?: number;
  /** Server-side time from a token's step end to the client (detokenization, streaming), ms. */
  frontend_output_ms?: number;
  /** CPU swap space per GPU, GiB (vLLM V0's swap_space). */
  swap_space_gb?: number;
  enable_prefix_caching?: boolean;
  orca_reservation?: OrcaReservation;
  /** Requests per batch for the request-level schedulers (static, dynamic). */
  max_batch_size?: number;
  /** How long the dynamic batcher waits to fill a batch, ms. */
  batch_timeout_ms?: number;
  /** Waiting requests a replica holds; arrivals beyond it are rejected. */
  max_queue_len?: number;
  scheduling_policy?: SchedulingPolicy;
}


/** The weighted router's scorers; a scenario lists those it uses (the others weigh 0). */
export interface RouterWeightsInput {
  queue?: number;
  kv?: number;
  prefix?: number;
  tokens?: number;
}

/** The top-level `cluster` section: the replicas of a scenario without pools, and the router. */
export interface ClusterInput extends RouterSettings {
  replicas?: number;
  /** Times the gateway resends a request whose replica failed under it (then it ends `failed`). */
  max_retries?: number;
}

/** How a group of replicas is routed: `cluster.*` at the top level, or a pool's own override. */
export interface RouterSettings {
  router?: RouterName;
  /** prefix-affinity, session-affinity: waiting requests the affine replica may have over the lightest. */
  balance_threshold?: number;
  /** prompt-length: prompts of at least this many tokens go to `long_prompt_pool`. */
  long_prompt_tokens?: number;
  long_prompt_pool?: string;
  /** latency-aware: which observed latency it averages, and the newest observation's weight. */
  latency_metric?: 'ttft' | 'e2e';
  ewma_alpha?: number;
  /** weighted: the scorers' weights. */
  weights?: RouterWeightsInput;
}

export interface PoolHardwareInput {
  gpu?: string;
  tensor_parallel?: number;
  pipeline_parallel?: number;
  gpu_memory_utilization?: number;
  profile?: string;
}

export type PoolRole = 'unified' | 'prefill' | 'decode';
export type KvLink = 'nvlink' | 'infiniband' | 'roce' | 'pcie' | 'tcp';

/** The KV transfer link between prefill and decode replicas; defaults per link are setup's (sourced). */
export interface TransferInput {
  link?: KvLink;
  /** Per GPU, each direction, gigabits per second (a TP group's GPUs send their shards in parallel). */
  bandwidth_gbps?: number;
  /** Fixed cost of one transfer (set-up, first byte), microseconds. */
  latency_us?: number;
  /** Overlap the transfer with the prefill's last step, layer by layer (Splitwise). */
  layerwise?: boolean;
}

/**
 * One pool: `replicas` engines alike, each key given overriding the top-level one (nested
 * sections merge key by key). `router` and its settings route requests within the pool.
 */
export interface PoolInput extends RouterSettings {
  name: string;
  replicas: number;
  /** unified (default): serves requests whole; prefill: runs prompts and hands their KV to a decode pool; decode: continues them. */
  role?: PoolRole;
  model?: string;
  hardware?: PoolHardwareInput;
  precision?: { weights?: WeightDtype; kv_cache?: KvDtype };
  /** Engine keys, as the top-level `engine` section takes them. */
  engine?: EngineInput;
  autoscale?: AutoscaleInput;
  cold_start?: ColdStartInput;
  failures?: FailuresInput;
}

export type CanaryMetric = 'ttft_p99' | 'e2e_p99' | 'tpot_p99' | 'error_rate';

/** Traffic management across pools serving one model. */
export interface TrafficInput {
  /** A/B: each request of the pools' model goes to one pool, by weight. */
  split?: { pool: string; weight: number }[];
  /** What keeps a client on one pool of a split: its user id, its session, or nothing (each request drawn). */
  sticky_by?: 'user' | 'session' | 'none';
  canary?: {
    baseline: string;
    canary: string;
    /** Percent of the traffic the canary takes at each step, increasing, ending at most at 100. */
    steps: number[];
    interval_s: number;
    metric: CanaryMetric;
    /** The canary may be this fraction worse than the baseline (0.2: 20 % higher) and still step up. */
    max_regression: number;
    /** Fewer canary requests than this in an interval: no decision (the step holds). */
    min_requests?: number;
  };
  /** Mirrored copies of a fraction of `source`'s requests go to `target`; nobody waits for them. */
  shadow?: { source: string; target: string; fraction: number };
}

/** The load signals an autoscaler may scale on (per ready replica; ttft_p90_s over the last interval). */
export type AutoscaleMetricName = 'concurrency' | 'queue' | 'kv_utilization' | 'gpu_busy' | 'ttft_p90_s';

/** A pool's autoscaler (Kubernetes HPA semantics); keys left out take HPA's defaults. */
export interface AutoscaleInput {
  min_replicas?: number;
  max_replicas?: number;
  metric?: AutoscaleMetricName;
  target?: number;
  interval_s?: number;
  tolerance?: number;
  scale_up_stabilization_s?: number;
  scale_down_stabilization_s?: number;
  scale_up_percent?: number;
  scale_up_replicas?: number;
  scale_down_percent?: number;
  policy_period_s?: number;
}

export type WeightStorage = 'local_nvme' | 'network_volume' | 'object_store' | 'host_cache';

/** A replica's cold start: provisioning, then its weights read at `load_bandwidth_gbps` (GB/s per GPU), then the engine's start-up. */
export interface ColdStartInput {
  provisioning_s?: number;
  storage?: WeightStorage;
  load_bandwidth_gbps?: number;
  startup_s?: number;
}

/** Random failures of a pool's replicas: exponential times between failures of each GPU, seeded. */
export interface FailuresInput {
  /** Mean time between failures of one GPU, hours (a replica of G GPUs fails G times as often). */
  mtbf_h?: number;
  /** From a failure until the replacement replica starts its cold start, s. */
  repair_s?: number;
}

/** One replica failure at a given time. */
export interface FaultInput {
  at_s: number;
  /** The pool (default: the first). */
  pool?: string;
  /** Which of the pool's replicas up at `at_s`, from 0, in the order they were started. */
  replica: number;
  /** From the failure until the replacement starts its cold start (default: the pool's failures.repair_s, else 0), s. */
  down_s?: number;
}
