import { LatencyMemo, summarizeUnion, type GroupAccumulator, type GroupSummary } from './group.js';

/** A pool as the metrics see it: what names its rows and prices its GPU-hours. */
export interface PoolInfo {
  name: string;
  /** The model its replicas serve (as requests name it). */
  model: string;
  gpu: string;
  usd_per_gpu_hour: number;
  /** Serves only mirrored copies (traffic.shadow target): left out of every client figure. */
  shadow: boolean;
  /** Tokens per KV block of its replicas (their fragmentation is measured against it). */
  block_size?: number;
  /** Its engine's KV capacity figures and its latency model, as summary.json `kv` and `latency` give the first pool's. */
  kv?: Record<string, unknown>;
  latency?: string;
}

/** summary.json `pools[]`: one pool's requests, as `overall` counts them, with its fleet and cost. */
export type PoolSummary = {
  pool: string;
  model: string;
  gpu: string;
  shadow: boolean;
  replicas: number;
  gpus: number;
  gpu_hours: number | null;
  usd_per_gpu_hour: number;
  usd_total: number | null;
  kv: Record<string, unknown> | null;
  latency: string | null;
  /** Replicas held (starting, ready or draining) at cluster.arrow's samples: the most, and the time-weighted mean. */
  peak_replicas: number | null;
  mean_replicas: number | null;
} & GroupSummary;

/** summary.json `models[]`: the requests for one model, over the pools serving it (shadows left out) and those rejected before routing. */
export type ModelSummary = { model: string; pools: string[] } & GroupSummary;

/** What the sink hands over: each replica's pool, GPUs, group and GPU-hours. */
export interface PoolRecords {
  pools: readonly PoolInfo[];
  /** Per replica: its pool's index. */
  replica_pools: readonly number[];
  replica_gpus: readonly number[];
  replicas: readonly GroupAccumulator[];
  /** Per model (in `models` order): requests for it rejected before a pool was chosen. */
  unrouted: readonly GroupAccumulator[];
  /** Per pool: requests rejected in it before reaching a replica. */
  pool_unrouted: readonly GroupAccumulator[];
  models: readonly string[];
  /** Per replica, GPU-hours over the run; null without a makespan. */
  gpu_hours: readonly number[] | null;
  /** Per pool, from cluster.arrow's samples (absent: not sampled). */
  fleet?: readonly { peak_replicas: number; mean_replicas: number | null }[];
}

export function poolSummaries(r: PoolRecords, makespan_s: number | null, window_s: number | null, memo = new LatencyMemo()): PoolSummary[] {
  return r.pools.map((p, k) => {
    const members = r.replica_pools.flatMap((pool, i) => (pool === k ? [i] : []));
    const gpu_hours = r.gpu_hours === null ? null : members.reduce((acc, i) => acc + (r.gpu_hours as readonly number[])[i], 0);
    return {
      pool: p.name,
      model: p.model,
      gpu: p.gpu,
      shadow: p.shadow,
      replicas: members.length,
      gpus: members.reduce((acc, i) => acc + r.replica_gpus[i], 0),
      gpu_hours,
      usd_per_gpu_hour: p.usd_per_gpu_hour,
      usd_total: gpu_hours === null ? null : gpu_hours * p.usd_per_gpu_hour,
      kv: p.kv ?? null,
      latency: p.latency ?? null,
      peak_replicas: r.fleet?.[k].peak_replicas ?? null,
      mean_replicas: r.fleet?.[k].mean_replicas ?? null,
      ...summarizeUnion([...members.map((i) => r.replicas[i]), r.pool_unrouted[k]], makespan_s, window_s, memo),
    };
  });
}

export function modelSummaries(r: PoolRecords, makespan_s: number | null, window_s: number | null, memo = new LatencyMemo()): ModelSummary[] {
  return r.models.map((model, m) => {
    const pools = r.pools.flatMap((p, k) => (p.model === model && !p.shadow ? [k] : []));
    const groups = r.replica_pools.flatMap((pool, i) => (pools.includes(pool) ? [r.replicas[i]] : []));
    const rejected = [...pools.map((k) => r.pool_unrouted[k]), r.unrouted[m]];
    return { model, pools: pools.map((k) => r.pools[k].name), ...summarizeUnion([...groups, ...rejected], makespan_s, window_s, memo) };
  });
}
