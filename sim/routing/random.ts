import { rngStream } from '../engine/rng.js';
import type { ReplicaLoad, Router, RouterFactory } from './router.js';

/** Uniform over the candidates, from the scenario seed's own `router` stream. */
class RandomRouter implements Router {
  private readonly uniform: () => number;
  constructor(seed: number) {
    this.uniform = rngStream(seed, 'router');
  }
  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    return Math.floor(this.uniform() * candidates.length);
  }
}

export const RANDOM: RouterFactory = {
  name: 'random',
  traits: { randomized: true, reads: [], description: 'a ready replica drawn uniformly (seeded)' },
  create: (seed) => new RandomRouter(seed),
};
