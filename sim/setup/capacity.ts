import { InfersimError } from '../errors.js';
import type { GpuSpec } from '../hardware/gpu.js';
import { kvCapacity, type KvCapacity } from '../kv/capacity.js';
import type { ModelArchitecture } from '../model/architecture.js';
import type { KvDtype, WeightDtype, WorkloadSpec } from '../scenario/types.js';
import type { SchedulerFactory } from '../scheduler/scheduler.js';
import { checkClusterMemory } from './checks.js';
import { getModel } from '../model/catalog.js';
import type { ResolvedEngine } from './engine.js';

export interface CapacityInput {
  arch: ModelArchitecture;
  gpu: GpuSpec;
  tensor_parallel: number;
  pipeline_parallel: number;
  precision: { weights: WeightDtype; kv_cache: KvDtype };
  gpu_memory_utilization: number;
  engine: ResolvedEngine;
  replicas: number;
  workload: WorkloadSpec;
}

/**
 * Each replica's KV cache, and the checks that need it: the longest request fits, every replica's
 * blocks fit the simulator's memory, and the policy's own checks (`SchedulerFactory.validate`).
 */
export function sizeKv(c: CapacityInput, policy: SchedulerFactory): KvCapacity {
  const { engine } = c;
  const { block_size, max_model_len } = engine;
  const kv = kvCapacity({
    arch: c.arch,
    gpu: c.gpu,
    tensor_parallel: c.tensor_parallel,
    pipeline_parallel: c.pipeline_parallel,
    weights: c.precision.weights,
    kv_cache: c.precision.kv_cache,
    gpu_memory_utilization: c.gpu_memory_utilization,
    block_size,
    max_num_batched_tokens: engine.max_num_batched_tokens,
    max_num_seqs: engine.max_num_seqs,
    cuda_graphs: engine.cuda_graphs,
    vllm_version: engine.vllm_version,
    ...(policy.vllm_engine === undefined ? {} : { vllm_engine: policy.vllm_engine }),
    num_gpu_blocks_override: engine.num_gpu_blocks_override,
    ...(engine.speculative?.model === undefined ? {} : { draft_arch: getModel(engine.speculative.model, 'engine.speculative.model') }),
    ...(engine.speculative?.method === 'eagle' || engine.speculative?.method === 'mtp' ? { draft_head: true } : {}),
    ...(engine.lora === undefined ? {} : { lora_bytes: engine.lora.reserved_bytes_per_gpu }),
  });
  const usable_tokens = kv.usable_blocks * block_size;
  if (usable_tokens < max_model_len) {
    throw new InfersimError(
      `engine.max_model_len: ${max_model_len} tokens do not fit in the KV cache (${usable_tokens} tokens = ` +
        `${kv.usable_blocks} usable blocks × ${block_size}); lower engine.max_model_len to ≤ ${usable_tokens}, ` +
        'raise hardware.gpu_memory_utilization or tensor_parallel, or use a larger GPU',
    );
  }
  checkClusterMemory(c.replicas, kv.num_gpu_blocks);
  policy.validate?.({ usable_blocks: kv.usable_blocks, block_size, max_model_len, max_num_seqs: engine.max_num_seqs, workload: c.workload });
  return kv;
}
