import type { LatencyBand } from '../latency/model.js';
import { LatencyMemo, rate, summarizeRun, type GroupAccumulator, type GroupSummary, type SloTargets } from './group.js';
import type { ReplicaLifetimes } from './lifetimes.js';
import type { PriorityClasses } from './priority.js';
import { modelSummaries, poolSummaries, type ModelSummary, type PoolRecords, type PoolSummary } from './pools.js';


/** What the caller knows at the end of a run and the sink does not. */
export interface FinishContext {
  /** Overrides the makespan measured from the requests (last finish − first arrival). */
  makespan_s?: number;
  /** GPUs of the replicas present from the run's start (those added later bring their own: MetricsSink.addReplica). */
  gpus: number;
  usd_per_gpu_hour: number;
  /** KV-cache figures from the engine (capacity), merged over the utilization derived from iterations. */
  kv?: Record<string, unknown>;
  /** The resolved scenario, written verbatim. */
  scenario?: unknown;
  /** Which latency model timed the steps, whether its parts were measured or modelled, and its parameters. */
  latency?: unknown;
  simulator?: SimulatorFigures;
  notes?: string[];
  /** Bounds from the runs at the latency band's edges; null (or absent) when there were none. */
  uncertainty?: UncertaintySummary | null;
  /** Per pool, replicas held at cluster.arrow's samples (for summary.json `pools`). */
  fleet?: readonly { peak_replicas: number; mean_replicas: number | null }[];
  /** Only for a scenario with faults or failures. */
  faults?: FaultSummary;
  disaggregation?: DisaggregationSummary;
  speculative?: SpeculativeSummary;
  pipeline?: PipelineSummary;
  lora?: LoraSummary;
}

/**
 * summary.json `lora` (engine.lora): adapter loads into GPU slots (from CPU memory, or first from
 * disk) and their time, how many distinct adapters the steps held, and the shares of busy time
 * spent loading adapters and in the LoRA kernels.
 */
export interface LoraSummary {
  max_loras: number;
  max_lora_rank: number;
  adapter_loads: number;
  adapter_loads_from_disk: number;
  load_time_s: number;
  steps_with_adapters: number;
  mean_adapters_per_step: number | null;
  max_adapters_per_step: number;
  load_time_share: number | null;
  compute_time_share: number | null;
}

/**
 * summary.json `pipeline` (hardware.pipeline_parallel > 1): micro-batches run, how many were in
 * flight on average while a replica had any, and the bubble: the share of stage time idle while
 * the replica had work in flight (1 − stage busy ÷ (stages × in-flight time)); sends count as idle.
 */
export interface PipelineSummary {
  stages: number;
  link: string;
  micro_batches: number;
  bubble_fraction: number | null;
}

/**
 * summary.json `speculative` (engine.speculative): verification steps, tokens proposed and
 * accepted (acceptance_rate = accepted ÷ proposed), tokens a verification yields on average
 * (accepted + 1 each), and the share of step time spent proposing (the rest verifies and runs
 * the other sequences).
 */
export interface SpeculativeSummary {
  method: string;
  k: number;
  verify_steps: number;
  drafted_tokens: number;
  accepted_tokens: number;
  acceptance_rate: number | null;
  mean_tokens_per_verify: number | null;
  draft_time_share: number | null;
}

/**
 * summary.json `disaggregation` (prefill and decode pools): the link, the transfers (bytes: Σ of
 * the tokens sent × the model's KV bytes per token, every TP shard), how long hand-offs waited for
 * decode blocks and transfers took (requests.arrow's kv_wait_s and kv_transfer_s), and each
 * role's busy fraction (step time ÷ (run time × its replicas)).
 */
export interface DisaggregationSummary {
  transfer: { link: string; bandwidth_gbps: number; latency_us: number; layerwise: boolean };
  transfers: number;
  bytes: number;
  /** Prompt tokens a decode replica found in its own prefix cache, which did not cross the link. */
  tokens_cached_at_decode: number;
  kv_wait_s: { mean: number | null; p50: number | null; p99: number | null; max: number | null };
  kv_transfer_s: { mean: number | null; p50: number | null; p99: number | null; max: number | null };
  busy_fraction: { prefill: number | null; decode: number | null };
}

