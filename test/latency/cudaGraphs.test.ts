import { describe, expect, it } from 'vitest';
import { addDecode, addPrefillChunk, emptyBatch } from '../../sim/latency/batch.js';
import { DEFAULT_EFFICIENCY } from '../../sim/latency/efficiency.js';
import { v0CudaGraphCaptureSizes } from '../../sim/latency/cudaGraphs.js';
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
