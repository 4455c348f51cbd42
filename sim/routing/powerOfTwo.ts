import { rngStream } from '../engine/rng.js';
import type { ReplicaLoad, Router, RouterFactory } from './router.js';

/**
 * Two candidates drawn at random, the one with fewer requests in flight wins (the first drawn on a
 * tie): nearly the balance of least-outstanding while reading only two replicas' load, which is
 * what makes it cheap at scale (Mitzenmacher, "The Power of Two Choices in Randomized Load
 * Balancing", IEEE TPDS 2001).
 */
class PowerOfTwoRouter implements Router {
  private readonly uniform: () => number;
  constructor(seed: number) {
    this.uniform = rngStream(seed, 'router');
  }
  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    const n = candidates.length;
    if (n === 1) return 0;
    const a = Math.floor(this.uniform() * n);
    // The second draw skips the first, so the two are always distinct.
    let b = Math.floor(this.uniform() * (n - 1));
    if (b >= a) b++;
    return candidates[b].outstanding < candidates[a].outstanding ? b : a;
  }
}

export const POWER_OF_TWO: RouterFactory = {
  name: 'power-of-two',
  traits: { randomized: true, reads: ['outstanding'], description: 'the lighter (fewer unfinished requests) of two ready replicas drawn at random' },
  create: (seed) => new PowerOfTwoRouter(seed),
};
