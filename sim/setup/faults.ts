import { fieldError } from '../errors.js';
import type { FailuresInput, FaultInput } from '../scenario/types.js';

/**
 * Mean time between failures of one GPU, hours, counting every cause that stopped a job: Llama 3's
 * pre-training saw 419 unexpected interruptions in 54 days on 16,384 H100s (Dubey et al. 2024,
 * "The Llama 3 Herd of Models", §3.3.4), one per ≈50,700 GPU-hours.
 */
export const DEFAULT_GPU_MTBF_H = (16384 * 54 * 24) / 419;

/**
 * Without a repair time a spare takes the failed replica's place at once: recovery is then the
 * replacement's cold start alone (Kubernetes reschedules a failed pod as soon as it sees it).
 */
export const DEFAULT_REPAIR_S = 0;

/**
 * The gateway resends a request whose replica failed under it once: Envoy's retry policy's
 * default `num_retries` (envoyproxy.io, config.route.v3.RetryPolicy).
 */
export const DEFAULT_MAX_RETRIES = 1;

export interface ResolvedFailures {
  mtbf_h: number;
  repair_s: number;
}

export interface ResolvedFault {
  at_s: number;
  pool: string;
  replica: number;
  down_s: number;
}

/** What a fault may name in one pool: its name, the most replicas it may hold at once, its repair time. */
export interface FaultTarget {
  name: string;
  max_replicas: number;
  repair_s: number | undefined;
}

export function resolveFailures(input: FailuresInput): ResolvedFailures {
  return { mtbf_h: input.mtbf_h ?? DEFAULT_GPU_MTBF_H, repair_s: input.repair_s ?? DEFAULT_REPAIR_S };
}

/** Each fault's pool and replica checked against the pools (the first pool when none is named), its down time filled. */
export function resolveFaults(faults: readonly FaultInput[] | undefined, pools: readonly FaultTarget[]): ResolvedFault[] | undefined {
  if (faults === undefined) return undefined;
  return faults.map((f, i) => {
    const where = `faults[${i}]`;
    const pool = f.pool === undefined ? pools[0] : pools.find((p) => p.name === f.pool);
    if (pool === undefined) throw fieldError(`${where}.pool`, `names no pool (pools are ${pools.map((p) => p.name).join(', ')})`, f.pool);
    if (f.replica >= pool.max_replicas) {
      const most = pool.max_replicas;
      throw fieldError(
        `${where}.replica`,
        `names a missing replica: pool ${pool.name} has at most ${most} (replicas are numbered from 0, so 0 to ${most - 1})`,
        f.replica,
      );
    }
    return { at_s: f.at_s, pool: pool.name, replica: f.replica, down_s: f.down_s ?? pool.repair_s ?? DEFAULT_REPAIR_S };
  });
}
