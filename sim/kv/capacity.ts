import { InfersimError } from '../errors.js';
import type { GpuSpec } from '../hardware/gpu.js';
import { MAX_KV_BLOCKS_PER_REPLICA } from '../scenario/bounds.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { bytesPerKvElement, bytesPerWeight, kvBytesPerTokenPerGpu, weightBytesPerGpu } from '../model/derived.js';
import type { KvDtype, WeightDtype } from '../scenario/types.js';
import { activationPeakBytes, cudaGraphBytes, nonTorchBytes } from './memoryRules.js';

export interface KvCapacityInput {
  arch: ModelArchitecture;
  gpu: GpuSpec;
  tensor_parallel: number;
  pipeline_parallel: number;
  weights: WeightDtype;
  kv_cache: KvDtype;
  gpu_memory_utilization: number;
  block_size: number;
  max_num_batched_tokens: number;
  max_num_seqs: number;
  cuda_graphs: boolean;
  /** The vLLM release whose start-up profiling the figures follow (major.minor). */
  vllm_version: string;
  /** The engine generation that profiles (see memoryRules.ts); absent: the release's default engine. */
  vllm_engine?: 'v0' | 'v1';
  num_gpu_blocks_override?: number;
  /**
   * A speculative-decoding draft model served beside the target (vLLM loads it on the same GPUs at
   * the same TP, and its layers' KV shares the cache: each token holds both models' KV).
   */
  draft_arch?: ModelArchitecture;
  /**
   * An EAGLE or MTP head served with the target (engine.speculative method eagle or mtp): one
   * decoder layer like the target's last, plus the projection of [embedding, hidden state] to the
   * hidden size; it shares the target's embedding and LM head (vLLM's EAGLE and DeepSeek MTP
   * proposers load them from the target), and its one layer's KV shares the cache.
   */
  draft_head?: boolean;
  /**
   * Multi-LoRA: the adapter-slot buffers vLLM allocates on each GPU with the model (sim/latency/loraCost.ts,
   * loraReservedBytesPerGpu); they are in place when the KV cache is sized, so they come out of its budget.
   */
  lora_bytes?: number;
}

/** Memory of one GPU of a replica, split the way vLLM's startup profiling splits it. */
export interface KvCapacity {
  runtime_memory_bytes: number;
  budget_bytes: number;
  weight_bytes: number;
  /** Only with engine.lora: the LoRA slot buffers, bytes (counted beside the weights). */
  lora_bytes?: number;
  activation_peak_bytes: number;
  non_torch_bytes: number;
  cuda_graph_bytes: number;
  kv_cache_bytes: number;
  kv_bytes_per_token: number;
  kv_bytes_per_block: number;
  num_gpu_blocks: number;
  /** Blocks requests can hold: vLLM V1's block pool keeps one block back as its null block. */
  usable_blocks: number;
  kv_tokens: number;
  overridden: boolean;
}

const GiB = 2 ** 30;

