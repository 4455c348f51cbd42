import type { ReplicaLoad, Router, RouterFactory } from './router.js';

/** Takes the candidates in turn, whatever their load. */
class RoundRobinRouter implements Router {
  private nextIndex = 0;
  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    // The counter wraps at the current candidate count, so replicas that come and go keep it in range.
    const chosen = this.nextIndex % candidates.length;
    this.nextIndex = (chosen + 1) % candidates.length;
    return chosen;
  }
}

export const ROUND_ROBIN: RouterFactory = {
  name: 'round-robin',
  traits: { randomized: false, reads: [], description: 'each ready replica in turn' },
  create: () => new RoundRobinRouter(),
};