/**
 * summary.json `faults`: replicas that failed, scripted faults that found no replica up, the
 * requests the failed replicas held (each resent or failed: requests_held = retried + failed), and
 * how long capacity took to come back: from each failure to its replacement being ready (over the
 * `recovered` replacements ready before the run ended; a drained replica that fails is not replaced).
 */
export interface FaultSummary {
  failures: number;
  skipped: number;
  requests_held: number;
  retried: number;
  failed: number;
  recovered: number;
  time_to_recover_s: { mean: number | null; max: number | null };
}

export interface SimulatorFigures {
  /** The main run's wall time (the band runs' is `uncertainty_wall_s`). */
  wall_s: number;
  events: number;
  events_per_s: number;
  /** Wall time the re-runs at the latency band's edges added after the main run (they may run beside it, in threads); null when there were none. */
  uncertainty_wall_s?: number | null;
}

/** A figure's range over the runs at the band's two edges: their minimum and maximum (null where both are null). */
export interface Bounds {
  low: number | null;
  high: number | null;
}

export interface StatBounds {
  p50: Bounds;
  p90: Bounds;
  p99: Bounds;
  mean: Bounds;
}

/**
 * summary.json `uncertainty`: the run repeated (same seed, same workload) with every iteration
 * time multiplied by 1 + band.low and by 1 + band.high; each bound is the min (low) and max
 * (high) of the two runs' figure. Under queueing a percentile need not move monotonically with
 * the time scale (batches form differently), so low/high are not "the low-edge run" and "the
 * high-edge run", and the main run's figure is not guaranteed to lie between them.
 */
export interface UncertaintySummary {
  method: 're-run at band edges';
  band: LatencyBand;
  /** The iteration-time multipliers of the two runs: 1 + band.low and 1 + band.high. */
  time_scale: { low: number; high: number };
  ttft_s: StatBounds;
  tpot_s: StatBounds;
  itl_s: StatBounds;
  e2e_s: StatBounds;
  throughput: { requests_per_s: Bounds; output_tokens_per_s: Bounds };
}

export interface Summary {
  /** Last finish − first arrival over all requests (or `FinishContext.makespan_s`); null without requests. */
  makespan_s: number | null;
  /**
   * Requests arriving before `warmup_s` are left out of every latency statistic, of SLO
   * attainment and of goodput (`requests.measured` counts the rest). They stay in requests.arrow,
   * in the request counts, throughput, tokens, preemptions, prefix-cache figures and cost.
   */
  warmup_s: number;
  /** Goodput's denominator: end of run − first measured arrival (= makespan without warmup). */
  measured_window_s: number | null;
  slo_targets: { ttft_ms: number | null; tpot_ms: number | null; e2e_ms: number | null };
  overall: GroupSummary;
  /**
   * Indexed by replica, 0..R−1, every replica that served (retired ones included). Throughput is
   * over the run's makespan, so replicas sum to overall. When replicas were added or retired
   * during the run, every entry also says when it served (`start_s`, `end_s`; null: from the
   * run's start, to its end) and its `gpu_hours`.
   */
  per_replica: (GroupSummary & { replica: number } & Partial<ReplicaLifetime>)[];
  /**
   * One entry per priority value seen (lower = more important), ascending; always present, a
   * single entry when every request has the same priority. Same rules as `overall` (warmup,
   * throughput over the makespan), so the entries' counts and throughputs sum to overall.
   */
  per_priority: (GroupSummary & { priority: number })[];
  /**
   * `KvFromIterations` (null without iterations), with the engine's KV figures
   * (`FinishContext.kv`: capacity, block size) merged over it.
   */
  kv: Record<string, unknown> | null;
  cost: {
    /** Every GPU that served at some point (replicas × GPUs each, for a fixed fleet). */
    gpus: number;
    usd_per_gpu_hour: number;
    gpu_hours: number | null;
    usd_total: number | null;
    usd_per_million_output_tokens: number | null;
    usd_per_million_total_tokens: number | null;
  };
  /** Per pool, in scenario order (only for a scenario with pools or several models); shadow pools' requests are not in `overall`. */
  pools?: PoolSummary[];
  /** Per model requests name (same condition as `pools`). */
  models?: ModelSummary[];
  /** See FaultSummary; only for a scenario with faults or failures. */
  faults?: FaultSummary;
  /** See DisaggregationSummary; only with prefill and decode pools. */
  disaggregation?: DisaggregationSummary;
  /** See SpeculativeSummary; only with engine.speculative. */
  speculative?: SpeculativeSummary;
  /** See PipelineSummary; only with pipeline parallelism. */
  pipeline?: PipelineSummary;
  /** See LoraSummary; only with engine.lora. */
  lora?: LoraSummary;
  /** Decisions of the traffic rules (canary steps, holds, roll-backs), in time order: events.arrow's rows with their figures as numbers. */
  events: Record<string, unknown>[];
  /** See UncertaintySummary; null when metrics.uncertainty is false or the latency model states no band (`notes` says which). */
  uncertainty: UncertaintySummary | null;
  simulator: SimulatorFigures | null;
  notes: string[];
  latency: unknown;
  scenario: unknown;
}

