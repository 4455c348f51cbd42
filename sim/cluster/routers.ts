import { rngStream } from '../engine/rng.js';
import type { RouterName } from '../scenario/types.js';
import type { Request } from '../workload/request.js';

/** What a router may read about a replica. */
export interface ReplicaLoad {
  /** Requests routed to the replica and not yet finished. */
  readonly outstanding: number;
}

/** Picks the replica (index from 0) for an arriving request. */
export interface Router {
  route(request: Request, replicas: readonly ReplicaLoad[]): number;
}

class RoundRobinRouter implements Router {
  private nextIndex = 0;
  route(_request: Request, replicas: readonly ReplicaLoad[]): number {
    const chosen = this.nextIndex;
    this.nextIndex = (this.nextIndex + 1) % replicas.length;
    return chosen;
  }
}

/** Fewest requests in flight; ties go to the lowest index, so the choice is deterministic. */
class LeastOutstandingRouter implements Router {
  route(_request: Request, replicas: readonly ReplicaLoad[]): number {
    let best = 0;
    for (let i = 1; i < replicas.length; i++) {
      if (replicas[i].outstanding < replicas[best].outstanding) best = i;
    }
    return best;
  }
}

class RandomRouter implements Router {
  private readonly uniform: () => number;
  constructor(seed: number) {
    this.uniform = rngStream(seed, 'router');
  }
  route(_request: Request, replicas: readonly ReplicaLoad[]): number {
    return Math.floor(this.uniform() * replicas.length);
  }
}

export const ROUTERS: Record<RouterName, (seed: number) => Router> = {
  'round-robin': () => new RoundRobinRouter(),
  'least-outstanding': () => new LeastOutstandingRouter(),
  random: (seed) => new RandomRouter(seed),
};
