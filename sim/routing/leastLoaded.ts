import type { ReplicaLoad, Router, RouterFactory } from './router.js';

/** The candidate with the lowest `field`; ties go to the first, so the choice is deterministic. */
function lowest(field: 'waiting' | 'kv_used_fraction', candidates: readonly ReplicaLoad[]): number {
  let best = 0;
  for (let i = 1; i < candidates.length; i++) {
    if (candidates[i][field] < candidates[best][field]) best = i;
  }
  return best;
}

class LeastQueueRouter implements Router {
  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    return lowest('waiting', candidates);
  }
}

class LeastKvRouter implements Router {
  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    return lowest('kv_used_fraction', candidates);
  }
}

export const LEAST_QUEUE: RouterFactory = {
  name: 'least-queue',
  traits: { randomized: false, reads: ['waiting'], description: 'the ready replica with the fewest requests not yet started' },
  create: () => new LeastQueueRouter(),
};

export const LEAST_KV: RouterFactory = {
  name: 'least-kv',
  traits: { randomized: false, reads: ['kv_used_fraction'], description: 'the ready replica with the lowest KV-cache use' },
  create: () => new LeastKvRouter(),
};
