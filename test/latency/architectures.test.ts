import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { GPU_CATALOG } from '../../sim/hardware/catalog.js';
import { addDecode, addPrefillChunk, emptyBatch } from '../../sim/latency/batch.js';
import { decodeAttentionEfficiency, DEFAULT_EFFICIENCY } from '../../sim/latency/efficiency.js';
import { RooflineLatencyModel } from '../../sim/latency/roofline.js';
import { readHfConfig } from '../../sim/model/hfConfig.js';
import { opTime } from './roofline.js';

/* Operator shapes of the architectures past the Llama shape (issue 20), against hand arithmetic. */

const h100 = GPU_CATALOG['h100-sxm'];
const eff = DEFAULT_EFFICIENCY;
const fixture = (name: string) => readHfConfig(fileURLToPath(new URL(`../fixtures/models/${name}/config.json`, import.meta.url)));
const model = (name: string, tp = 1) =>
  new RooflineLatencyModel({
    arch: fixture(name), gpu: h100, tensor_parallel: tp, weights: 'bf16', kv_cache: 'bf16', block_size: 16,
    cuda_graphs: false, max_num_seqs: 256, efficiency: eff,
  });
const bandwidth = h100.hbm_bandwidth_bytes_per_s * decodeAttentionEfficiency(eff, 16);
const decodes = (n: number, context: number) => {
  const b = emptyBatch();
  for (let i = 0; i < n; i++) addDecode(b, context);
  return b;
};

describe('windowed layers attend within their window', () => {
  it('gpt-oss-20b decode: 12 full layers read the context, 12 sliding ones at most 128 tokens', () => {
    const m = model('gpt-oss-20b');
    const perToken = 2 * 8 * 64 * 2;
    const layer = (tokens: number) => (8 * tokens * perToken) / bandwidth + eff.attention_kernel_floor_s;
    expect(opTime(m, 'attention_decode', decodes(8, 4096))).toBeCloseTo(12 * layer(4096) + 12 * layer(128), 12);
    // Within the window every layer reads the whole context.
    expect(opTime(m, 'attention_decode', decodes(8, 100))).toBeCloseTo(24 * layer(100), 12);
  });

  it('gemma-2-9b prefill of 8192 tokens: sliding layers compute only the pairs inside 4096', () => {
    const m = model('gemma-2-9b');
    const b = emptyBatch();
    addPrefillChunk(b, 8192, 0, true);
    const flopsPerPair = 4 * 16 * 256;
    const peak = h100.tensor_flops_per_s.bf16 * eff.attention_prefill_compute;
    const full = (8192 * 8193) / 2;
    const windowed = (4096 * 4097) / 2 + 4096 * 4096; // positions ≤ 4096 see all before them, the rest 4096
    const layer = (pairs: number) => Math.max((flopsPerPair * pairs) / peak, 0) + eff.attention_kernel_floor_s;
    // Compute-bound at this length: the KV read is far shorter than the pairs' FLOPs.
    expect(opTime(m, 'attention_prefill', b)).toBeCloseTo(21 * layer(full) + 21 * layer(windowed), 9);
  });
});

describe('MLA reads the compressed latent', () => {
  it('deepseek-v3 at TP8: every GPU reads 61 × 576 × 2 bytes per context token (latent replicated)', () => {
    const m = model('deepseek-v3', 8);
    const layer = (16 * 2048 * 576 * 2) / bandwidth + eff.attention_kernel_floor_s;
    expect(opTime(m, 'attention_decode', decodes(16, 2048))).toBeCloseTo(61 * layer, 12);
  });
});

describe('shared experts and dense layers add dense MLP GEMMs', () => {
  it('deepseek-v2-lite: one decode token reads 6 routed + 2 shared experts on 26 layers, the dense MLP on 1', () => {
    const m = model('deepseek-v2-lite');
    const h = 2048;
    const gemm = (n: number, k: number, experts = 1) =>
      eff.gemm_kernel_floor_s + (experts * n * k * 2 + experts * (k + n) * 2) / (h100.hbm_bandwidth_bytes_per_s * eff.gemm_memory);
    // mlp_down: routed experts as one fused GEMM over the 6 hit, then the shared experts' and the dense layer's down projections.
    const expected = 26 * gemm(h, 1408, 6) + 1 * gemm(h, 10944) + 26 * gemm(h, 2 * 1408);
    expect(opTime(m, 'mlp_down', decodes(1, 512))).toBeCloseTo(expected, 12);
  });
});
