import type { ReplicaLoad, Router, RouterFactory } from './router.js';

/** Fewest requests in flight; ties go to the first candidate, so the choice is deterministic. */
class LeastOutstandingRouter implements Router {
  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    let best = 0;
    for (let i = 1; i < candidates.length; i++) {
      if (candidates[i].outstanding < candidates[best].outstanding) best = i;
    }
    return best;
  }
}

export const LEAST_OUTSTANDING: RouterFactory = {
  name: 'least-outstanding',
  traits: { randomized: false, reads: ['outstanding'], description: 'the ready replica with the fewest unfinished requests' },
  create: () => new LeastOutstandingRouter(),
};
