import { describe, expect, it } from 'vitest';
import { addDecode, addPrefillChunk, emptyBatch } from '../../sim/latency/batch.js';
import { DEFAULT_EFFICIENCY } from '../../sim/latency/efficiency.js';
import { cudaGraphCaptureSizes, GraphSizes, paddedGraphSize, v0CudaGraphCaptureSizes } from '../../sim/latency/cudaGraphs.js';
import { opTime, roofline } from './roofline.js';

describe('CUDA graphs by engine generation', () => {
  it('V0 captures 1, 2, 4, then every 8 up to the first size holding max_num_seqs, at most 256', () => {
    const all = v0CudaGraphCaptureSizes(256);
    expect(all.slice(0, 5)).toEqual([1, 2, 4, 8, 16]);
    expect(all.length).toBe(3 + 32);
    expect(all[all.length - 1]).toBe(256);
    expect(v0CudaGraphCaptureSizes(100).at(-1)).toBe(104);
    expect(v0CudaGraphCaptureSizes(1024).at(-1)).toBe(256);
  });

  // 70B at TP8 (80 layers): eager dispatch, 80 × 14 kernels × 15 µs = 16.8 ms, outruns the GPU work of a small step.
  const mixed = () => {
    const b = emptyBatch();
    addPrefillChunk(b, 16, 0, true);
    for (let i = 0; i < 8; i++) addDecode(b, 1000);
    return b;
  };
  const decodes = () => {
    const b = emptyBatch();
    for (let i = 0; i < 8; i++) addDecode(b, 1000);
    return b;
  };
  const model = (graphs: 'v0' | 'v1') => roofline({ model: 'llama-3.1-70b', tensor_parallel: 8, graphs });

  it('V0 runs a batch with a prompt in it eagerly; V1 replays its graph', () => {
    expect(opTime(model('v1'), 'launch_overhead', mixed())).toBe(DEFAULT_EFFICIENCY.graph_replay_s);
    const eager = opTime(model('v0'), 'launch_overhead', mixed());
    expect(eager).toBeGreaterThan(DEFAULT_EFFICIENCY.graph_replay_s);
    expect(model('v0').iterationTime_s(mixed())).toBeGreaterThan(model('v1').iterationTime_s(mixed()));
  });

  it('V0 and V1 replay the same graph for a pure-decode batch', () => {
    expect(opTime(model('v0'), 'launch_overhead', decodes())).toBe(DEFAULT_EFFICIENCY.graph_replay_s);
    expect(model('v0').iterationTime_s(decodes())).toBe(model('v1').iterationTime_s(decodes()));
  });
});

describe('padded graph sizes from a table', () => {
  it('pads each count to the smallest captured size holding it, by hand: 3 → 4, 9 → 16, 512 → 512, 513 → none', () => {
    const sizes = new GraphSizes(cudaGraphCaptureSizes(512));
    expect([1, 3, 4, 5, 9, 512, 513, 10_000].map((t) => sizes.padded(t))).toEqual([1, 4, 4, 8, 16, 512, 0, 0]);
  });

  it('answers as the search does for every count, fractions, none captured and one size', () => {
    for (const captured of [cudaGraphCaptureSizes(512), v0CudaGraphCaptureSizes(100), [], [8]]) {
      const sizes = new GraphSizes(captured);
      for (let t = 0; t <= 600; t++) expect(sizes.padded(t)).toBe(paddedGraphSize(captured, t));
      for (const t of [0.5, 7.5, 255.25, 1e9]) expect(sizes.padded(t)).toBe(paddedGraphSize(captured, t));
    }
  });
});
