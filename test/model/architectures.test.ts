import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readHfConfig } from '../../sim/model/hfConfig.js';
import {
  activeParameterCount,
  kvBytesForSequence,
  kvBytesPerToken,
  kvBytesPerTokenPerGpu,
  parameterCount,
  weightBytesPerGpu,
} from '../../sim/model/derived.js';

/*
 * The architectures past the Llama shape, read from the published config.json files in
 * test/fixtures/models (sources in its README). Every expected figure is written out by hand from
 * the config's fields (the formula in the test, not a call into the code under test) and, for
 * parameters, also compared with the size the model card publishes.
 */

const fixture = (name: string) => readHfConfig(fileURLToPath(new URL(`../fixtures/models/${name}/config.json`, import.meta.url)));
const BF16 = 2;
/** Relative difference. */
const off = (a: number, b: number) => Math.abs(a / b - 1);

describe('Gemma 2 (gemma-2-9b): GeGLU, 4 norms a layer, alternate sliding layers, soft-caps, tied embeddings', () => {
  const a = fixture('gemma-2-9b');
  it('reads the window, the layer pattern and the caps', () => {
    expect(a.sliding_window).toBe(4096);
    expect(a.layer_types?.slice(0, 4)).toEqual(['sliding_attention', 'full_attention', 'sliding_attention', 'full_attention']);
    expect(a.layer_types?.filter((t) => t === 'sliding_attention').length).toBe(21);
    expect([a.attn_logit_softcapping, a.final_logit_softcapping, a.tie_word_embeddings]).toEqual([50, 30, true]);
  });
  it('counts parameters by hand: 9.24B published', () => {
    // h 3584, 16 heads × 256, 8 KV heads, MLP 14336, 42 layers, vocab 256000 (tied)
    const attention = 3584 * 4096 * 2 + 3584 * 2048 * 2;
    const layer = attention + 3 * 3584 * 14336 + 4 * 3584;
    const total = 256000 * 3584 + 42 * layer + 3584;
    expect(parameterCount(a)).toBe(total);
    expect(off(total, 9.24e9)).toBeLessThan(0.005);
  });
  it('KV bytes per token: 2 × 42 layers × 8 heads × 256 × 2 bytes; windowed layers keep ≤ 4096 tokens', () => {
    expect(kvBytesPerToken(a, BF16)).toBe(2 * 42 * 8 * 256 * 2);
    const perLayer = 2 * 8 * 256 * 2;
    expect(kvBytesForSequence(a, BF16, 8192)).toBe(21 * perLayer * 8192 + 21 * perLayer * 4096);
    expect(kvBytesForSequence(a, BF16, 1000)).toBe(42 * perLayer * 1000);
  });
});

describe('Gemma 3: q/k norms, 5 sliding layers to 1 global, text_config of the multimodal release', () => {
  it('gemma-3-1b-it: 999,885,952 parameters (published 1B), 26 layers with 4 global', () => {
    const a = fixture('gemma-3-1b-it');
    expect(a.layer_types?.filter((t) => t === 'full_attention').length).toBe(4); // layers 5, 11, 17, 23
    expect(a.layer_types?.[5]).toBe('full_attention');
    const layer = 1152 * 1024 * 2 + 1152 * 256 * 2 + 3 * 1152 * 6912 + 4 * 1152 + 2 * 256;
    expect(parameterCount(a)).toBe(262144 * 1152 + 26 * layer + 1152);
    expect(parameterCount(a)).toBe(999_885_952);
    expect(kvBytesPerToken(a, BF16)).toBe(26 * 2 * 1 * 256 * 2);
  });
  it('gemma-3-27b-it: the language model is 27.0B of the published 27.4B (0.4B SigLIP encoder not modelled)', () => {
    const a = fixture('gemma-3-27b-it');
    // text_config states only what differs from Gemma3TextConfig: vocab 262208 and tying are defaults.
    expect([a.vocab_size, a.max_position_embeddings, a.tie_word_embeddings, a.sliding_window]).toEqual([262208, 131072, true, 1024]);
    const layer = 5376 * 4096 * 2 + 5376 * 2048 * 2 + 3 * 5376 * 21504 + 4 * 5376 + 2 * 128;
    const total = 262208 * 5376 + 62 * layer + 5376;
    expect(parameterCount(a)).toBe(total);
    expect(off(total + 0.4e9, 27.4e9)).toBeLessThan(0.01);
    expect(kvBytesPerToken(a, BF16)).toBe(62 * 2 * 16 * 128 * 2);
  });
});

describe('Phi-3-mini-4k: Llama shapes, sliding_window 2047 on every layer', () => {
  const a = fixture('phi-3-mini-4k-instruct');
  it('counts 3.82B (published 3.8B) and 384 KiB of KV per token', () => {
    const layer = 4 * 3072 * 3072 + 3 * 3072 * 8192 + 2 * 3072;
    expect(parameterCount(a)).toBe(2 * 32064 * 3072 + 32 * layer + 3072);
    expect(off(parameterCount(a), 3.82e9)).toBeLessThan(0.005);
    expect(kvBytesPerToken(a, BF16)).toBe(2 * 32 * 32 * 96 * 2);
    expect(a.layer_types?.every((t) => t === 'sliding_attention')).toBe(true);
    expect(kvBytesForSequence(a, BF16, 4096)).toBe(2 * 32 * 32 * 96 * 2 * 2047);
  });
});

