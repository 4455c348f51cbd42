import { describe, expect, it } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import { getGpu } from '../../sim/hardware/catalog.js';
import { kvCapacity, type KvCapacityInput } from '../../sim/kv/capacity.js';
import { getModel } from '../../sim/model/catalog.js';

const base = (): KvCapacityInput => ({
  arch: getModel('llama-3.1-8b'),
  gpu: getGpu('h100-sxm'),
  tensor_parallel: 1,
  pipeline_parallel: 1,
  weights: 'bf16',
  kv_cache: 'bf16',
  gpu_memory_utilization: 0.9,
  block_size: 16,
  max_num_batched_tokens: 8192,
  max_num_seqs: 1024,
  cuda_graphs: true,
  vllm_version: '0.19',
});

describe('KV block counts stay within what a simulated replica can hold', () => {
  it('a model with one layer and one 1-wide KV head would get over 2^24 blocks: refused, naming the cause', () => {
    // 2 (K and V) × 1 layer × 1 head × 1 element × 2 bytes = 4 bytes a token, 64 a block: tens of GB make ~1e9 blocks.
    const arch = { ...getModel('llama-3.1-8b'), num_hidden_layers: 1, num_key_value_heads: 1, head_dim: 1 };
    let error: unknown;
    try {
      kvCapacity({ ...base(), arch });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InfersimError);
    expect((error as Error).message).toMatch(
      /^hardware\.gpu_memory_utilization: the KV cache of llama-3\.1-8b on h100-sxm would hold \d{9,} blocks, more than the 16777216 a simulated replica can/,
    );
  });

  it('an override above 2^24 is refused by the library too (the schema states the same bound)', () => {
    expect(() => kvCapacity({ ...base(), num_gpu_blocks_override: 2 ** 24 + 1 })).toThrow(/^engine\.num_gpu_blocks_override: .* would hold 16777217 blocks/);
    expect(kvCapacity({ ...base(), num_gpu_blocks_override: 2 ** 24 }).num_gpu_blocks).toBe(2 ** 24);
  });

  it('a profiling pass too large for the GPU names the engine keys that size it, not the weights', () => {
    // 2^31 − 1 tokens × (3 × 4096 + 3 × 14336) columns × 2 bytes ≈ 2.05e6 GiB of activations.
    expect(() => kvCapacity({ ...base(), max_num_batched_tokens: 2 ** 31 - 1, max_num_seqs: 2 ** 31 - 1 })).toThrow(
      /^engine\.max_num_batched_tokens: vLLM's profiling pass of 2147483647 tokens and 2147483647 sequences needs \d+\.\d GiB of activations per GPU, more than h100-sxm can spare beside 15\.0 GiB of weights; lower engine\.max_num_batched_tokens or engine\.max_num_seqs$/,
    );
  });
});