/**
 * summary.json `kv` figures derived from iterations.arrow's rows. Values per iteration are one
 * replica's pool; a "mean" is weighted by iteration duration (idle time between iterations does
 * not dilute it) over every iteration of every replica, a "max" is over iterations. Null where
 * undefined (no iteration lasted any time; fragmentation without `MetricsSinkOptions.block_size`
 * or without an iteration holding a block).
 */
export interface KvFromIterations {
  source: 'iterations';
  /** Fraction of the GPU pool's blocks in use (kv_blocks_used ÷ kv_blocks_total). */
  mean_utilization: number | null;
  max_utilization: number | null;
  /** Blocks (count) in the GPU pool holding an unreferenced prefix-cache entry: free but reusable. */
  cached_blocks_mean: number | null;
  cached_blocks_max: number | null;
  /** Blocks (count) held in the CPU swap pool. */
  swapped_blocks_mean: number | null;
  swapped_blocks_max: number | null;
  /**
   * Internal fragmentation, a fraction: kv_slots_unused ÷ (kv_blocks_used × block_size), over
   * iterations holding at least one block (the mean's weights are those iterations' durations).
   */
  fragmentation_mean: number | null;
  fragmentation_max: number | null;
  /** Totals over the run, in blocks: moved CPU → GPU, GPU → CPU, and prefix-cache entries evicted. */
  swap_in_blocks: number;
  swap_out_blocks: number;
  evicted_blocks: number;
}

/** A per_replica entry's lifetime, in runs where replicas came and went. */
export interface ReplicaLifetime {
  /** When the replica was added; null: present from the run's start. */
  start_s: number | null;
  /** When it was retired; null: it served to the run's end. */
  end_s: number | null;
  /** Its GPUs × the part of the run it served, in hours. */
  gpu_hours: number | null;
}

export interface RunSpan {
  first_arrival_s: number;
  first_measured_arrival_s: number;
  last_finish_s: number;
}

/** What the sink has accumulated over a run. */
export interface RunRecords {
  /** `replicas[r]` holds replica r's requests (every replica that served, retired ones included). */
  replicas: readonly GroupAccumulator[];
  /** The groups overall covers: every replica's but the shadow pools', and the requests rejected before routing. */
  overall: readonly GroupAccumulator[];
  /** For the `pools` and `models` sections (a scenario with pools or several models). */
  pools?: PoolRecords;
  /** The traffic rules' decisions, in time order. */
  events: Record<string, unknown>[];
  /** Every request again, by priority. */
  priorities: PriorityClasses;
  lifetimes: ReplicaLifetimes;
  span: RunSpan;
  slo: SloTargets;
  warmup_s: number;
  kv: KvFromIterations | null;
}

