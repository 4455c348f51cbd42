import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readHfConfig } from '../../sim/model/hfConfig.js';
import { MODEL_CATALOG, getModel } from '../../sim/model/catalog.js';
import { InfersimError } from '../../sim/errors.js';

const NAMES = [
  'llama-2-7b', 'llama-2-13b', 'llama-2-70b', 'llama-3.1-8b', 'llama-3.1-70b', 'llama-3.1-405b',
  'mistral-7b', 'qwen2.5-7b', 'qwen2.5-72b', 'mixtral-8x7b',
  'gemma-2-9b', 'phi-3-mini', 'qwen3-8b', 'qwen3-30b-a3b', 'deepseek-v3', 'gpt-oss-20b', 'llama-4-scout',
];
/** The newer entries and the published config.json copies (test/fixtures/models) they were taken from. */
const FIXTURES: Record<string, string> = {
  'gemma-2-9b': 'gemma-2-9b', 'phi-3-mini': 'phi-3-mini-4k-instruct', 'qwen3-8b': 'qwen3-8b', 'qwen3-30b-a3b': 'qwen3-30b-a3b',
  'deepseek-v3': 'deepseek-v3', 'gpt-oss-20b': 'gpt-oss-20b', 'llama-4-scout': 'llama-4-scout-17b-16e',
};

describe('MODEL_CATALOG', () => {
  it('holds exactly the documented models', () => {
    expect(Object.keys(MODEL_CATALOG).sort()).toEqual([...NAMES].sort());
  });

  it('has self-consistent entries with a source repo', () => {
    for (const [key, arch] of Object.entries(MODEL_CATALOG)) {
      expect(arch.name, key).toBe(key);
      expect(arch.hf_repo, key).toMatch(/^[\w.-]+\/[\w.-]+$/);
      // Gemma, Phi-3 and later models state a head_dim that need not be hidden / heads.
      if (!(key in FIXTURES)) expect(arch.head_dim * arch.num_attention_heads, key).toBe(arch.hidden_size);
      expect(arch.num_attention_heads % arch.num_key_value_heads, key).toBe(0);
    }
  });

  it('holds what readHfConfig reads from the published config.json of each newer entry', () => {
    for (const [key, folder] of Object.entries(FIXTURES)) {
      const { name: _n, hf_repo: _r, ...read } = readHfConfig(fileURLToPath(new URL(`../fixtures/models/${folder}/config.json`, import.meta.url)));
      const { name: _m, hf_repo: _s, ...entry } = MODEL_CATALOG[key];
      expect(entry, key).toEqual(read);
    }
  });

  it('copies the config.json figures of the larger models', () => {
    const l405 = MODEL_CATALOG['llama-3.1-405b'];
    expect([l405.hidden_size, l405.intermediate_size, l405.num_hidden_layers, l405.num_attention_heads, l405.num_key_value_heads])
      .toEqual([16384, 53248, 126, 128, 8]);
    expect([l405.vocab_size, l405.max_position_embeddings]).toEqual([128256, 131072]);
    const q72 = MODEL_CATALOG['qwen2.5-72b'];
    expect([q72.hidden_size, q72.intermediate_size, q72.num_hidden_layers, q72.num_attention_heads, q72.num_key_value_heads])
      .toEqual([8192, 29568, 80, 64, 8]);
    expect(q72.attention_bias).toBe(true);
    const mix = MODEL_CATALOG['mixtral-8x7b'];
    expect([mix.num_local_experts, mix.num_experts_per_tok, mix.max_position_embeddings]).toEqual([8, 2, 32768]);
    expect(MODEL_CATALOG['mistral-7b'].max_position_embeddings).toBe(32768);
  });
});

describe('getModel', () => {
  it('returns a copy of the catalog entry, case-insensitively', () => {
    const arch = getModel('Llama-3.1-8B');
    expect(arch).toEqual(MODEL_CATALOG['llama-3.1-8b']);
    arch.num_hidden_layers = 1;
    expect(MODEL_CATALOG['llama-3.1-8b'].num_hidden_layers).toBe(32);
  });

  it('rejects unknown names, suggesting the closest and listing all', () => {
    expect(() => getModel('llama-3.1-8')).toThrow('model: unknown value "llama-3.1-8" (did you mean "llama-3.1-8b"?)');
    expect(() => getModel('qwen2.5')).toThrow('(did you mean "qwen2.5-7b"?)');
    expect(() => getModel('lama-3.1-70b')).toThrow('(did you mean "llama-3.1-70b"?)');
    expect(() => getModel('mixtral')).toThrow('(did you mean "mixtral-8x7b"?)');
    expect(() => getModel('gpt-4')).toThrow(InfersimError);
    expect(() => getModel('gpt-4')).toThrow(`known: ${NAMES.join(', ')}`);
  });

  it('treats .json names and paths as config files', () => {
    expect(() => getModel('missing-config.json')).toThrow('model (a Hugging Face config.json): file not found: missing-config.json');
    expect(() => getModel('models/llama', '--model')).toThrow('--model (a Hugging Face config.json): file not found: models/llama');
  });
});
