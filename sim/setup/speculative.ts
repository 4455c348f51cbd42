import { fieldError } from '../errors.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { getModel } from '../model/catalog.js';
import type { SpeculativeInput, SpeculativeMethod } from '../scenario/types.js';
import type { SchedulerFactory } from '../scheduler/scheduler.js';

/** engine.speculative with every key filled. */
export interface ResolvedSpeculative {
  method: SpeculativeMethod;
  k: number;
  /** Acceptance probability of each proposed position, given every earlier one was accepted (k of them). */
  acceptance: number[];
  /** The draft model (method draft), as given: its architecture is read again where its latency model is built. */
  model?: string;
}

/**
 * MTP's default acceptance: DeepSeek-V3's technical report (arXiv 2412.19437, §5.4.3) measures
 * 85–90 % acceptance of the second token its MTP module predicts; the low end is taken. The other
 * methods' acceptance depends on the draft, the data and the sampling: a scenario states it.
 */
export const MTP_ACCEPTANCE = 0.85;

const FIELD = 'engine.speculative';

export function resolveSpeculative(s: SpeculativeInput | undefined, policy: SchedulerFactory, target: ModelArchitecture): ResolvedSpeculative | undefined {
  if (s === undefined) return undefined;
  if (policy.traits.speculative !== true) {
    throw fieldError(`${FIELD}.method`, `needs a scheduler that verifies proposed tokens (vllm); ${policy.name} does not`, s.method);
  }
  if (s.method === 'draft' && s.model === undefined) throw fieldError(`${FIELD}.model`, 'is required with method draft: the small model that proposes tokens', undefined);
  if (s.method !== 'draft' && s.model !== undefined) throw fieldError(`${FIELD}.model`, `is for method draft; ${s.method} proposes with ${s.method === 'ngram' ? 'the prompt\'s n-grams' : 'heads of the target model'}`, s.model);
  const acceptance = acceptanceOf(s);
  if (s.model === undefined) return { method: s.method, k: s.k, acceptance };
  const draft_arch = getModel(s.model, `${FIELD}.model`);
  // A draft proposes token ids the target verifies: both must share a tokenizer (vLLM requires it).
  if (draft_arch.vocab_size !== target.vocab_size) {
    throw fieldError(`${FIELD}.model`, `has a vocabulary of ${draft_arch.vocab_size} tokens and the target ${target.vocab_size}: a draft must share the target's tokenizer`, s.model);
  }
  return { method: s.method, k: s.k, acceptance, model: s.model };
}

function acceptanceOf(s: SpeculativeInput): number[] {
  const a = s.acceptance ?? (s.method === 'mtp' ? MTP_ACCEPTANCE : undefined);
  if (a === undefined) {
    throw fieldError(`${FIELD}.acceptance`, `is required with method ${s.method}: the chance a proposed token is accepted, one rate (0.7) or one per position (k = ${s.k} of them); it depends on the draft and the data`, undefined);
  }
  if (typeof a === 'number') return Array.from({ length: s.k }, () => a);
  if (a.length !== s.k) throw fieldError(`${FIELD}.acceptance`, `lists ${a.length} rates; give one per proposed position (k = ${s.k}) or a single rate`, a);
  return a;
}