describe('Qwen3', () => {
  it('qwen3-8b: q/k norms, 8,190,735,360 parameters (published 8.2B)', () => {
    const a = fixture('qwen3-8b');
    const layer = 4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 12288 + 2 * 4096 + 2 * 128;
    expect(parameterCount(a)).toBe(2 * 151936 * 4096 + 36 * layer + 4096);
    expect(parameterCount(a)).toBe(8_190_735_360);
    expect(kvBytesPerToken(a, BF16)).toBe(2 * 36 * 8 * 128 * 2);
    expect(a.sliding_window).toBeUndefined();
  });
  it('qwen3-30b-a3b: 128 experts of 768, top 8: 30.5B total, 3.3B active', () => {
    const a = fixture('qwen3-30b-a3b');
    const attention = 2048 * 4096 * 2 + 2048 * 512 * 2 + 2 * 128;
    const expert = 3 * 2048 * 768;
    const layer = attention + 128 * expert + 2048 * 128 + 2 * 2048;
    const embeddings = 2 * 151936 * 2048;
    expect(parameterCount(a)).toBe(embeddings + 48 * layer + 2048);
    expect(off(parameterCount(a), 30.5e9)).toBeLessThan(0.005);
    // Qwen's "3.3B activated" counts both embeddings and the 8 routed experts.
    expect(activeParameterCount(a)).toBe(parameterCount(a) - 48 * 120 * expert);
    expect(off(activeParameterCount(a), 3.3e9)).toBeLessThan(0.02);
    expect(kvBytesPerToken(a, BF16)).toBe(2 * 48 * 4 * 128 * 2);
  });
});

describe('DeepSeek MLA + shared experts + first dense layers', () => {
  const mlaLayer = (h: number, heads: number, qLora: number | undefined) =>
    (qLora === undefined ? h * heads * 192 : h * qLora + qLora + qLora * heads * 192) + // q (nope 128 + rope 64)
    h * (512 + 64) + 512 + 512 * heads * (128 + 128) + heads * 128 * h; // kv_a + norm, kv_b, o
  it('deepseek-v3: 671B total, 37B active; KV is the 576-wide latent per layer, whatever the TP', () => {
    const a = fixture('deepseek-v3');
    const h = 7168;
    const attention = mlaLayer(h, 128, 1536);
    const dense = attention + 3 * h * 18432 + 2 * h;
    const expert = 3 * h * 2048;
    const moe = attention + 256 * expert + expert /* 1 shared */ + h * 256 + 256 /* router + bias */ + 2 * h;
    const total = 2 * 129280 * h + 3 * dense + 58 * moe + h;
    expect(parameterCount(a)).toBe(total);
    expect(off(total, 671e9)).toBeLessThan(0.002);
    expect(activeParameterCount(a)).toBe(total - 58 * 248 * expert);
    // DeepSeek's "activated" counts leave the input embedding (a lookup) out.
    expect(off(activeParameterCount(a) - 129280 * h, 37e9)).toBeLessThan(0.015);
    expect(kvBytesPerToken(a, BF16)).toBe(61 * (512 + 64) * 2);
    // The latent is replicated over TP ranks, split only by pipeline stage.
    expect(kvBytesPerTokenPerGpu(a, BF16, 8, 1)).toBe(61 * 576 * 2);
    expect(kvBytesPerTokenPerGpu(a, 1, 8, 2)).toBe(31 * 576);
  });
  it('deepseek-v2-lite: full q_proj (q_lora_rank null), 2 shared experts, 1 dense layer: 15.7B / 2.4B', () => {
    const a = fixture('deepseek-v2-lite');
    const h = 2048;
    const attention = mlaLayer(h, 16, undefined);
    const expert = 3 * h * 1408;
    const moe = attention + 64 * expert + 2 * expert + h * 64 + 2 * h;
    const total = 2 * 102400 * h + (attention + 3 * h * 10944 + 2 * h) + 26 * moe + h;
    expect(parameterCount(a)).toBe(total);
    expect(off(total, 15.7e9)).toBeLessThan(0.005);
    expect(activeParameterCount(a)).toBe(total - 26 * 58 * expert);
    expect(off(activeParameterCount(a) - 102400 * h, 2.4e9)).toBeLessThan(0.03);
    expect(kvBytesPerToken(a, BF16)).toBe(27 * 576 * 2);
  });
});

