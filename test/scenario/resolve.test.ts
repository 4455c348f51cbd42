import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GPU_CATALOG } from '../../sim/hardware/catalog.js';
import { MODEL_CATALOG } from '../../sim/model/catalog.js';
import { weightBytesPerGpu } from '../../sim/model/derived.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { describeKvCapacity } from '../../sim/kv/capacity.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { expectInvariants, run, scenario } from '../helpers.js';

const resolve = (patch: Parameters<typeof scenario>[0]) => resolveScenario(scenario(patch) as ScenarioInput);

describe('vLLM V1 defaults by GPU class and usage', () => {
  it.each([
    ['h100-sxm', 'server', 8192, 1024],
    ['h200-sxm', 'server', 8192, 1024],
    ['h100-sxm', 'offline', 16384, 1024],
    ['a100-sxm-80gb', 'server', 2048, 256],
    ['l4', 'server', 2048, 256],
    ['a100-sxm-80gb', 'offline', 8192, 256],
  ])('%s as %s: %i tokens / %i seqs per step', (gpu, usage, tokens, seqs) => {
    const model = gpu === 'l4' ? 'llama-2-7b' : 'llama-3.1-8b';
    const { scenario: s } = resolve({ model, hardware: { gpu }, engine: { usage, max_model_len: 4096 } });
    expect(s.engine.max_num_batched_tokens).toBe(tokens);
    expect(s.engine.max_num_seqs).toBe(seqs);
    expect(s.engine.block_size).toBe(16);
    expect(s.engine.enable_chunked_prefill).toBe(true);
    expect(s.engine.cuda_graphs).toBe(true);
    expect(s.engine.max_model_len).toBe(4096);
    expect(s.hardware.gpu_memory_utilization).toBe(0.9);
  });

  it('max_model_len defaults to max_position_embeddings; without chunking the budget covers it', () => {
    const { scenario: s } = resolve({ model: 'llama-2-7b', engine: { enable_chunked_prefill: false } });
    expect(s.engine.max_model_len).toBe(4096);
    expect(s.engine.max_num_batched_tokens).toBe(8192);
    const { scenario: a } = resolve({ model: 'llama-2-7b', hardware: { gpu: 'a100-sxm-80gb' }, engine: { enable_chunked_prefill: false } });
    expect(a.engine.max_num_batched_tokens).toBe(4096);
  });
});

