import { BlockManager } from '../kv/blockManager.js';
import type { LatencyEfficiency } from '../latency/efficiency.js';
import type { LatencyModel } from '../latency/model.js';
import type { PoolInfo } from '../metrics/pools.js';
import type { RunSink } from '../metrics/runSink.js';
import { MetricsSink, type MetricsSinkOptions } from '../metrics/sink.js';
import { SinkThread, sinkThreadWanted } from '../metrics/sinkThread.js';
import { stepWindowFor } from '../metrics/stepStamps.js';
import { SCHEDULERS } from '../scheduler/registry.js';
import type { SchedulerLimits } from '../scheduler/scheduler.js';
import { latencyModelFor } from '../setup/latency.js';
import type { PoolSetup, RunSetup } from '../setup/resolve.js';
import type { WorkloadStream } from '../workload/index.js';
import { Replica, type KvTransferCost, type ReplicaLimits } from './replica.js';
import { bandTimeScales } from './uncertainty.js';
import { drafter } from './drafter.js';
import { rngStream } from '../engine/rng.js';
import { speculation } from '../scheduler/speculation.js';
import { getModel } from '../model/catalog.js';
import { PipelineStages } from './pipeline.js';
import { LoraStep } from './loraStep.js';
import { stageLink } from '../setup/pipeline.js';

/*
 * A run's parts, built from its setup: each pool's replicas (scheduler, KV cache, latency model,
 * limits) and the metrics sink that knows the pools.
 */

/** A builder of replicas for one pool: each gets the pool's scheduler, KV cache, latency model and limits. */
export function poolBuilder(
  pool: PoolSetup,
  index: number,
  latency: LatencyModel,
  profile: string | null,
  /** The draft model's latency (engine.speculative method draft). */
  draft?: LatencyModel,
): { build: (index: number) => Replica; swap_blocks: number } {
  const setup = pool.setup;
  const e = setup.scenario.engine;
  const limits: SchedulerLimits = {
    max_num_seqs: e.max_num_seqs,
    max_num_batched_tokens: e.max_num_batched_tokens,
    enable_chunked_prefill: e.enable_chunked_prefill,
    preemption: e.preemption,
    scheduling_policy: e.scheduling_policy,
    max_model_len: e.max_model_len,
    orca_reservation: e.orca_reservation,
    max_batch_size: e.max_batch_size,
    batch_timeout_s: e.batch_timeout_ms / 1000,
    ...(e.lora === undefined ? {} : { max_loras: e.lora.max_loras }),
    // Off with INFERSIM_DECODE_RUNS=0: the same outputs, every sequence stepped one step at a time (docs/lazy-decode.md).
    decode_runs: setup.scenario.hardware.pipeline_parallel === 1 && process.env.INFERSIM_DECODE_RUNS !== '0',
    decode_runs_from: decodeRunsFrom(process.env.INFERSIM_DECODE_RUNS_FROM),
    // Off with INFERSIM_DECODE_RUN_STEPS=0: the same outputs, every step formed by the scheduler's general pass.
    decode_run_steps: process.env.INFERSIM_DECODE_RUN_STEPS !== '0',
  };
  const factory = SCHEDULERS[e.scheduler];
  const transfer: KvTransferCost = {
    bytes_per_block: setup.kv.kv_bytes_per_block,
    // The catalog gives PCIe's total over both directions.
    pcie_one_direction_bytes_per_s: setup.gpu.pcie_bandwidth_bytes_per_s / 2,
    hbm_bytes_per_s: setup.gpu.hbm_bandwidth_bytes_per_s,
  };
  const swap_blocks = Math.floor((e.swap_space_gb * 2 ** 30) / setup.kv.kv_bytes_per_block);
  const replicaLimits: ReplicaLimits = {
    frontOut_s: e.frontend_output_ms / 1000,
    forkSamples: factory.samples === 'fork',
    max_model_len: e.max_model_len,
    max_queue_len: e.max_queue_len ?? Infinity,
    handoff: pool.role === 'prefill',
    profile,
  };
  const spec = e.speculative;
  const draftTime = spec === undefined ? undefined : drafter(spec, latency, setup.arch.num_hidden_layers, draft);
  const h = setup.scenario.hardware;
  const pp = h.pipeline_parallel;
  const link = stageLink(setup.arch, setup.gpu, h.tensor_parallel, pp, setup.profile?.profile);
  const build = (i: number): Replica => {
    const kv = new BlockManager(setup.kv.usable_blocks, e.block_size, { prefix_caching: e.enable_prefix_caching, swap_blocks });
    // Each replica draws its acceptances from a stream of its own, named by its pool and index (the same across band re-runs).
    const own = spec === undefined ? limits : { ...limits, speculation: speculation(spec.acceptance, rngStream(setup.scenario.seed, `speculative:${pool.name}:${i}`)) };
    const replica = new Replica(i, factory.create(kv, own), kv, latency, transfer, pp);
    if (pp > 1) replica.pipeline = { stages: new PipelineStages(pp), link };
    if (e.lora !== undefined) replica.lora = new LoraStep(e.lora);
    replica.draftTime = draftTime;
    replica.pool = pool.name;
    replica.pool_index = index;
    replica.limits = replicaLimits;
    return replica;
  };
  return { build, swap_blocks };
}

