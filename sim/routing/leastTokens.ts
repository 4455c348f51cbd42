import { lightestBy, type ReplicaLoad, type Router, type RouterFactory } from './router.js';

/**
 * Fewest tokens of unfinished work (prompts plus outputs to generate): unlike a request count,
 * one 30k-token document weighs as much as the thirty short chats it will delay.
 */
class LeastTokensRouter implements Router {
  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    return lightestBy(candidates, (a, b) => a.outstanding_tokens < b.outstanding_tokens);
  }
}

export const LEAST_TOKENS: RouterFactory = {
  name: 'least-tokens',
  traits: { randomized: false, reads: ['outstanding_tokens'], description: 'the ready replica with the fewest tokens of unfinished work' },
  create: () => new LeastTokensRouter(),
};