describe('KV capacity', () => {
  it('splits the memory budget the way vLLM profiles it, in whole blocks', () => {
    const { kv } = resolve({});
    const gpu = GPU_CATALOG['h100-sxm'];
    expect(kv.budget_bytes).toBe(gpu.runtime_memory_bytes * 0.9);
    expect(kv.weight_bytes).toBe(weightBytesPerGpu(MODEL_CATALOG['llama-3.1-8b'], 2, 1, 1));
    // 16 tokens × 131072 bytes per token (Llama-3.1-8B, bf16).
    expect(kv.kv_bytes_per_block).toBe(16 * 131072);
    // Activation peak (vLLM ≥ 0.17): the larger of the forward pass at 8192 tokens, 8192 × (3·4096 + 3·14336) × 2 B
    // = 905,969,664 B, and the sampler over 1024 rows: fp32 logits plus the top-k/top-p sort's fp32 values and
    // int64 indices, 1024 × 128256 × 16 B = 1.96 GiB (vLLM 0.19 printed 1.89 GiB for this model and budget).
    expect(kv.activation_peak_bytes).toBe(1024 * 128256 * 16);
    expect(resolve({ engine: { max_num_seqs: 256 } }).kv.activation_peak_bytes).toBe(8192 * (3 * 4096 + 3 * 14336) * 2);
    // vLLM 0.18/0.19 print 0.25 GiB of non-torch memory at TP 1; CUDA graphs are captured after KV sizing.
    expect(kv.non_torch_bytes).toBe(0.25 * 2 ** 30);
    expect(kv.cuda_graph_bytes).toBe(0);
    expect(resolve({ engine: { cuda_graphs: false } }).kv.cuda_graph_bytes).toBe(0);
    const free = kv.budget_bytes - kv.weight_bytes - kv.activation_peak_bytes - kv.non_torch_bytes - kv.cuda_graph_bytes;
    expect(kv.num_gpu_blocks).toBe(Math.floor(free / kv.kv_bytes_per_block));
    expect(kv.kv_tokens).toBe(kv.num_gpu_blocks * 16);
  });

  it('halves the bytes per token with an fp8 KV cache and shards KV heads over TP', () => {
    const bf16 = resolve({}).kv;
    const fp8 = resolve({ precision: { kv_cache: 'fp8' } }).kv;
    expect(fp8.kv_bytes_per_token).toBe(bf16.kv_bytes_per_token / 2);
    const tp2 = resolve({ hardware: { gpu: 'h100-sxm', tensor_parallel: 2 } }).kv;
    expect(tp2.kv_bytes_per_token).toBe(bf16.kv_bytes_per_token / 2);
  });

  it('num_gpu_blocks_override sets the pool directly', () => {
    const { kv } = resolve({ engine: { num_gpu_blocks_override: 500, max_model_len: 7984 } });
    expect(kv.num_gpu_blocks).toBe(500);
    expect(kv.kv_tokens).toBe(8000);
    // One block is vLLM V1's null block: 499 × 16 = 7984 tokens are usable.
    expect(kv.usable_blocks).toBe(499);
    expect(() => resolve({ engine: { num_gpu_blocks_override: 500, max_model_len: 7985 } })).toThrow(/7984 tokens = 499 usable blocks/);
  });

  it('prints the capacity the way vLLM does at startup', () => {
    const { kv } = resolve({ engine: { num_gpu_blocks_override: 500, max_model_len: 4000 } });
    const text = describeKvCapacity(kv, 4000);
    expect(text).toContain('GPU KV cache size: 8,000 tokens (500 blocks) [num_gpu_blocks_override]');
    expect(text).toContain('Maximum concurrency for 4,000 tokens per request: 2.00x');
    // 500 blocks × 16 tokens × 131072 bytes = 1,048,576,000 bytes = 0.98 GiB.
    expect(text).toContain('available KV cache memory: 0.98 GiB');
  });

  it('fails at startup when one max_model_len sequence cannot fit', () => {
    expect(() => resolve({ engine: { num_gpu_blocks_override: 100 } })).toThrow(
      /engine\.max_model_len: 131072 tokens do not fit in the KV cache \(1584 tokens = 99 usable blocks × 16\)/,
    );
  });

  it('a 70B model on one GPU does not fit and says what it needs', () => {
    expect(() => resolve({ model: 'llama-3.1-70b' })).toThrow(/model does not fit: .* needs 1\d\d\.\d GiB per GPU/);
    expect(() => resolve({ model: 'llama-3.1-70b', hardware: { gpu: 'h100-sxm', tensor_parallel: 4 } })).not.toThrow();
  });
});

describe('simulator memory: replicas × KV blocks', () => {
  // 27,702 blocks: vLLM 0.19 printed 476,016 tokens (29,751 blocks) for this replica at 0.95; 0.9 leaves
  // 0.05 × 79.19 GiB = 2,027 blocks fewer, 27,724 (llm-d-planner v0.19.0 log, vllm_startup_capacity.csv).
  it('4,096 replicas of llama-3.1-8b on h100-sxm fit (4096 × 27,702 blocks = 113.5 M ≤ 2^27)', () => {
    expect(resolve({ cluster: { replicas: 4096 } }).kv.num_gpu_blocks).toBe(27702);
  });
  it('resolveScenario called directly (no schema) still bounds replicas', () => {
    expect(() => resolve({ cluster: { replicas: 1e9 } })).toThrow(
      'cluster.replicas: must be an integer ≥ 1 and ≤ 4096 (a simulation holds every replica in memory), got 1000000000',
    );
  });
  it('4,096 replicas of 2^24 blocks each do not: the error says how many would', () => {
    // 4096 × 2^24 = 68,719,476,736 blocks × 29 bytes = 1,992.9 GB; 2^27 / 2^24 = 8 replicas fit.
    expect(() => resolve({ cluster: { replicas: 4096 }, engine: { num_gpu_blocks_override: 2 ** 24 } })).toThrow(
      "cluster.replicas: must be ≤ 8 here: 4096 replicas × 16777216 KV blocks each would take 1992.9 GB of simulator memory (a simulation holds every replica's blocks, at most 134217728 in all); use fewer replicas, or engine.num_gpu_blocks_override for smaller pools, got 4096",
    );
  });
});

