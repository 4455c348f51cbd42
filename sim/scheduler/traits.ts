import type { EngineUsage } from '../scenario/types.js';
import { atLeast, CURRENT_VLLM_VERSION } from '../scenario/vllmVersion.js';
import type { DefaultsContext, PolicyDefaults, PolicyKey, SchedulerTraits } from './scheduler.js';

type Budgets = { max_num_batched_tokens: number; max_num_seqs: number };

/**
 * vLLM V1's defaults by GPU class, usage context and release (vllm/engine/arg_utils.py,
 * `_set_default_args`), newest first:
 * - from 0.8.4 (PR #16158): H100/H200-class GPUs get 8192 tokens / 1024 seqs as a server and
 *   16384 / 1024 offline; A100 and smaller 2048 / 256 and 8192 / 256 (0.8.5 briefly counted every
 *   GPU of ≥ 70 GiB as large, PR #17073, undone in 0.9 by PR #17885: not modelled);
 * - 0.7.1–0.8.3 (PR #12369): the same token budgets, 1024 seqs on every GPU;
 * - 0.7.0 (V1 alpha): 2048 tokens as a server, 8192 offline, 1024 seqs, on every GPU.
 */
export function v1Defaults(gpu_class: 'large' | 'small', usage: EngineUsage, version = CURRENT_VLLM_VERSION): Budgets {
  const large = gpu_class === 'large' && atLeast(version, 7, 1);
  const tokens = large ? (usage === 'server' ? 8192 : 16384) : usage === 'server' ? 2048 : 8192;
  const seqs = gpu_class === 'large' || !atLeast(version, 8, 4) ? 1024 : 256;
  return { max_num_batched_tokens: tokens, max_num_seqs: seqs };
}

/** vLLM V0's defaults (vllm/config.py SchedulerConfig, v0.5–0.6): 256 sequences; a whole-prompt budget of max(max_model_len, 2048). */
export const V0_DEFAULTS: Budgets = { max_num_batched_tokens: 2048, max_num_seqs: 256 };
/**
 * V0's default budget with chunked prefill (same source): 512 tokens, chosen there to balance ITL
 * and TTFT; 2048 from 0.6.5 (PR #10544).
 */
export function v0ChunkedBudget(version: string): number {
  return atLeast(version, 6, 5) ? 2048 : 512;
}

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
