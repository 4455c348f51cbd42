import type { Request } from '../workload/request.js';
import type { ReplicaLoad, Router, RouterFactory, RouterOptions, RouterWeights } from './router.js';

/**
 * Adds `weight` × a min-max score of `figure` (lowest 1, highest 0; all equal: 1 each), as the
 * Gateway API Inference Extension's queue-scorer normalizes the waiting queue
 * (pkg/epp/scheduling/framework/plugins/scorer/queue.go, kubernetes-sigs/gateway-api-inference-extension).
 */
function addFewerIsBetter(scores: Float64Array, weight: number, candidates: readonly ReplicaLoad[], figure: (c: ReplicaLoad) => number): void {
  let min = Infinity;
  let max = -Infinity;
  for (const c of candidates) {
    const x = figure(c);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  for (let i = 0; i < candidates.length; i++) scores[i] += weight * (max === min ? 1 : (max - figure(candidates[i])) / (max - min));
}

/**
 * Each scorer rates every candidate in [0, 1], higher better; the weighted sum decides and the
 * highest wins (the first on a tie, where llm-d's max-score-picker would draw at random), as
 * llm-d's inference scheduler combines its scorer plugins.
 */
class WeightedRouter implements Router {
  constructor(private readonly w: RouterWeights) {}
  route(request: Request, candidates: readonly ReplicaLoad[]): number {
    const scores = new Float64Array(candidates.length);
    const w = this.w;
    if (w.queue > 0) addFewerIsBetter(scores, w.queue, candidates, (c) => c.waiting);
    if (w.tokens > 0) addFewerIsBetter(scores, w.tokens, candidates, (c) => c.outstanding_tokens);
    // Not min-max: llm-d's kv-cache-utilization-scorer is 1 − usage (kvcache_utilization.go, same
    // package as queue.go), so replicas at 40 % and 41 % score nearly alike rather than 1 and 0.
    if (w.kv > 0) for (let i = 0; i < candidates.length; i++) scores[i] += w.kv * (1 - candidates[i].kv_used_fraction);
    // Only when weighed: asking every replica's cache is the one costly probe here. The share of the
    // prompt cached, as llm-d's prefix-cache-scorer scores matched blocks over the prompt's blocks.
    if (w.prefix > 0 && request.input_tokens > 0) {
      for (let i = 0; i < candidates.length; i++) scores[i] += w.prefix * Math.min(1, candidates[i].cached_prefix_tokens(request) / request.input_tokens);
    }
    let best = 0;
    for (let i = 1; i < candidates.length; i++) if (scores[i] > scores[best]) best = i;
    return best;
  }
}

export const WEIGHTED: RouterFactory = {
  name: 'weighted',
  traits: {
    randomized: false,
    reads: ['waiting', 'kv_used_fraction', 'outstanding_tokens', 'cached_prefix_tokens'],
    keys: ['weights'],
    description: "the ready replica with the highest weighted sum of scores for queue, KV use, cached prefix and tokens in flight, as llm-d's scheduler picks",
  },
  create: (_seed: number, options: RouterOptions) => new WeightedRouter({ ...options.weights }),
};
