import type { Request } from '../workload/request.js';
import { lighter, lightest } from './affinity.js';
import type { ReplicaLoad, Router, RouterFactory } from './router.js';

/** The lightest (fewest waiting, then fewest unfinished) of the candidates that pass `test`; -1 when none does. */
function lightestWhere(candidates: readonly ReplicaLoad[], test: (r: ReplicaLoad) => boolean): number {
  let best = -1;
  for (let i = 0; i < candidates.length; i++) {
    if (test(candidates[i]) && (best < 0 || lighter(candidates[i], candidates[best]))) best = i;
  }
  return best;
}

/**
 * Multi-LoRA affinity, after the Gateway API Inference Extension's endpoint picker (which llm-d's
 * scheduler extends): its LoRA affinity scorer rates a replica with the request's adapter active
 * highest, one with room to load it next, the others last, and reads each replica's
 * `vllm:lora_requests_info` metric (running and waiting adapters, max_lora) for it; here the
 * replica's adapter slots themselves. The tiers are strict (a replica holding the adapter wins
 * over a lighter one without it; the picker weighs the score against load), and within a tier
 * the lightest wins, by waiting then unfinished requests. A request for the base model goes to
 * the lightest.
 */
class LoraAffinityRouter implements Router {
  route(request: Request, candidates: readonly ReplicaLoad[]): number {
    const adapter = request.adapter;
    if (adapter === undefined) return lightest(candidates);
    const holding = lightestWhere(candidates, (r) => r.has_adapter(adapter));
    if (holding >= 0) return holding;
    const free = lightestWhere(candidates, (r) => r.free_adapter_slots > 0);
    return free >= 0 ? free : lightest(candidates);
  }
}

export const LORA_AFFINITY: RouterFactory = {
  name: 'lora-affinity',
  traits: {
    randomized: false,
    reads: ['waiting', 'outstanding', 'has_adapter', 'free_adapter_slots'],
    description: "the lightest ready replica holding the request's LoRA adapter, else the lightest with a free adapter slot, else the lightest",
  },
  create: () => new LoraAffinityRouter(),
};
