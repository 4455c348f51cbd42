import { buildLatencyModel } from '../latency/build.js';
import type { LatencyEfficiency } from '../latency/efficiency.js';
import type { LatencyModel } from '../latency/model.js';
import type { RunSetup } from './resolve.js';
import { SCHEDULERS } from '../scheduler/registry.js';

/** The latency model a resolved scenario describes: its architecture, GPU, parallelism, precision and profile. */
export function latencyModelFor(setup: RunSetup, efficiency?: Partial<LatencyEfficiency>, time_scale?: number): LatencyModel {
  const s = setup.scenario;
  return buildLatencyModel({
    arch: setup.arch,
    gpu: setup.gpu,
    tensor_parallel: s.hardware.tensor_parallel,
    weights: s.precision.weights,
    kv_cache: s.precision.kv_cache,
    block_size: s.engine.block_size,
    cuda_graphs: s.engine.cuda_graphs,
    graphs: SCHEDULERS[s.engine.scheduler].vllm_engine === 'v0' ? 'v0' : 'v1',
    max_num_seqs: s.engine.max_num_seqs,
    profile: setup.profile,
    efficiency,
    time_scale,
  });
}
