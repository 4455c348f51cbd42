import { lightestBy, type ReplicaLoad, type Router, type RouterFactory } from './router.js';

class LeastQueueRouter implements Router {
  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    return lightestBy(candidates, (a, b) => a.waiting < b.waiting);
  }
}

class LeastKvRouter implements Router {
  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    return lightestBy(candidates, (a, b) => a.kv_used_fraction < b.kv_used_fraction);
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
