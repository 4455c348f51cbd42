import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GPU_CATALOG } from '../../sim/hardware/catalog.js';
import { DEFAULT_EFFICIENCY as E } from '../../sim/latency/efficiency.js';
import { gemmTime_s } from '../../sim/latency/rooflineTerms.js';

/**
 * Real GPU timings of the four projection GEMMs per layer (microsoft/vidur's profiler, MIT; see
 * ../shared/README.md), against the roofline with the default efficiencies. fp16 on both GPUs.
 */
const root = fileURLToPath(new URL('../../../shared/data/measured/vidur/compute', import.meta.url));
const present = existsSync(root);
if (!present) console.warn(`skipping Vidur GEMM comparison: ${root} is absent (../shared/data is not checked out)`);

function errors(gpuDir: string, gpuName: string): number[] {
  const gpu = GPU_CATALOG[gpuName];
  const out: number[] = [];
  for (const org of readdirSync(join(root, gpuDir))) {
    for (const model of readdirSync(join(root, gpuDir, org))) {
      const [header, ...lines] = readFileSync(join(root, gpuDir, org, model, 'mlp.csv'), 'utf8').trim().split('\n');
      const col = new Map(header.split(',').map((name, i) => [name, i]));
      for (const line of lines) {
        const v = line.split(',');
        const num = (name: string) => Number(v[col.get(name)!]);
        const [tp, m, h, heads, kvHeads, inter] = ['num_tensor_parallel_workers', 'num_tokens', 'n_embd', 'n_head', 'n_kv_head', 'n_expanded_embd'].map(num);
        const d = h / heads;
        const gated = v[col.get('use_gated_mlp')!] === 'True';
        const shapes: Record<string, [number, number]> = {
          attn_pre_proj: [((heads + 2 * kvHeads) * d) / tp, h],
          attn_post_proj: [h, (heads * d) / tp],
          mlp_up_proj: [((gated ? 2 : 1) * inter) / tp, h],
          mlp_down_proj: [h, inter / tp],
        };
        for (const [op, [n, k]] of Object.entries(shapes)) {
          const measured_s = num(`time_stats.${op}.median`) / 1000;
          const predicted_s = gemmTime_s(m, n, k, 2, 2, gpu.tensor_flops_per_s.fp16 * E.gemm_compute, gpu.hbm_bandwidth_bytes_per_s * E.gemm_memory, E.gemm_kernel_floor_s);
          out.push(Math.abs(predicted_s - measured_s) / measured_s);
        }
      }
    }
  }
  return out.sort((a, b) => a - b);
}

describe.skipIf(!present)('roofline GEMMs against Vidur measurements', () => {
  it.each([
    ['h100', 'h100-sxm', 0.1, 0.3],
    ['a100', 'a100-sxm-80gb', 0.07, 0.2],
  ])('%s: median absolute error ≤ %s, p90 ≤ %s', (dir, gpu, medianMax, p90Max) => {
    const e = errors(dir, gpu as string);
    expect(e.length).toBeGreaterThan(1000);
    expect(e[Math.floor(e.length / 2)]).toBeLessThanOrEqual(medianMax as number);
    expect(e[Math.floor(e.length * 0.9)]).toBeLessThanOrEqual(p90Max as number);
  });
});
