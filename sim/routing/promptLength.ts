import type { Request } from '../workload/request.js';
import type { ReplicaLoad, Router, RouterFactory, RouterOptions } from './router.js';

/** The position of the candidate with the fewest unfinished requests among those `take` admits (the first on a tie); -1 if none. */
function lightestWhere(candidates: readonly ReplicaLoad[], take: (c: ReplicaLoad) => boolean): number {
  let best = -1;
  for (let i = 0; i < candidates.length; i++) {
    if (take(candidates[i]) && (best < 0 || candidates[i].outstanding < candidates[best].outstanding)) best = i;
  }
  return best;
}

/**
 * Long prompts to one pool, the rest to the others: a pool sized and tuned for prefill (say, a
 * larger step budget) takes the long documents, so their prefill does not stall the short chats'
 * first tokens elsewhere. A side with no ready replica is no reason to refuse: then every
 * candidate is eligible.
 */
class PromptLengthRouter implements Router {
  constructor(
    private readonly threshold: number,
    private readonly longPool: string,
  ) {}
  route(request: Request, candidates: readonly ReplicaLoad[]): number {
    const long = request.input_tokens >= this.threshold;
    const chosen = lightestWhere(candidates, (c) => (c.pool === this.longPool) === long);
    return chosen >= 0 ? chosen : lightestWhere(candidates, () => true);
  }
}

export const PROMPT_LENGTH: RouterFactory = {
  name: 'prompt-length',
  traits: {
    randomized: false,
    reads: ['pool', 'outstanding'],
    keys: ['long_prompt_tokens', 'long_prompt_pool'],
    description: 'prompts of at least long_prompt_tokens to the long_prompt_pool, the others to the other pools; the fewest unfinished requests within',
  },
  create: (_seed: number, options: RouterOptions) => new PromptLengthRouter(options.long_prompt_tokens, options.long_prompt_pool),
};
