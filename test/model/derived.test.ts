import { describe, expect, it } from 'vitest';
import type { ModelArchitecture } from '../../sim/model/architecture.js';
import { MODEL_CATALOG } from '../../sim/model/catalog.js';
import {
  bytesPerKvElement,
  bytesPerWeight,
  kvBytesPerToken,
  kvBytesPerTokenPerGpu,
  parameterCount,
  validateParallelism,
  weightBytesPerGpu,
} from '../../sim/model/derived.js';
import { InfersimError } from '../../sim/errors.js';

const m = MODEL_CATALOG;

/** Small enough to count by hand. */
const tiny: ModelArchitecture = {
  name: 'tiny', hidden_size: 8, intermediate_size: 16, num_hidden_layers: 3,
  num_attention_heads: 4, num_key_value_heads: 2, head_dim: 2, vocab_size: 10,
  max_position_embeddings: 64, gated_mlp: true, tie_word_embeddings: true,
};

describe('parameterCount', () => {
  it('matches published totals within 0.5 %', () => {
    const published: Array<[string, number]> = [
      ['llama-3.1-8b', 8.03e9],
      ['llama-2-7b', 6.74e9],
      ['llama-2-70b', 68.98e9],
      ['mixtral-8x7b', 46.7e9],
      ['qwen2.5-7b', 7.62e9],
    ];
    for (const [name, total] of published) {
      expect(Math.abs(parameterCount(m[name]) / total - 1), name).toBeLessThan(0.005);
    }
  });

  it('counts llama-3.1-8b exactly', () => {
    const embedding = 128256 * 4096;
    const attention = 2 * 4096 * 4096 + 2 * 4096 * 1024;
    const mlp = 3 * 4096 * 14336;
    const layer = attention + mlp + 2 * 4096;
    expect(parameterCount(m['llama-3.1-8b'])).toBe(2 * embedding + 32 * layer + 4096);
    expect(parameterCount(m['llama-3.1-8b'])).toBe(8_030_261_248);
  });

  it('counts a tied tiny model by hand', () => {
    // embedding 80; layer: q 64 + k 32 + v 32 + o 64 + mlp 384 + norms 16 = 592; final norm 8
    expect(parameterCount(tiny)).toBe(80 + 3 * 592 + 8);
  });

  it('adds qkv biases and the MoE router', () => {
    const withBias = { ...tiny, attention_bias: true };
    expect(parameterCount(withBias) - parameterCount(tiny)).toBe(3 * (8 + 4 + 4));
    const moe = { ...tiny, num_local_experts: 4, num_experts_per_tok: 2 };
    expect(parameterCount(moe) - parameterCount(tiny)).toBe(3 * (3 * 384 + 8 * 4));
  });
});

describe('weightBytesPerGpu', () => {
  it('is parameters × bytes on one bf16 GPU', () => {
    const arch = m['llama-3.1-8b'];
    expect(weightBytesPerGpu(arch, 2, 1, 1)).toBe(2 * parameterCount(arch));
  });

  it('splits layers and vocab by tp but replicates norms', () => {
    // per layer at tp 2: (attention + mlp) / 2 sharded, 2 norms of 4096 replicated
    const layer = (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336) / 2 + 2 * 4096;
    const vocab = (2 * 128256 * 4096) / 2 + 4096;
    expect(weightBytesPerGpu(m['llama-3.1-8b'], 2, 2, 1)).toBe(2 * (32 * layer + vocab));
  });

  it('keeps embeddings and norms at 16-bit under int4', () => {
    // per layer: matrices 576 × 0.5 + norms 16 × 2; vocab (tied, pp 1): 80 + 8 at 2 bytes
    expect(weightBytesPerGpu(tiny, 0.5, 1, 1)).toBe(3 * (576 * 0.5 + 16 * 2) + (80 + 8) * 2);
  });

  it('charges the worst pipeline stage with ceil(layers/pp) and both vocab matrices', () => {
    // tp 2: q,o 8×4 each, k,v 8×2 each = 96; mlp 384/2 = 192 → 288 bytes at fp8; norms 16 × 2 bytes
    // worst stage: ceil(3/2) = 2 layers; embedding + LM head copy: 2 × 80/2, final norm 8, at 2 bytes
    expect(weightBytesPerGpu(tiny, 1, 2, 2)).toBe(2 * (288 + 32) + (80 + 8) * 2);
    expect(weightBytesPerGpu(tiny, 1, 2, 1)).toBe(3 * (288 + 32) + (40 + 8) * 2);
  });

  it('replicates KV projections when tp exceeds the KV heads', () => {
    // tp 4 > 2 kv heads: each GPU keeps one KV head (k,v 8×2 each), one query head (q,o 8×2 each)
    const perLayer = 4 * 16 + 384 / 4;
    expect(weightBytesPerGpu(tiny, 1, 4, 1)).toBe(3 * (perLayer + 32) + (20 + 8) * 2);
  });
});

