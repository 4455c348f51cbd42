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

describe('multi-LoRA slot buffers come out of the KV budget', () => {
  it('4 slots of a rank-16 Llama-3.1-8B adapter: 369,426,432 bytes fewer for KV, whole blocks', () => {
    // A slot: the adapter's 83,886,080 bytes (test/latency/loraCost.test.ts) + embedding and LM-head
    // buffers, (128,256 × 16 + 4096 × 16 + 16 × 4096 + 128,256 × 16) × 2 = 8,470,528 bytes: 92,356,608; × 4.
    const lora_bytes = 4 * (83_886_080 + 8_470_528);
    expect(lora_bytes).toBe(369_426_432);
    const plain = kvCapacity(base());
    const lora = kvCapacity({ ...base(), lora_bytes });
    const free = plain.budget_bytes - plain.weight_bytes - plain.activation_peak_bytes - plain.non_torch_bytes - plain.cuda_graph_bytes;
    // 131,072 bytes a token (2 × 32 layers × 8 heads × 128 × 2 bytes) × 16 tokens = 2 MiB a block.
    expect(plain.kv_bytes_per_block).toBe(2 * 1024 * 1024);
    expect(lora.num_gpu_blocks).toBe(Math.floor((free - lora_bytes) / (2 * 1024 * 1024)));
    // 369,426,432 bytes are 176.2 blocks: 176 or 177 fewer, as the remainders fall.
    expect(plain.num_gpu_blocks - lora.num_gpu_blocks).toBeGreaterThanOrEqual(176);
    expect(plain.num_gpu_blocks - lora.num_gpu_blocks).toBeLessThanOrEqual(177);
    expect(lora.lora_bytes).toBe(lora_bytes);
    expect(plain.lora_bytes).toBeUndefined();
  });

  it('names the LoRA slots when the model no longer fits', () => {
    expect(() => kvCapacity({ ...base(), lora_bytes: 70 * 2 ** 30 })).toThrow(/weights 15\.0 GiB, LoRA slots 70\.0 GiB\), but gpu_memory_utilization 0\.9/);
  });
});

describe('an EAGLE/MTP head beside the target', () => {
  it('takes one decoder layer and the 2h → h projection from the KV budget, and one layer of KV per token (Llama-3.1-8B, hand-computed)', () => {
    // One layer: q and o 4096², k and v 4096 × 1024, gate, up and down 4096 × 14336: 218,103,808
    // parameters × 2 bytes, plus two 4096-wide norms × 2 bytes; the projection 2 × 4096² × 2 bytes.
    const head_bytes = 218_103_808 * 2 + 2 * 4096 * 2 + 2 * 4096 * 4096 * 2;
    // K and V × 8 KV heads × 128 dims × 2 bytes.
    const head_kv = 2 * 8 * 128 * 2;
    const plain = kvCapacity(base());
    const headed = kvCapacity({ ...base(), draft_head: true });
    expect(headed.weight_bytes - plain.weight_bytes).toBe(head_bytes);
    expect(headed.kv_bytes_per_token - plain.kv_bytes_per_token).toBe(head_kv);
    // What is left for KV after the head, in blocks of 16 tokens that each also hold the head's layer.
    const free = plain.budget_bytes - plain.weight_bytes - head_bytes - plain.activation_peak_bytes - plain.non_torch_bytes - plain.cuda_graph_bytes;
    expect(headed.num_gpu_blocks).toBe(Math.floor(free / ((plain.kv_bytes_per_token + head_kv) * 16)));
  });
});
