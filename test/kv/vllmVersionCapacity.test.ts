import { describe, expect, it } from 'vitest';
import { kvCapacity, type KvCapacityInput } from '../../sim/kv/capacity.js';
import { getGpu } from '../../sim/hardware/catalog.js';
import { getModel } from '../../sim/model/catalog.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { scenario } from '../helpers.js';

/**
 * microsoft/apex_plus served Llama-3.1-70B (bf16) on H100-SXM from the vLLM 0.6.0 container with
 * --gpu-memory-utilization 0.97 (../shared/data/measured/apex_vllm060). A context above 32K turns
 * 0.6's chunked prefill on: the V0 scheduler with a 512-token budget and 256 sequences, which
 * infersim names `sarathi`.
 */
const apex = (vllm_version: string, max_model_len: number): ScenarioInput =>
  scenario({
    model: 'llama-3.1-70b',
    hardware: { gpu: 'h100-sxm', tensor_parallel: 2, gpu_memory_utilization: 0.97 },
    engine: { scheduler: 'sarathi', max_model_len, vllm_version },
  }) as ScenarioInput;

describe('KV capacity follows the vLLM release', () => {
  it('Llama-3.1-70B at TP 2 and 0.97 under "0.6" fits a 52,720-token context', () => {
    const { kv, scenario: s } = resolveScenario(apex('0.6', 52720));
    expect(s.engine.vllm_version).toBe('0.6');
    expect(s.engine.max_num_batched_tokens).toBe(512);
    expect(kv.usable_blocks * 16).toBeGreaterThanOrEqual(52720);
  });

  it('the same replica under the current release is sized by its own rules, not 0.6\'s', () => {
    const input = (vllm_version: string): KvCapacityInput => ({
      arch: getModel('llama-3.1-70b'), gpu: getGpu('h100-sxm'), tensor_parallel: 2, pipeline_parallel: 1,
      weights: 'bf16', kv_cache: 'bf16', gpu_memory_utilization: 0.97, block_size: 16,
      max_num_batched_tokens: 512, max_num_seqs: 256, cuda_graphs: true, vllm_version,
    });
    const v06 = kvCapacity(input('0.6'));
    const v019 = kvCapacity(input('0.19'));
    // Same weights and the same (sampler-bound) profile peak; V1 logs print more non-torch memory at TP 1.
    expect(v019.weight_bytes).toBe(v06.weight_bytes);
    expect(v019.activation_peak_bytes).toBe(v06.activation_peak_bytes);
    expect(v019.non_torch_bytes).toBeGreaterThan(v06.non_torch_bytes);
    expect(v019.num_gpu_blocks).toBeLessThan(v06.num_gpu_blocks);
  });

  it('V1 0.8–0.16 profiles logits for every batched token; 0.17 on only one row per sequence', () => {
    const input = (vllm_version: string): KvCapacityInput => ({
      arch: getModel('llama-3.1-8b'), gpu: getGpu('h100-sxm'), tensor_parallel: 1, pipeline_parallel: 1,
      weights: 'bf16', kv_cache: 'bf16', gpu_memory_utilization: 0.9, block_size: 16,
      max_num_batched_tokens: 8192, max_num_seqs: 1024, cuda_graphs: true, vllm_version,
    });
    const [v08, v016, v017] = ['0.8', '0.16', '0.17'].map((v) => kvCapacity(input(v)));
    expect(v08.activation_peak_bytes).toBe(v016.activation_peak_bytes);
    expect(v016.activation_peak_bytes - v017.activation_peak_bytes).toBeGreaterThan(2 * 2 ** 30);
  });

  it('no release in range charges CUDA graphs before sizing the KV cache', () => {
    for (const v of ['0.2', '0.6', '0.10', '0.19']) {
      const kv = kvCapacity({
        arch: getModel('llama-3.1-8b'), gpu: getGpu('h100-sxm'), tensor_parallel: 1, pipeline_parallel: 1,
        weights: 'bf16', kv_cache: 'bf16', gpu_memory_utilization: 0.9, block_size: 16,
        max_num_batched_tokens: 8192, max_num_seqs: 256, cuda_graphs: true, vllm_version: v,
      });
      expect(kv.cuda_graph_bytes).toBe(0);
    }
  });
});
