import type { Request } from '../workload/request.js';
import { lightestBy, type ReplicaLoad, type Router, type RouterFactory, type RouterOptions } from './router.js';

/**
 * Load as time to a first token sees it: requests waiting to start, then (on a tie) all unfinished
 * ones. Waiting is the signal: a replica busy decoding long answers still starts a prompt at its
 * next step, while a queue delays it (on the Mooncake conversation trace, least-queue beats
 * least-outstanding on mean TTFT).
 */
export function lighter(a: ReplicaLoad, b: ReplicaLoad): boolean {
  return a.waiting < b.waiting || (a.waiting === b.waiting && a.outstanding < b.outstanding);
}

export function lightest(candidates: readonly ReplicaLoad[]): number {
  return lightestBy(candidates, lighter);
}

/** The affine candidate, unless it has more than `threshold` waiting requests over the lightest. */
function balanced(candidates: readonly ReplicaLoad[], affine: number, threshold: number): number {
  const light = lightest(candidates);
  return candidates[affine].waiting - candidates[light].waiting > threshold ? light : affine;
}

/**
 * The share of the prompt a cached prefix must cover before affinity beats load: SGLang's
 * gateway and vLLM's router default `--cache-threshold` (0.3, as GPUStack's router docs list it).
 */
const CACHE_THRESHOLD = 0.3;

/**
 * The replica holding the longest cached prefix of the prompt (ties: the lighter), as SGLang's
 * cache-aware router does; no cached prefix anywhere, or an affine replica too far above the
 * lightest: the lightest.
 */
class PrefixAffinityRouter implements Router {
  constructor(private readonly threshold: number) {}
  route(request: Request, candidates: readonly ReplicaLoad[]): number {
    let best = 0;
    let bestTokens = candidates[0].cached_prefix_tokens(request);
    for (let i = 1; i < candidates.length; i++) {
      const tokens = candidates[i].cached_prefix_tokens(request);
      if (tokens > bestTokens || (tokens === bestTokens && lighter(candidates[i], candidates[best]))) {
        best = i;
        bestTokens = tokens;
      }
    }
    // A short match (a shared system prompt every replica holds) is not worth a queue: load decides.
    if (bestTokens < CACHE_THRESHOLD * request.input_tokens || bestTokens === 0) return lightest(candidates);
    return balanced(candidates, best, this.threshold);
  }
}

/**
 * Every turn of a session to the replica that served its first turn, where its KV is likely still
 * cached; the lightest when that replica is gone or too far above the lightest (then the session
 * moves there). Requests without a session go to the lightest.
 */
class SessionAffinityRouter implements Router {
  /** The cluster index each session is bound to. */
  private readonly home = new Map<number, number>();
  constructor(private readonly threshold: number) {}
  route(request: Request, candidates: readonly ReplicaLoad[]): number {
    const session = request.session;
    if (session === undefined) return lightest(candidates);
    const bound = this.home.get(session);
    const at = bound === undefined ? -1 : candidates.findIndex((c) => c.index === bound);
    const chosen = at < 0 ? lightest(candidates) : balanced(candidates, at, this.threshold);
    this.home.set(session, candidates[chosen].index);
    return chosen;
  }
}

export const PREFIX_AFFINITY: RouterFactory = {
  name: 'prefix-affinity',
  traits: {
    randomized: false,
    reads: ['waiting', 'outstanding', 'cached_prefix_tokens'],
    keys: ['balance_threshold'],
    description: 'the ready replica with the longest cached prefix of the prompt, unless too far above the lightest',
  },
  create: (_seed: number, options: RouterOptions) => new PrefixAffinityRouter(options.balance_threshold),
};

export const SESSION_AFFINITY: RouterFactory = {
  name: 'session-affinity',
  traits: {
    randomized: false,
    reads: ['index', 'waiting', 'outstanding'],
    keys: ['balance_threshold'],
    description: "a session's replica for every turn, unless too far above the lightest",
  },
  create: (_seed: number, options: RouterOptions) => new SessionAffinityRouter(options.balance_threshold),
};