describe('GPT-OSS: biased experts and router, q/k/v/o biases, sinks, alternate 128-token windows', () => {
  const count = (layers: number, experts: number) => {
    const h = 2880;
    const attention = h * 4096 * 2 + h * 512 * 2 + (4096 + 512 + 512 + h) + 64;
    const expert = 3 * h * 2880 + (2 * 2880 + h);
    const layer = attention + experts * expert + h * experts + experts + 2 * h;
    return { total: 2 * 201088 * h + layers * layer + h, idle: layers * (experts - 4) * expert, inputEmbedding: 201088 * h };
  };
  it('gpt-oss-20b: 20,914,757,184 parameters (published 20.9B), 3.6B active', () => {
    const a = fixture('gpt-oss-20b');
    const c = count(24, 32);
    expect(parameterCount(a)).toBe(c.total);
    expect(parameterCount(a)).toBe(20_914_757_184);
    // OpenAI's active count leaves the input embedding out.
    expect(off(activeParameterCount(a) - c.inputEmbedding, 3.61e9)).toBeLessThan(0.005);
    expect(kvBytesPerToken(a, BF16)).toBe(24 * 2 * 8 * 64 * 2);
    expect(kvBytesForSequence(a, BF16, 4096)).toBe(12 * 2048 * 4096 + 12 * 2048 * 128);
  });
  it('gpt-oss-120b: 116.83B total, 5.13B active', () => {
    const a = fixture('gpt-oss-120b');
    const c = count(36, 128);
    expect(parameterCount(a)).toBe(c.total);
    expect(off(c.total, 116.83e9)).toBeLessThan(0.001);
    expect(activeParameterCount(a)).toBe(c.total - c.idle);
    expect(off(c.total - c.idle - c.inputEmbedding, 5.13e9)).toBeLessThan(0.005);
  });
});

describe('Llama 4 Scout: 16 experts + a shared one on every layer, chunked attention on 3 layers of 4', () => {
  const a = fixture('llama-4-scout-17b-16e');
  it('counts the 107.8B language model (109B published with the vision encoder), 17B active', () => {
    const h = 5120;
    const expert = 3 * h * 8192;
    const layer = h * 5120 * 2 + h * 1024 * 2 + 16 * expert + expert + h * 16 + 2 * h;
    const total = 2 * 202048 * h + 48 * layer + h;
    expect(parameterCount(a)).toBe(total);
    expect(off(total, 109e9)).toBeLessThan(0.02);
    expect(activeParameterCount(a)).toBe(total - 48 * 15 * expert);
    expect(off(activeParameterCount(a), 17e9)).toBeLessThan(0.02);
  });
  it('chunked layers keep at most one 8192-token chunk of KV', () => {
    expect(a.layer_types?.filter((t) => t === 'chunked_attention').length).toBe(36);
    expect(a.layer_types?.[3]).toBe('full_attention');
    const perLayer = 2 * 8 * 128 * 2;
    expect(kvBytesPerToken(a, BF16)).toBe(48 * perLayer);
    expect(kvBytesForSequence(a, BF16, 100_000)).toBe(12 * perLayer * 100_000 + 36 * perLayer * 8192);
  });
});

describe('weights per GPU of the mixed-layer models', () => {
  it('replicates MLA down-projections over TP and charges the worst pipeline stage', () => {
    const a = fixture('deepseek-v2-lite');
    const h = 2048;
    // TP 2: q_proj, kv_b, o, experts and the dense MLP split; kv_a_proj_with_mqa, norms, router whole.
    const attention = (h * 16 * 192) / 2 + h * 576 + (512 * 16 * 256) / 2 + (16 * 128 * h) / 2;
    const moe = attention + (66 * 3 * h * 1408) / 2;
    const moeSmall = 512 + h * 64 + 2 * h;
    const vocab = (2 * 102400 * h) / 2 + h;
    // pp 1: one dense layer and 26 MoE layers, all at 2 bytes.
    const dense = attention + (3 * h * 10944) / 2;
    expect(weightBytesPerGpu(a, 2, 2, 1)).toBe(2 * (dense + 512 + 2 * h + 26 * (moe + moeSmall) + vocab));
    // pp 3: stages of 9 layers; the worst is nine MoE layers.
    expect(weightBytesPerGpu(a, 2, 2, 3)).toBe(2 * (9 * (moe + moeSmall) + vocab));
  });
});

describe('bad configs fail in one line naming the field', () => {
  it('rejects Qwen3 with use_sliding_window', async () => {
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'infersim-arch-'));
    const src = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/models/qwen3-8b/config.json', import.meta.url)), 'utf8'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ ...src, use_sliding_window: true }));
    expect(() => readHfConfig(path)).toThrow(`model (${path}) use_sliding_window: is not supported (Qwen3 with max_window_layers); set it false or remove it, got true`);
    const gemma = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/models/gpt-oss-20b/config.json', import.meta.url)), 'utf8'));
    writeFileSync(path, JSON.stringify({ ...gemma, layer_types: ['sliding_attention'] }));
    expect(() => readHfConfig(path)).toThrow(`model (${path}) layer_types: must list one of "full_attention", "sliding_attention", "chunked_attention" per layer (24 layers), got ["sliding_attention"]`);
    writeFileSync(path, JSON.stringify({ ...src, architectures: ['Llama4ForConditionalGeneration'], text_config: 3 }));
    expect(() => readHfConfig(path)).toThrow(`model (${path}) text_config: must be an object holding the language model's fields, got 3`);
  });
});
