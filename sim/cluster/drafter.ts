import { addDecode, emptyBatch, resetBatch, type BatchShape } from '../latency/batch.js';
import type { LatencyModel } from '../latency/model.js';
import type { Sequence } from '../scheduler/sequence.js';
import type { ResolvedSpeculative } from '../setup/speculative.js';

/** The time a step spends proposing its sequences' draft tokens before the target verifies them, s. */
export type DraftTime = (scheduled: readonly Sequence[]) => number;

/**
 * How proposals cost time, by method (vLLM V1's proposers, vllm/v1/spec_decode):
 * - draft: the draft model runs one decode step per proposed position over the sequences still
 *   proposing (its own latency model, same GPU and parallelism);
 * - eagle, mtp: one step of a head of a single transformer layer per position: the target's
 *   per-layer work over its layer count, plus its whole LM head and sampler (EAGLE's draft head
 *   and DeepSeek's MTP module are one decoder layer each, sharing the target's full-vocabulary LM head);
 * - ngram: a lookup in the prompt on the CPU, overlapped with the GPU: no time.
 * Not modelled: the draft re-reading the tokens the last verification accepted (one catch-up pass
 * of accepted + 1 tokens in vLLM's draft runner), folded into its first step.
 */
export function drafter(spec: ResolvedSpeculative, target: LatencyModel, layers: number, draft?: LatencyModel): DraftTime | undefined {
  if (spec.method === 'ngram') return undefined;
  const position = spec.method === 'draft' ? draftStep(draft as LatencyModel) : headStep(target, layers);
  const batch = emptyBatch();
  return (scheduled) => {
    let total = 0;
    for (let j = 1; j <= spec.k; j++) {
      resetBatch(batch);
      for (const seq of scheduled) if (seq.draft_tokens >= j) addDecode(batch, seq.computed_tokens + j);
      if (batch.decode_seqs === 0) break;
      total += position(batch);
    }
    return total;
  };
}

/** The engine's per-step CPU work (scheduling, detokenizing) is the step's, paid once, not per proposed position. */
const HOST_WORK = 'cpu_overhead';
/** Terms a head step pays whole: the full-vocabulary LM head and sampler, and the launch of its graph. */
const WHOLE = new Set(['lm_head_sampler', 'launch_overhead']);

/** A draft model's decode step, without the host's per-step work. */
function draftStep(model: LatencyModel): (batch: BatchShape) => number {
  return (batch) => model.breakdown(batch).reduce((acc, op) => acc + (op.name === HOST_WORK ? 0 : op.time_s), 0);
}

/** An EAGLE/MTP head: one decoder layer's share of the target's per-layer work, plus a whole LM head and graph launch. */
function headStep(target: LatencyModel, layers: number): (batch: BatchShape) => number {
  return (batch) =>
    target.breakdown(batch).reduce((acc, op) => acc + (op.name === HOST_WORK ? 0 : WHOLE.has(op.name) ? op.time_s : op.time_s / layers), 0);
}
