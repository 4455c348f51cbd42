import { addDecode, emptyBatch, resetBatch } from '../latency/batch.js';
import type { LatencyModel } from '../latency/model.js';
import type { Sequence } from '../scheduler/sequence.js';
import type { ResolvedSpeculative } from '../setup/speculative.js';

/** The time a step spends proposing its sequences' draft tokens before the target verifies them, s. */
export type DraftTime = (scheduled: readonly Sequence[]) => number;

/**
 * How proposals cost time, by method (vLLM V1's proposers, vllm/v1/spec_decode):
 * - draft: the draft model runs one decode step per proposed position over the sequences still
 *   proposing (its own latency model, same GPU and parallelism);
 * - eagle, mtp: one step of a head of a single transformer layer per position, costed as the
 *   target's decode step over its layer count (EAGLE's draft head and DeepSeek's MTP module are
 *   one decoder layer each, sharing the target's embeddings and LM head);
 * - ngram: a lookup in the prompt on the CPU, overlapped with the GPU: no time.
 * Not modelled: the draft re-reading the tokens the last verification accepted (one catch-up pass
 * of accepted + 1 tokens in vLLM's draft runner), folded into its first step.
 */
export function drafter(spec: ResolvedSpeculative, target: LatencyModel, layers: number, draft?: LatencyModel): DraftTime | undefined {
  if (spec.method === 'ngram') return undefined;
  const model = spec.method === 'draft' ? (draft as LatencyModel) : target;
  const share = spec.method === 'draft' ? 1 : 1 / layers;
  const batch = emptyBatch();
  return (scheduled) => {
    let total = 0;
    for (let j = 1; j <= spec.k; j++) {
      resetBatch(batch);
      for (const seq of scheduled) if (seq.draft_tokens >= j) addDecode(batch, seq.computed_tokens + j);
      if (batch.decode_seqs === 0) break;
      total += share * model.iterationTime_s(batch);
    }
    return total;
  };
}
