import type { EngineUsage } from '../scenario/types.js';
import type { DefaultsContext, PolicyDefaults, PolicyKey, SchedulerTraits } from './scheduler.js';

type Budgets = { max_num_batched_tokens: number; max_num_seqs: number };

/**
 * vLLM V1's defaults by GPU class and usage context (vllm/engine/arg_utils.py,
 * `_set_default_args`): H100/H200-class GPUs get 8192 tokens / 1024 seqs as a server and
 * 16384 / 1024 offline; A100 and smaller get 2048 / 256 and 8192 / 256.
 */
export function v1Defaults(gpu_class: 'large' | 'small', usage: EngineUsage): Budgets {
  if (gpu_class === 'large') {
    return usage === 'server'
      ? { max_num_batched_tokens: 8192, max_num_seqs: 1024 }
      : { max_num_batched_tokens: 16384, max_num_seqs: 1024 };
  }
  return usage === 'server'
    ? { max_num_batched_tokens: 2048, max_num_seqs: 256 }
    : { max_num_batched_tokens: 8192, max_num_seqs: 256 };
}

/** vLLM V0's defaults (vllm/config.py SchedulerConfig, v0.5–0.6): 256 sequences; a whole-prompt budget of max(max_model_len, 2048). */
export const V0_DEFAULTS: Budgets = { max_num_batched_tokens: 2048, max_num_seqs: 256 };
/** V0's default budget with chunked prefill (same source): 512 tokens, chosen there to balance ITL and TTFT. */
export const V0_CHUNKED_BUDGET = 512;

/**
 * A policy's default step budget: `chunkedBudget` (default: the base budget) when it chunks;
 * without chunking a whole prompt must fit in one step, so vLLM raises the budget to max_model_len.
 */
export function stepBudget(base: Budgets, ctx: DefaultsContext, chunkedBudget = base.max_num_batched_tokens): PolicyDefaults {
  return {
    max_num_batched_tokens: ctx.chunked ? chunkedBudget : Math.max(ctx.max_model_len, base.max_num_batched_tokens),
    max_num_seqs: base.max_num_seqs,
  };
}

/** What the scheduler-specific block-size rules say (vLLM V1 with FlashAttention needs multiples of 16; V0 also allowed 8). */
export const FLASH_ATTENTION_BLOCKS = { multiple: 16, why: 'FlashAttention backend; only vllm-v0 also allows 8' } as const;

/**
 * The traits of a request-level policy (Orca, static, dynamic batching): KV reserved at admission,
 * so it never preempts (the recorded mode is recompute) and shares no prefixes; whole prompts; FCFS.
 */
export function reservedTraits(keys: readonly PolicyKey[]): SchedulerTraits {
  return {
    kv: 'reserved',
    preemption: { modes: [], default: 'recompute' },
    chunking: { rule: 'never' },
    block_size: FLASH_ATTENTION_BLOCKS,
    prefix_caching: false,
    priority: false,
    keys: ['orca_reservation', ...keys],
  };
}