/** summary.json's content. The groups' latency samples are reordered in place. */
export function buildSummary(run: RunRecords, ctx: FinishContext): Summary {
  const { span, slo } = run;
  const any = Number.isFinite(span.first_arrival_s);
  const makespan_s = ctx.makespan_s ?? (any ? span.last_finish_s - span.first_arrival_s : null);
  const end_s = makespan_s === null ? null : span.first_arrival_s + makespan_s;
  const window_s = end_s !== null && Number.isFinite(span.first_measured_arrival_s) ? end_s - span.first_measured_arrival_s : null;
  // Figures over the same groups (a lone pool's and the overall ones) share their statistics.
  const memo = new LatencyMemo();
  const { overall, per_replica } = summarizeRun(run.replicas, run.overall, makespan_s, window_s, memo);
  const per_priority = run.priorities.summarize(overall, run.overall.every((g) => g.mirrored === 0), makespan_s, window_s);
  const gpu = makespan_s === null ? null : run.lifetimes.gpuHours(ctx.gpus, makespan_s, span.first_arrival_s);
  const partial = run.lifetimes.anyPartial;
  const pooled = run.pools === undefined ? undefined : { ...run.pools, gpu_hours: gpu === null ? null : gpu.perReplica, fleet: ctx.fleet };
  const pools = pooled === undefined ? undefined : poolSummaries(pooled, makespan_s, window_s, memo);
  return {
    makespan_s,
    warmup_s: run.warmup_s,
    measured_window_s: window_s,
    slo_targets: { ttft_ms: slo.ttft_ms ?? null, tpot_ms: slo.tpot_ms ?? null, e2e_ms: slo.e2e_ms ?? null },
    overall,
    // The index is also a field, so a consumer that filters or reorders entries keeps it. Lifetimes
    // only when replicas came or went: a fixed fleet's summary.json stays as it was.
    per_replica: per_replica.map((group, replica) =>
      partial ? { replica, ...run.lifetimes.span(replica), gpu_hours: gpu === null ? null : gpu.perReplica[replica], ...group } : { replica, ...group },
    ),
    per_priority,
    // Utilization measured from the iterations, plus the engine's capacity figures.
    kv: run.kv === null && ctx.kv === undefined ? null : { ...(run.kv ?? {}), ...(ctx.kv ?? {}) },
    cost: costFigures(ctx, gpu, partial, overall, pools),
    ...(pooled === undefined ? {} : { pools, models: modelSummaries(pooled, makespan_s, window_s, memo) }),
    ...(ctx.faults === undefined ? {} : { faults: ctx.faults }),
    ...(ctx.disaggregation === undefined ? {} : { disaggregation: ctx.disaggregation }),
    ...(ctx.speculative === undefined ? {} : { speculative: ctx.speculative }),
    ...(ctx.pipeline === undefined ? {} : { pipeline: ctx.pipeline }),
    ...(ctx.lora === undefined ? {} : { lora: ctx.lora }),
    events: run.events,
    uncertainty: ctx.uncertainty ?? null,
    simulator: ctx.simulator ?? null,
    notes: ctx.notes ?? [],
    latency: ctx.latency ?? null,
    scenario: ctx.scenario ?? null,
  };
}

/**
 * GPUs: every GPU that served at some point (with replicas that came and went, gpu_hours ÷ gpus is
 * then the mean hours per GPU); GPU-hours integrate each replica's lifetime.
 */
function costFigures(
  ctx: FinishContext,
  gpu: ReturnType<ReplicaLifetimes['gpuHours']> | null,
  partial: boolean,
  overall: GroupSummary,
  pools: PoolSummary[] | undefined,
): Summary['cost'] {
  const gpu_hours = gpu === null ? null : gpu.total;
  // Pools may price their GPUs differently: the total is each pool's hours at its price, and the price shown the blend.
  const pooled = pools === undefined || gpu_hours === null ? null : pools.reduce((acc, p) => acc + (p.usd_total as number), 0);
  const usd_total = pooled !== null ? pooled : gpu_hours === null || !Number.isFinite(ctx.usd_per_gpu_hour) ? null : gpu_hours * ctx.usd_per_gpu_hour;
  const blended = pooled !== null && gpu_hours !== null && gpu_hours > 0 && new Set(pools?.map((p) => p.usd_per_gpu_hour)).size > 1;
  return {
    gpus: partial && gpu !== null ? gpu.gpus : ctx.gpus,
    usd_per_gpu_hour: blended ? (pooled as number) / (gpu_hours as number) : ctx.usd_per_gpu_hour,
    gpu_hours,
    usd_total,
    usd_per_million_output_tokens: perMillion(usd_total, overall.tokens.output),
    usd_per_million_total_tokens: perMillion(usd_total, overall.tokens.output + overall.tokens.input),
  };
}

function perMillion(usd: number | null, tokens: number): number | null {
  const perToken = usd === null ? null : rate(usd, tokens);
  return perToken === null ? null : perToken * 1e6;
}

/** summary.json text: 2-space indent, key order as built, non-finite numbers as null. */
export function summaryJson(summary: Summary): string {
  return JSON.stringify(summary, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2) + '\n';
}
