import type { ReplicaLoad, Router, RouterFactory, RouterOptions } from './router.js';

/**
 * The replica whose recent requests were fastest, by an exponentially weighted moving average of
 * the latency the gateway observed per replica (the first observation sets it). A replica not yet
 * observed scores the mean of the observed candidates: scoring it 0 would send it every request
 * until its first one finished (a herd), scoring it worst would never try it.
 */
class LatencyAwareRouter implements Router {
  /** The moving average per cluster index; absent until the replica's first observation. */
  private readonly average = new Map<number, number>();
  constructor(
    private readonly metric: RouterOptions['latency_metric'],
    private readonly alpha: number,
  ) {}

  observe(replica: number, ttft_s: number | null, e2e_s: number): void {
    const x = this.metric === 'ttft' ? ttft_s : e2e_s;
    // A request that produced no token says nothing about time to a first token.
    if (x === null) return;
    const old = this.average.get(replica);
    this.average.set(replica, old === undefined ? x : this.alpha * x + (1 - this.alpha) * old);
  }

  route(_request: unknown, candidates: readonly ReplicaLoad[]): number {
    const known = candidates.map((c) => this.average.get(c.index));
    let sum = 0;
    let n = 0;
    for (const v of known) {
      if (v !== undefined) {
        sum += v;
        n++;
      }
    }
    const unknown = n > 0 ? sum / n : 0;
    const scores = known.map((v) => v ?? unknown);
    // Equal averages (every replica unobserved at the start): the one with fewer requests in flight, so the first requests spread.
    let best = 0;
    for (let i = 1; i < candidates.length; i++) {
      if (scores[i] < scores[best] || (scores[i] === scores[best] && candidates[i].outstanding < candidates[best].outstanding)) best = i;
    }
    return best;
  }
}

export const LATENCY_AWARE: RouterFactory = {
  name: 'latency-aware',
  traits: {
    randomized: false,
    reads: ['index', 'outstanding'],
    keys: ['latency_metric', 'ewma_alpha'],
    description: 'the ready replica with the lowest moving average of the latency (latency_metric) it learns from finished requests',
  },
  create: (_seed: number, options: RouterOptions) => new LatencyAwareRouter(options.latency_metric, options.ewma_alpha),
};
