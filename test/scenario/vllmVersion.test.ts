import { describe, expect, it } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { scenario } from '../helpers.js';

/** The resolved engine of a small scenario with these engine keys (and optionally another model and GPU). */
const engineOf = (engine: Record<string, unknown>, model = 'llama-3.1-8b', gpu = 'h100-sxm') =>
  resolveScenario(parseScenarioObject(scenario({ model, hardware: { gpu }, engine }))).scenario.engine;

describe('engine.vllm_version: defaults follow the release', () => {
  it('defaults to the current release and the V1 engine', () => {
    expect(engineOf({})).toMatchObject({ vllm_version: '0.19', scheduler: 'vllm', max_num_batched_tokens: 8192, max_num_seqs: 1024 });
  });

  it('0.6 with a 131,072-token context: V0 chunks prompts unasked, 512 tokens a step, 256 sequences (PR #6666)', () => {
    expect(engineOf({ vllm_version: '0.6' })).toMatchObject({ scheduler: 'sarathi', enable_chunked_prefill: true, max_num_batched_tokens: 512, max_num_seqs: 256 });
  });

  it('0.6 at 32K or less: V0 without chunking, a step budget of max(max_model_len, 2048)', () => {
    expect(engineOf({ vllm_version: '0.6', max_model_len: 24272 })).toMatchObject({ scheduler: 'vllm-v0', enable_chunked_prefill: false, max_num_batched_tokens: 24272 });
    expect(engineOf({ vllm_version: '0.6', max_model_len: 1024 })).toMatchObject({ scheduler: 'vllm-v0', max_num_batched_tokens: 2048 });
  });

  it('0.6.5 raised the chunked budget to 2048 (PR #10544); 0.5.3 did not chunk unasked', () => {
    expect(engineOf({ vllm_version: '0.6.5' })).toMatchObject({ vllm_version: '0.6.5', scheduler: 'sarathi', max_num_batched_tokens: 2048 });
    expect(engineOf({ vllm_version: '0.5.3' })).toMatchObject({ scheduler: 'vllm-v0', enable_chunked_prefill: false, max_num_batched_tokens: 131072 });
  });

  it('V1 from 0.8.0, its budgets by release and GPU class', () => {
    expect(engineOf({ vllm_version: '0.8' })).toMatchObject({ scheduler: 'vllm', max_num_batched_tokens: 8192, max_num_seqs: 1024 });
    // 0.7.0 (V1 alpha): 2048 tokens as a server on every GPU.
    expect(engineOf({ vllm_version: '0.7.0', scheduler: 'vllm' })).toMatchObject({ max_num_batched_tokens: 2048, max_num_seqs: 1024 });
    // A100: 1024 sequences until 0.8.3, 256 from 0.8.4 (PR #16158).
    expect(engineOf({ vllm_version: '0.8.0' }, 'llama-3.1-8b', 'a100-sxm-80gb')).toMatchObject({ max_num_batched_tokens: 2048, max_num_seqs: 1024 });
    expect(engineOf({ vllm_version: '0.9' }, 'llama-3.1-8b', 'a100-sxm-80gb')).toMatchObject({ max_num_batched_tokens: 2048, max_num_seqs: 256 });
  });

  it('a V0 policy named without a release follows 0.6, the one it was modelled on', () => {
    expect(engineOf({ scheduler: 'vllm-v0' }).vllm_version).toBe('0.6');
    expect(engineOf({ scheduler: 'sarathi' })).toMatchObject({ vllm_version: '0.6', max_num_batched_tokens: 512 });
  });

  it.each([
    ['V1 before it shipped', { scheduler: 'vllm', vllm_version: '0.6' }, 'engine.vllm_version: has no V1 engine (engine.scheduler vllm): it first shipped in 0.7.0 and is the default from 0.8.0; for older releases use vllm-v0 or sarathi, got "0.6"'],
    ['V0 after it was removed', { scheduler: 'vllm-v0', vllm_version: '0.11' }, 'engine.vllm_version: has no V0 engine (engine.scheduler vllm-v0): vLLM 0.11.0 removed it; name 0.10 or older, or use the vllm scheduler, got "0.11"'],
    ['a YAML number', { vllm_version: 0.1 }, 'engine.vllm_version: must be a quoted version string: YAML and --set read 0.10 as the number 0.1'],
    ['a release whose minor is not a number', { vllm_version: '0.x' }, 'engine.vllm_version: must be a vLLM release from "0.2" to "0.19"'],
    ['an unknown release', { vllm_version: '0.1' }, 'engine.vllm_version: must be a vLLM release from "0.2" to "0.19"'],
  ])('refuses %s', (_what, engine, message) => {
    const attempt = () => engineOf(engine);
    expect(attempt).toThrow(InfersimError);
    expect(attempt).toThrow(message);
  });
});

describe('engine.vllm_version: what a release string may carry', () => {
  it.each([
    ['0.6rc1', '0.6'], ['0.19.0rc1', '0.19.0'], ['0.6+cu121', '0.6'], ['0.10.1.post1', '0.10.1'], ['0.6.3', '0.6.3'],
  ])('%s is recorded as %s', (given, recorded) => {
    expect(engineOf({ vllm_version: given }).vllm_version).toBe(recorded);
  });

  it('the engine the policy runs decides the memory rules, not the release alone', () => {
    // vllm-v0 at 0.8 (V0 still shipped) profiles as V0; vllm at 0.7 (V1 opt-in) as V1.
    const kv = (engine: Record<string, unknown>) => resolveScenario(parseScenarioObject(scenario({ engine: { max_model_len: 8192, ...engine } }))).kv;
    expect(kv({ scheduler: 'vllm-v0', vllm_version: '0.8' }).activation_peak_bytes).toBe(kv({ scheduler: 'vllm-v0', vllm_version: '0.7' }).activation_peak_bytes);
    expect(kv({ scheduler: 'vllm', vllm_version: '0.7' }).non_torch_bytes).toBe(kv({ scheduler: 'vllm', vllm_version: '0.8' }).non_torch_bytes);
  });
});
