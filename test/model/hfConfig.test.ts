import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readHfConfig } from '../../sim/model/hfConfig.js';
import { MODEL_CATALOG, getModel } from '../../sim/model/catalog.js';
import { InfersimError } from '../../sim/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'infersim-hf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
function write(content: unknown): string {
  const path = join(dir, `config-${count++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

// As published in meta-llama/Llama-3.1-8B (rope/token ids trimmed).
const LLAMA_31_8B = {
  _name_or_path: 'meta-llama/Llama-3.1-8B',
  architectures: ['LlamaForCausalLM'], model_type: 'llama', attention_bias: false, hidden_act: 'silu',
  hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32,
  num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072, tie_word_embeddings: false,
};

describe('readHfConfig', () => {
  it('reads a Llama config back to the catalog entry', () => {
    const path = write(LLAMA_31_8B);
    const { name, hf_repo, ...fields } = readHfConfig(path);
    const { name: _n, hf_repo: _r, ...expected } = MODEL_CATALOG['llama-3.1-8b'];
    expect(name).toBe(path);
    expect(hf_repo).toBe('meta-llama/Llama-3.1-8B');
    expect(fields).toEqual(expected);
    expect(getModel(path).num_key_value_heads).toBe(8);
  });

  it('defaults kv heads to attention heads and head_dim to hidden/heads (also when null)', () => {
    const { num_key_value_heads: _kv, ...noKv } = LLAMA_31_8B;
    const arch = readHfConfig(write({ ...noKv, hidden_size: 2048, head_dim: null, _name_or_path: '/local/cache/x' }));
    expect(arch.num_key_value_heads).toBe(32);
    expect(arch.head_dim).toBe(64);
    expect(arch.hf_repo).toBeUndefined();
    expect(readHfConfig(write({ ...LLAMA_31_8B, head_dim: 96 })).head_dim).toBe(96);
  });

  it('gives Qwen2 qkv biases and Mixtral its experts', () => {
    const qwen = readHfConfig(write({ ...LLAMA_31_8B, architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2' }));
    expect(qwen.attention_bias).toBe(true);
    const mixtral = readHfConfig(write({ ...LLAMA_31_8B, architectures: ['MixtralForCausalLM'], num_local_experts: 8, num_experts_per_tok: 2 }));
    expect([mixtral.num_local_experts, mixtral.num_experts_per_tok, mixtral.attention_bias]).toEqual([8, 2, undefined]);
    const byType = readHfConfig(write({ ...LLAMA_31_8B, architectures: undefined, model_type: 'mistral' }));
    expect(byType.gated_mlp).toBe(true);
  });

  it('names the path of a missing file', () => {
    const path = join(dir, 'nope', 'config.json');
    expect(() => readHfConfig(path)).toThrow(InfersimError);
    expect(() => readHfConfig(path)).toThrow(`model (a Hugging Face config.json): file not found: ${path}`);
  });

  it('reports JSON syntax errors', () => {
    const path = write('{"hidden_size": 4096,');
    expect(() => readHfConfig(path)).toThrow(`model (a Hugging Face config.json): ${path}:1:22: invalid JSON: Expected double-quoted property name`);
    expect(() => readHfConfig(write('[1, 2]'))).toThrow('must hold a JSON object, got [1,2]');
  });

  it('reports missing and invalid fields with the field name', () => {
    const { hidden_size: _h, ...noHidden } = LLAMA_31_8B;
    const missing = write(noHidden);
    expect(() => readHfConfig(missing)).toThrow(`model (${missing}) hidden_size: must be a positive integer`);
    const text = write({ ...LLAMA_31_8B, num_hidden_layers: '32' });
    expect(() => readHfConfig(text)).toThrow(`model (${text}) num_hidden_layers: must be a positive integer ≤ 2147483647, got "32"`);
    const kv = write({ ...LLAMA_31_8B, num_key_value_heads: 5 });
    expect(() => readHfConfig(kv)).toThrow('num_key_value_heads: must divide num_attention_heads (32), got 5');
    const tie = write({ ...LLAMA_31_8B, tie_word_embeddings: 'no' });
    expect(() => readHfConfig(tie)).toThrow('tie_word_embeddings: must be true or false, got "no"');
  });

  it('rejects GPT-2/OPT configs, listing the supported architectures', () => {
    const gpt2 = write({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: 768, n_layer: 12, n_head: 12 });
    expect(() => readHfConfig(gpt2)).toThrow(
      `model (${gpt2}) architectures: unsupported architecture; supported architectures: ` +
        'LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, MixtralForCausalLM, Phi3ForCausalLM, Gemma2ForCausalLM, ' +
        'Gemma3ForCausalLM, Gemma3ForConditionalGeneration, Qwen3ForCausalLM, Qwen3MoeForCausalLM, DeepseekV2ForCausalLM, ' +
        'DeepseekV3ForCausalLM, GptOssForCausalLM, Llama4ForCausalLM, Llama4ForConditionalGeneration, got ["GPT2LMHeadModel"]',
    );
    const opt = write({ model_type: 'opt', hidden_size: 768 });
    expect(() => readHfConfig(opt)).toThrow('model_type "opt" is not a supported family');
  });
});
