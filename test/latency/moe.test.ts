import { describe, expect, it } from 'vitest';
import { GPU_CATALOG } from '../../sim/hardware/catalog.js';
import { addDecode, emptyBatch } from '../../sim/latency/batch.js';
import { DEFAULT_EFFICIENCY } from '../../sim/latency/efficiency.js';
import { RooflineLatencyModel } from '../../sim/latency/roofline.js';
import { MODEL_CATALOG } from '../../sim/model/catalog.js';
import { expectInvariants, run, scenario } from '../helpers.js';
import { opTime, roofline } from './roofline.js';

const mixtral = MODEL_CATALOG['mixtral-8x7b'];
const h100 = GPU_CATALOG['h100-sxm'];

function decodes(n: number, context = 512) {
  const b = emptyBatch();
  for (let i = 0; i < n; i++) addDecode(b, context);
  return b;
}

describe('mixture of experts (Mixtral 8x7B, top-2 of 8)', () => {
  const model = roofline({ model: 'mixtral-8x7b', tensor_parallel: 2, cuda_graphs: false });

  it('one decode token reads exactly its two experts', () => {
    // mlp_down per layer: [1 × 7168] · [7168 × 4096] for each of 2 experts (TP2 halves 14336),
    // memory-bound: the two experts' weights plus the rows in and out.
    const eff = DEFAULT_EFFICIENCY;
    const n = mixtral.hidden_size;
    const k = mixtral.intermediate_size / 2;
    const bytes = 2 * n * k * 2 + 2 * (k + n) * 2;
    const perLayer = eff.gemm_kernel_floor_s + bytes / (h100.hbm_bandwidth_bytes_per_s * eff.gemm_memory);
    expect(opTime(model, 'mlp_down', decodes(1))).toBeCloseTo(mixtral.num_hidden_layers * perLayer, 12);
  });

  it('a large batch reads every expert once, so the per-token MLP cost falls', () => {
    const one = opTime(model, 'mlp_down', decodes(1));
    const many = opTime(model, 'mlp_down', decodes(256));
    // 256 tokens hit all 8 experts (1 − (3/4)^256 ≈ 1): at most 4× the weight reads of one token…
    expect(many).toBeLessThan(4.2 * one);
    // …but far more than one token's.
    expect(many).toBeGreaterThan(3 * one);
  });

  it('decodes faster than a dense model with the same total weights, slower than one with the active ones', () => {
    const dense = (intermediate: number) =>
      new RooflineLatencyModel({
        arch: { ...mixtral, num_local_experts: 1, num_experts_per_tok: 1, intermediate_size: intermediate },
        gpu: h100, tensor_parallel: 2, weights: 'bf16', kv_cache: 'bf16', block_size: 16, cuda_graphs: false, max_num_seqs: 256, efficiency: DEFAULT_EFFICIENCY,
      });
    const moe = opTime(model, 'mlp_down', decodes(1));
    expect(moe).toBeLessThan(opTime(dense(8 * mixtral.intermediate_size), 'mlp_down', decodes(1)));
    expect(moe).toBeGreaterThan(opTime(dense(mixtral.intermediate_size), 'mlp_down', decodes(1)));
  });

  it('names the routing in its description', () => {
    expect(model.description).toMatch(/MoE top-2 of 8/);
  });

  it('runs end to end on two H100s', () => {
    const observed = run(
      scenario({
        model: 'mixtral-8x7b',
        hardware: { gpu: 'h100-sxm', tensor_parallel: 2 },
        engine: { max_model_len: 8192 },
        workload: {
          arrival: { process: 'poisson', rate_per_s: 5 },
          input_tokens: { dist: 'uniform', min: 100, max: 2000 },
          output_tokens: { dist: 'uniform', min: 10, max: 300 },
          num_requests: 100,
        },
      }),
    );
    expectInvariants(observed);
    expect(observed.result.totals.finished).toBe(100);
    // 46.7 B parameters in bf16 over 2 GPUs: ~46.7 GB each.
    const perGpu = (observed.result.summary.kv as { weight_bytes_per_gpu: number }).weight_bytes_per_gpu;
    expect(perGpu / 1e9).toBeGreaterThan(45);
    expect(perGpu / 1e9).toBeLessThan(48);
  });
});