describe('features this version rejects clearly', () => {
  it('a tensor-parallel group larger than one node (8 GPUs on an HGX H100 board)', () => {
    expect(() => resolve({ hardware: { gpu: 'h100-sxm', tensor_parallel: 16 } })).toThrow(
      'hardware.tensor_parallel: must be ≤ 8, the GPUs of one h100-sxm node: a tensor-parallel group across nodes would all-reduce over the network, which is not modelled; use hardware.pipeline_parallel to span nodes, or more replicas, got 16',
    );
    expect(() => resolve({ hardware: { gpu: 'h100-sxm', tensor_parallel: 8 } })).not.toThrow();
  });
  it('pipeline parallelism with a scheduler that runs one step at a time', () => {
    expect(() => resolve({ hardware: { gpu: 'h100-sxm', pipeline_parallel: 2 }, engine: { scheduler: 'vllm-v0' } })).toThrow(/hardware\.pipeline_parallel: needs a scheduler that keeps a step in flight per stage/);
    expect(() => resolve({ hardware: { gpu: 'h100-sxm', pipeline_parallel: 2 } })).not.toThrow();
  });
  it('swap preemption under the V1 scheduler', () => {
    expect(() => resolve({ engine: { preemption: 'swap' } })).toThrow(/engine\.preemption: .*only preempts by recompute/);
  });
  it('block sizes that are not multiples of 16 under vllm', () => {
    expect(() => resolve({ engine: { block_size: 8 } })).toThrow(/engine\.block_size: must be a multiple of 16/);
  });
  it('a token budget smaller than max_num_seqs', () => {
    expect(() => resolve({ engine: { max_num_batched_tokens: 16 } })).toThrow(
      /engine\.max_num_batched_tokens: must be ≥ engine\.max_num_seqs \(1024, the default here\), got 16/,
    );
    expect(() => resolve({ engine: { max_num_batched_tokens: 16, max_num_seqs: 16 } })).not.toThrow();
  });
  it('max_model_len beyond the model limit', () => {
    expect(() => resolve({ model: 'llama-2-7b', engine: { max_model_len: 8192 } })).toThrow(/engine\.max_model_len: must be ≤/);
  });
});

describe('a Hugging Face config.json as the model', () => {
  it('runs like the catalog entry with the same fields', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infersim-hf-'));
    try {
      const a = MODEL_CATALOG['llama-3.1-8b'];
      const path = join(dir, 'config.json');
      writeFileSync(
        path,
        JSON.stringify({
          architectures: ['LlamaForCausalLM'],
          hidden_act: 'silu',
          hidden_size: a.hidden_size,
          intermediate_size: a.intermediate_size,
          num_hidden_layers: a.num_hidden_layers,
          num_attention_heads: a.num_attention_heads,
          num_key_value_heads: a.num_key_value_heads,
          vocab_size: a.vocab_size,
          max_position_embeddings: a.max_position_embeddings,
          tie_word_embeddings: false,
        }),
      );
      const fromFile = run(scenario({ model: path }));
      const fromCatalog = run(scenario({}));
      expectInvariants(fromFile);
      expect(fromFile.outcomes.map((o) => o.finish_s)).toEqual(fromCatalog.outcomes.map((o) => o.finish_s));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