export function kvCapacity(input: KvCapacityInput): KvCapacity {
  const { arch, gpu } = input;
  const tp = input.tensor_parallel;
  const pp = input.pipeline_parallel;
  const runtime = gpu.runtime_memory_bytes;
  const budget = runtime * input.gpu_memory_utilization;
  const draft = input.draft_arch;
  const weightsOf = (a: ModelArchitecture) => weightBytesPerGpu(a, bytesPerWeight(input.weights), tp, pp);
  const head = input.draft_head === true ? headPerGpu(arch, bytesPerWeight(input.weights), bytesPerKvElement(input.kv_cache), tp) : { weights: 0, kv: 0 };
  const weights = weightsOf(arch) + (draft === undefined ? 0 : weightsOf(draft)) + head.weights;
  // Each term follows the profiling of input.vllm_version; the rules and their sources are in memoryRules.ts.
  const activation = activationPeakBytes(input);
  const nonTorch = nonTorchBytes(input);
  const graphs = cudaGraphBytes(input);
  const lora = input.lora_bytes ?? 0;
  const kvBytes = budget - weights - lora - activation - nonTorch - graphs;
  const kvOf = (a: ModelArchitecture) => kvBytesPerTokenPerGpu(a, bytesPerKvElement(input.kv_cache), tp, pp);
  const perToken = kvOf(arch) + (draft === undefined ? 0 : kvOf(draft)) + head.kv;
  const perBlock = perToken * input.block_size;

  if (input.num_gpu_blocks_override === undefined && kvBytes < perBlock && activation > weights) {
    // The profiling pass, not the weights, takes the memory: say which engine keys size it.
    throw new InfersimError(
      `engine.max_num_batched_tokens: vLLM's profiling pass of ${input.max_num_batched_tokens} tokens and ${input.max_num_seqs} ` +
        `sequences needs ${(activation / GiB).toFixed(1)} GiB of activations per GPU, more than ${gpu.name} can spare beside ` +
        `${(weights / GiB).toFixed(1)} GiB of weights; lower engine.max_num_batched_tokens or engine.max_num_seqs`,
    );
  }
  if (input.num_gpu_blocks_override === undefined && kvBytes < perBlock) {
    const need = (weights + lora + activation + nonTorch + graphs) / GiB;
    throw new InfersimError(
      `model does not fit: ${arch.name} on ${gpu.name} at tensor_parallel ${tp}, pipeline_parallel ${pp} ` +
        `(${input.weights} weights) needs ${need.toFixed(1)} GiB per GPU before any KV cache ` +
        `(weights ${(weights / GiB).toFixed(1)} GiB${lora > 0 ? `, LoRA slots ${(lora / GiB).toFixed(1)} GiB` : ''}), but gpu_memory_utilization ${input.gpu_memory_utilization} ` +
        `of ${(runtime / GiB).toFixed(1)} GiB allows ${(budget / GiB).toFixed(1)} GiB; ` +
        // Tensor parallelism stops at one node (see the hardware catalog): past it, only the other remedies are real.
        (tp < gpu.gpus_per_node ? 'raise hardware.tensor_parallel (up to ' + gpu.gpus_per_node + ' on one node), ' : `tensor_parallel is already a whole ${gpu.gpus_per_node}-GPU node: `) +
        'use smaller precision.weights, or pick a larger GPU',
    );
  }
  const blocks = input.num_gpu_blocks_override ?? Math.floor(kvBytes / perBlock);
  if (!(blocks <= MAX_KV_BLOCKS_PER_REPLICA)) {
    const field = input.num_gpu_blocks_override === undefined ? 'hardware.gpu_memory_utilization' : 'engine.num_gpu_blocks_override';
    throw new InfersimError(
      `${field}: the KV cache of ${arch.name} on ${gpu.name} would hold ${blocks} blocks, more than the ${MAX_KV_BLOCKS_PER_REPLICA} a ` +
        'simulated replica can (it holds every block in memory); set engine.num_gpu_blocks_override to at most that, or a larger engine.block_size',
    );
  }
  return {
    runtime_memory_bytes: runtime,
    budget_bytes: budget,
    weight_bytes: weights,
    ...(lora > 0 ? { lora_bytes: lora } : {}),
    activation_peak_bytes: activation,
    non_torch_bytes: nonTorch,
    cuda_graph_bytes: graphs,
    kv_cache_bytes: blocks * perBlock,
    kv_bytes_per_token: perToken,
    kv_bytes_per_block: perBlock,
    num_gpu_blocks: blocks,
    usable_blocks: Math.max(0, blocks - 1),
    kv_tokens: blocks * input.block_size,
    overridden: input.num_gpu_blocks_override !== undefined,
  };
}

/**
 * An EAGLE/MTP head on one GPU: the target's last decoder layer's weights and KV per token (a
 * model of L layers less one of L − 1 layers, pp 1, so shared embedding and LM head cancel out) and
 * the 2h → h projection, which vLLM does not shard (EAGLE's `fc`, DeepSeek MTP's `eh_proj`).
 */
export function headPerGpu(arch: ModelArchitecture, bytesPerParam: number, kvBytes: number, tp: number): { weights: number; kv: number } {
  // The difference of two layer counts is one layer; a one-layer target is taken as two less one.
  const L = Math.max(2, arch.num_hidden_layers);
  const more = { ...arch, num_hidden_layers: L };
  const less = { ...arch, num_hidden_layers: L - 1 };
  const layer = weightBytesPerGpu(more, bytesPerParam, tp, 1) - weightBytesPerGpu(less, bytesPerParam, tp, 1);
  const kv = kvBytesPerTokenPerGpu(more, kvBytes, tp, 1) - kvBytesPerTokenPerGpu(less, kvBytes, tp, 1);
  return { weights: layer + 2 * arch.hidden_size * arch.hidden_size * bytesPerParam, kv };
}

/** The lines vLLM prints at startup about the KV cache, for the console. */
export function describeKvCapacity(c: KvCapacity, max_model_len: number): string {
  const concurrency = c.kv_tokens / max_model_len;
  return (
    `Model weights take ${(c.weight_bytes / GiB).toFixed(2)} GiB per GPU; ` +
    `available KV cache memory: ${(c.kv_cache_bytes / GiB).toFixed(2)} GiB\n` +
    `GPU KV cache size: ${c.kv_tokens.toLocaleString('en-US')} tokens (${c.num_gpu_blocks} blocks)` +
    (c.overridden ? ' [num_gpu_blocks_override]' : '') +
    `\nMaximum concurrency for ${max_model_len.toLocaleString('en-US')} tokens per request: ${concurrency.toFixed(2)}x`
  );
}
