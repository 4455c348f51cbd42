import { fieldError } from '../errors.js';
import type { ModelArchitecture } from '../model/architecture.js';
import { parameterCount } from '../model/derived.js';

import type { ColdStartInput, WeightStorage } from '../scenario/types.js';

/** A replica's cold start, every part filled: provisioning, then loading its weights, then the engine's start-up. */
export interface ResolvedColdStart {
  /** Until the machine is there (a node to boot, an image to pull); 0: it already is. */
  provisioning_s: number;
  storage: WeightStorage;
  /** Weight bytes read per second per GPU, in GB/s (10⁹ bytes). */
  load_bandwidth_gbps: number;
  /** Engine start-up after the weights: memory profiling, KV allocation, compilation, CUDA-graph capture, s. */
  startup_s: number;
  /** weight bytes per GPU ÷ load bandwidth. */
  weight_load_s: number;
  /** provisioning + weight load + start-up: from the request for a replica until it takes requests. */
  total_s: number;
}

/**
 * Per-GPU weight-read rates of vLLM's default safetensors loader, GB/s:
 * - host_cache: page cache → GPU; 24.28 GiB in 3.30 s (7.4 GiB/s, H100 NVL, vLLM 0.10.1;
 *   upb-cn/vllm-startup-profiler figure-13 logs) and 4.81 GB/s from tmpfs on one H200
 *   (scitix/InstantTensor docs/benchmark.md): 5.
 * - local_nvme: 1.07 GB/s on one GPU from fast local storage (InstantTensor benchmark.md); 0.5 GiB/s
 *   from a cold page cache on a local disk (upb-cn figure-10 logs): 1.
 * - network_volume: about 15 GiB in 48 s on EBS gp3 (NVIDIA's Run:ai Model Streamer blog): 0.3.
 * - object_store: vLLM downloads first; Llama-3-70B from the Hugging Face Hub in 196 s (≈0.7 GB/s,
 *   anyscale/ray-serve-llm-perf-examples replica_initialization logs): 0.7.
 */
const LOAD_GBPS: Record<WeightStorage, number> = { host_cache: 5, local_nvme: 1, network_volume: 0.3, object_store: 0.7 };

/**
 * Engine start-up after the weights, by model size: ≈15 s of process start (imports, engine-core
 * spawn, NCCL; upb-cn logs) plus initialization with a warm compile cache: 21.6 s for Llama-2-7B
 * on an A100 (vLLM 0.10.0, upb-cn A100 logs), 38 s for Llama-3-70B TP4 on H100s (anyscale
 * llama70B-all log), 170 s for Qwen3-235B TP8 (anyscale qwen235B-base log, compile cold).
 */
function defaultStartup_s(arch: ModelArchitecture): number {
  const params = parameterCount(arch);
  if (params < 20e9) return 35;
  if (params < 150e9) return 55;
  return 185;
}

/** The cold start of a replica holding `weight_bytes_per_gpu`, from the scenario's (or pool's) `cold_start`. */
export function resolveColdStart(input: ColdStartInput | undefined, arch: ModelArchitecture, weight_bytes_per_gpu: number): ResolvedColdStart {
  const storage = input?.storage ?? 'local_nvme';
  const load_bandwidth_gbps = input?.load_bandwidth_gbps ?? LOAD_GBPS[storage];
  if (!(load_bandwidth_gbps > 0)) throw fieldError('cold_start.load_bandwidth_gbps', 'must be > 0', load_bandwidth_gbps);
  // No provisioning by default: a replica starts on a node that is already up, with its image pulled.
  const provisioning_s = input?.provisioning_s ?? 0;
  const startup_s = input?.startup_s ?? defaultStartup_s(arch);
  const weight_load_s = weight_bytes_per_gpu / (load_bandwidth_gbps * 1e9);
  return { provisioning_s, storage, load_bandwidth_gbps, startup_s, weight_load_s, total_s: provisioning_s + weight_load_s + startup_s };
}
