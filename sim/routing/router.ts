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
}

/** The load figures a router may declare it reads (everything in ReplicaLoad but the index). */
export const LOAD_FIELDS = ['outstanding', 'waiting', 'kv_used_fraction'] as const satisfies readonly (keyof ReplicaLoad)[];

/**
 * Picks a replica for an arriving request among those that can take it (`candidates`, never
 * empty, in cluster order); returns a position in `candidates`.
 */
export interface Router {
  route(request: Request, candidates: readonly ReplicaLoad[]): number;
}

/** What a router policy is, for the scenario's checks and the conformance suite. */
export interface RouterTraits {
  /** Draws from its own seeded random stream (else its choice is a function of what it has seen). */
  readonly randomized: boolean;
  /** The replica figures its choice reads. */
  readonly reads: readonly (keyof ReplicaLoad)[];
  /** One line for summaries and docs. */
  readonly description: string;
}

export interface RouterFactory {
  readonly name: string;
  readonly traits: RouterTraits;
  /** A fresh router for one run; `seed` is the scenario's (randomized routers derive their stream from it). */
  create(seed: number): Router;
}
