import { fieldError } from '../errors.js';
import type { GpuSpec } from '../hardware/gpu.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { validateParallelism } from '../model/derived.js';
import { BYTES_PER_KV_BLOCK, MAX_KV_BLOCKS_TOTAL, MAX_REPLICAS } from '../scenario/bounds.js';
import type { LengthDist, ScenarioInput, WorkloadSpec } from '../scenario/types.js';

/** Scenario checks that need the model, the GPU or a resolved figure but no scheduling policy. */

/**
 * The model must split over the tensor-parallel group, within one node (pipeline stages may span
 * nodes; setup/pipeline.ts times their links).
 */
export function checkParallelism(arch: ModelArchitecture, gpu: GpuSpec, tp: number, pp: number): void {
  validateParallelism(arch, tp, pp);
  if (tp > gpu.gpus_per_node) {
    throw fieldError(
      'hardware.tensor_parallel',
      `must be ≤ ${gpu.gpus_per_node}, the GPUs of one ${gpu.name} node: a tensor-parallel group across nodes would ` +
        'all-reduce over the network, which is not modelled; use hardware.pipeline_parallel to span nodes, or more replicas',
      tp,
    );
  }
}

/** Every replica holds its KV block table: their total must fit the simulator's memory bound. */
export function checkClusterMemory(replicas: number, blocks: number): void {
  // The schema says the same; resolveScenario is also called directly.
  if (!(Number.isInteger(replicas) && replicas >= 1 && replicas <= MAX_REPLICAS)) {
    throw fieldError('cluster.replicas', `must be an integer ≥ 1 and ≤ ${MAX_REPLICAS} (a simulation holds every replica in memory)`, replicas);
  }
  if (replicas * blocks <= MAX_KV_BLOCKS_TOTAL) return;
  const gb = ((replicas * blocks * BYTES_PER_KV_BLOCK) / 1e9).toFixed(1);
  throw fieldError(
    'cluster.replicas',
    `must be ≤ ${Math.floor(MAX_KV_BLOCKS_TOTAL / blocks)} here: ${replicas} replicas × ${blocks} KV blocks each would take ${gb} GB ` +
      `of simulator memory (a simulation holds every replica's blocks, at most ${MAX_KV_BLOCKS_TOTAL} in all); ` +
      'use fewer replicas, or engine.num_gpu_blocks_override for smaller pools',
    replicas,
  );
}

/** The fewest tokens a length distribution can draw (1 where only the data knows: empirical). */
export function fewestTokens(d: LengthDist | undefined): number {
  switch (d?.dist) {
    case 'fixed':
      return d.value;
    case 'uniform':
    case 'zipf':
      return d.min;
    case 'normal':
    case 'lognormal':
      return d.min ?? 1;
    default:
      return 1;
  }
}

/** A synthetic workload whose every request exceeds max_model_len would only be rejected: refuse it. */
export function checkSomeRequestFits(w: WorkloadSpec, max_model_len: number, lenGiven: boolean): void {
  if (w.trace !== undefined) return;
  const input = fewestTokens(w.input_tokens);
  const output = Math.min(fewestTokens(w.output_tokens), w.max_tokens ?? Infinity);
  if (input + output <= max_model_len) return;
  const field = lenGiven ? 'engine.max_model_len' : 'workload.input_tokens';
  throw fieldError(
    field,
    `every request needs at least ${input + output} tokens (prompt ≥ ${input}, output ≥ ${output}), more than max_model_len ${max_model_len}, ` +
      'so every one would be rejected; shorten the lengths' + (lenGiven ? ' or raise engine.max_model_len' : ''),
    lenGiven ? max_model_len : w.input_tokens,
  );
}

/** The warm-up must end before a time-bounded workload stops sending. Returns warmup_s. */
export function checkedWarmup(input: ScenarioInput): number {
  const warmup_s = input.metrics?.warmup_s ?? 0;
  const duration_s = input.workload.duration_s;
  if (duration_s !== undefined && warmup_s > 0 && warmup_s >= duration_s) {
    throw fieldError(
      'metrics.warmup_s',
      `must be < workload.duration_s (${duration_s}): requests arriving before the warm-up are left out of every latency figure, and none arrive after duration_s`,
      warmup_s,
    );
  }
  return warmup_s;
}
