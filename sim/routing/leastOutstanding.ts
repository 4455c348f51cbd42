import { lightestBy, type ReplicaLoad, type Router, type RouterFactory } from './router.js';

/** Fewest requests in flight; ties go to the first candidate, so the choice is deterministic. */
class LeastOutstandingRouter implements Router {
  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    return lightestBy(candidates, (a, b) => a.outstanding < b.outstanding);
  }
}

export const LEAST_OUTSTANDING: RouterFactory = {
  name: 'least-outstanding',
  traits: { randomized: false, reads: ['outstanding'], description: 'the ready replica with the fewest unfinished requests' },
  create: () => new LeastOutstandingRouter(),
};