type LatencyHow = { efficiency?: Partial<LatencyEfficiency>; time_scale?: number; band_edge?: 'low' | 'high' };

/** A pool's latency model: as its scenario describes it, scaled for a band re-run to its own band's edge. */
export function poolLatency(setup: RunSetup, how: LatencyHow): LatencyModel {
  return latencyModelFor(setup, how.efficiency, poolTimeScale(setup, how));
}

/** The step-time multiplier of a run: the caller's, or for a band re-run the edge of the pool's own band (1 when it states none). */
function poolTimeScale(setup: RunSetup, how: LatencyHow): number | undefined {
  const edge = how.band_edge;
  if (edge === undefined) return how.time_scale;
  const band = latencyModelFor(setup, how.efficiency).uncertainty;
  return band === undefined ? 1 : bandTimeScales(band)[edge];
}

/**
 * The draft model's latency for a pool that speculates with one (engine.speculative method draft):
 * built as the pool's own is, with the target's time scale (a band re-run scales the whole step).
 */
export function draftLatency(setup: RunSetup, how: LatencyHow): LatencyModel | undefined {
  const spec = setup.scenario.engine.speculative;
  if (spec?.method !== 'draft' || spec.model === undefined) return undefined;
  return latencyModelFor({ ...setup, arch: getModel(spec.model, 'engine.speculative.model') }, how.efficiency, poolTimeScale(setup, how));
}

export const gpusOf = (setup: RunSetup): number => setup.scenario.hardware.tensor_parallel * setup.scenario.hardware.pipeline_parallel;

/** The models requests may name: the scenario's, each pool's, the workload's. */
function modelsOf(setup: RunSetup): string[] {
  const s = setup.scenario;
  return [...new Set([s.model, ...setup.pools.filter((p) => !p.shadow).map((p) => p.setup.scenario.model), ...(s.workload.models ?? []).map((m) => m.name)])];
}

/** How the sink sees each pool: its name, model, GPU and price, and for its summary entry its KV and latency model. */
export function poolInfo(p: PoolSetup, latency: LatencyModel, swap_blocks: number): PoolInfo {
  const s = p.setup.scenario;
  return {
    name: p.name,
    model: s.model,
    gpu: p.setup.gpu.name,
    usd_per_gpu_hour: s.cost.usd_per_gpu_hour,
    shadow: p.shadow,
    block_size: s.engine.block_size,
    kv: kvFigures(p.setup, swap_blocks),
    latency: latency.description,
  };
}

/** The run's sink: in a thread of its own when the run writes outputs and `sinkThreadWanted` (the same outputs either way). */
export function newSink(setup: RunSetup, out: { dir?: string; tokens?: boolean; step_window?: number }, stream: WorkloadStream, pools: PoolInfo[]): RunSink {
  const opts = sinkOptions(setup, out, stream, pools);
  const expected = stream.info.max_requests ?? setup.scenario.workload.num_requests ?? Infinity;
  return opts.dir !== undefined && sinkThreadWanted(expected) ? new SinkThread(opts) : new MetricsSink(opts);
}

function sinkOptions(setup: RunSetup, out: { dir?: string; tokens?: boolean; step_window?: number }, stream: WorkloadStream, pools: PoolInfo[]): MetricsSinkOptions {
  const s = setup.scenario;
  const replica_pools = setup.pools.flatMap((p, i) => new Array<number>(p.setup.scenario.cluster.replicas).fill(i));
  return {
    dir: out.dir,
    writeTokens: out.tokens ?? false,
    replicas: replica_pools.length,
    warmup_s: s.metrics.warmup_s,
    slo: s.slo,
    block_size: s.engine.block_size,
    pools,
    replica_pools,
    replica_gpus: replica_pools.map((i) => gpusOf(setup.pools[i].setup)),
    models: modelsOf(setup),
    // A trace may name models no pool serves: its rows still name them.
    extra_models: stream.info.models,
    // Per-pool figures matter once there are pools, models or an autoscaled fleet.
    detailed: s.pools !== undefined || s.workload.models !== undefined || s.workload.trace?.columns?.model !== undefined || s.autoscale !== undefined,
    stepWindow: out.step_window ?? stepWindowFor(replica_pools.length),
  };
}

/** A pool's KV capacity as summary.json gives it. */
export function kvFigures(setup: RunSetup, swap_blocks: number): Record<string, unknown> {
  const e = setup.scenario.engine;
  return {
    num_gpu_blocks: setup.kv.num_gpu_blocks,
    usable_blocks: setup.kv.usable_blocks,
    block_size: e.block_size,
    kv_tokens: setup.kv.kv_tokens,
    kv_bytes_per_token: setup.kv.kv_bytes_per_token,
    weight_bytes_per_gpu: setup.kv.weight_bytes,
    swap_blocks,
    prefix_caching: e.enable_prefix_caching,
  };
}

/** INFERSIM_DECODE_RUNS_FROM (for tests): the running sequences from which decode runs are kept; unset: the scheduler's default. */
function decodeRunsFrom(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`INFERSIM_DECODE_RUNS_FROM is ${JSON.stringify(value)}: it must be an integer ≥ 1`);
  return n;
}