describe('KV bytes per token', () => {
  it('llama-3.1-8b bf16: 2 × 32 layers × 8 heads × 128 × 2 bytes', () => {
    expect(kvBytesPerToken(m['llama-3.1-8b'], 2)).toBe(131072);
    expect(kvBytesPerTokenPerGpu(m['llama-3.1-8b'], 2, 1, 1)).toBe(131072);
  });

  it('splits KV heads by tp and layers by pp', () => {
    expect(kvBytesPerTokenPerGpu(m['llama-2-7b'], 2, 2, 1)).toBe(2 * 32 * 16 * 128 * 2);
    expect(kvBytesPerTokenPerGpu(m['llama-3.1-70b'], 2, 8, 1)).toBe(2 * 80 * 1 * 128 * 2);
    expect(kvBytesPerTokenPerGpu(m['llama-3.1-70b'], 1, 8, 3)).toBe(2 * 27 * 1 * 128 * 1);
  });

  it('replicates KV heads when tp > kv heads (vLLM)', () => {
    expect(kvBytesPerTokenPerGpu(m['llama-3.1-70b'], 2, 16, 1)).toBe(2 * 80 * 1 * 128 * 2);
  });
});

describe('dtype sizes', () => {
  it('maps weight and KV dtypes to bytes', () => {
    expect([bytesPerWeight('fp32'), bytesPerWeight('bf16'), bytesPerWeight('fp16')]).toEqual([4, 2, 2]);
    expect([bytesPerWeight('fp8'), bytesPerWeight('int8'), bytesPerWeight('int4')]).toEqual([1, 1, 0.5]);
    expect([bytesPerKvElement('fp16'), bytesPerKvElement('bf16'), bytesPerKvElement('fp8')]).toEqual([2, 2, 1]);
  });
});

describe('validateParallelism', () => {
  it('accepts what vLLM accepts', () => {
    expect(() => validateParallelism(m['llama-3.1-70b'], 8, 1)).not.toThrow();
    expect(() => validateParallelism(m['llama-3.1-70b'], 16, 4)).not.toThrow();
    expect(() => validateParallelism(m['qwen2.5-7b'], 28, 1)).not.toThrow();
  });

  it('rejects tp that does not divide the attention heads, naming heads and allowed values', () => {
    expect(() => validateParallelism(m['llama-3.1-8b'], 3, 1)).toThrow(
      'hardware.tensor_parallel: must divide num_attention_heads (32); allowed for llama-3.1-8b: 1, 2, 4, 8, 16, 32, got 3',
    );
  });

  it('rejects tp that neither divides nor is a multiple of the KV heads', () => {
    // qwen2.5-7b: 28 heads, 4 KV heads; 7 and 14 divide 28 but not 4 nor are multiples of it
    const attempt = () => validateParallelism(m['qwen2.5-7b'], 14, 1);
    expect(attempt).toThrow(InfersimError);
    expect(attempt).toThrow('num_key_value_heads (4)');
    expect(attempt).toThrow('allowed for qwen2.5-7b: 1, 2, 4, 28, got 14');
  });

  it('rejects pp beyond the layer count and non-positive sizes', () => {
    expect(() => validateParallelism(m['llama-3.1-8b'], 1, 33)).toThrow(
      'hardware.pipeline_parallel: must be <= num_hidden_layers (32) of llama-3.1-8b, got 33',
    );
    expect(() => validateParallelism(m['llama-3.1-8b'], 1, 32)).not.toThrow();
    expect(() => validateParallelism(m['llama-3.1-8b'], 0, 1)).toThrow('hardware.tensor_parallel: must be a positive integer');
    expect(() => validateParallelism(m['llama-3.1-8b'], 1, 1.5)).toThrow('hardware.pipeline_parallel: must be a positive integer');
  });
});
