import { fieldError } from '../errors.js';
import type { GpuSpec } from '../hardware/gpu.js';
import {
  adapterBytesPerGpu,
  adapterCheckpointBytes,
  adapterCpuLoadTime_s,
  adapterDiskLoadTime_s,
  loraReservedBytesPerGpu,
  loraStepCost,
  type LoraStepCost,
} from '../latency/loraCost.js';
import type { ModelArchitecture } from '../model/architecture.js';
import type { LoraInput, WorkloadSpec } from '../scenario/types.js';
import { SCHEDULERS, schedulerNames } from '../scheduler/registry.js';
import type { SchedulerFactory } from '../scheduler/scheduler.js';

/** engine.lora with every key filled, and what serving adapters costs this engine (sim/latency/loraCost.ts). */
export interface ResolvedLora {
  /** GPU adapter slots: the distinct adapters one step may hold. */
  max_loras: number;
  max_lora_rank: number;
  /** Adapters kept in CPU memory (≥ max_loras). */
  max_cpu_loras: number;
  /** One adapter at max_lora_rank on the most loaded GPU: what one CPU → GPU load copies, bytes. */
  adapter_bytes_per_gpu: number;
  /** The LoRA buffers vLLM preallocates on each GPU (max_loras slots at max_lora_rank, embeddings included): out of the KV budget, bytes. */
  reserved_bytes_per_gpu: number;
  /** One adapter CPU → GPU over one direction of PCIe, s. */
  cpu_load_s: number;
  /** One adapter checkpoint disk → CPU, s (it then still takes cpu_load_s to reach the GPU). */
  disk_load_s: number;
  /** The per-step LoRA compute's coefficients: loraStepOverhead_s(step_cost, lora_tokens, distinct_adapters). */
  step_cost: LoraStepCost;
}

/** vLLM's defaults (vllm/config/lora.py, LoRAConfig): one slot, rank 16; max_cpu_loras defaults to max_loras. */
export const DEFAULT_MAX_LORAS = 1;
export const DEFAULT_MAX_LORA_RANK = 16;

const FIELD = 'engine.lora';

/** The schedulers that serve adapters, by name, in registry order. */
function loraSchedulers(): string[] {
  return schedulerNames().filter((name) => SCHEDULERS[name].traits.lora === true);
}

/** engine.lora checked against the policy and the model, defaults filled, costs computed; undefined without it. */
export function resolveLora(l: LoraInput | undefined, policy: SchedulerFactory, arch: ModelArchitecture, gpu: GpuSpec, tp: number, pp: number): ResolvedLora | undefined {
  if (l === undefined) return undefined;
  if (policy.traits.lora !== true) {
    const can = loraSchedulers();
    throw fieldError(FIELD, `needs a scheduler that serves LoRA adapters (${can.length === 0 ? 'none is registered' : can.join(', ')}); engine.scheduler is ${policy.name}`, policy.name);
  }
  // Only the dense linear layers are costed (loraCost.ts): experts and MLA's compressed projections are not.
  if ((arch.num_local_experts ?? 1) > 1 || arch.mla !== undefined) {
    throw fieldError(FIELD, `is modelled for dense models with standard attention; ${arch.name} has ${arch.mla !== undefined ? "MLA's compressed attention" : 'mixture-of-experts layers'}`, arch.name);
  }
  const max_loras = l.max_loras ?? DEFAULT_MAX_LORAS;
  const max_lora_rank = l.max_lora_rank ?? DEFAULT_MAX_LORA_RANK;
  const max_cpu_loras = l.max_cpu_loras ?? max_loras;
  // vLLM refuses it too (LoRAConfig: "max_cpu_loras must be >= max_loras"): an active adapter is also held in CPU memory.
  if (max_cpu_loras < max_loras) {
    throw fieldError(`${FIELD}.max_cpu_loras`, `must be ≥ engine.lora.max_loras (${max_loras}): every adapter in a GPU slot is also kept in CPU memory`, max_cpu_loras);
  }
  const adapter_bytes_per_gpu = adapterBytesPerGpu(arch, max_lora_rank, tp, pp);
  return {
    max_loras,
    max_lora_rank,
    max_cpu_loras,
    adapter_bytes_per_gpu,
    reserved_bytes_per_gpu: loraReservedBytesPerGpu(arch, max_loras, max_lora_rank, tp, pp),
    cpu_load_s: adapterCpuLoadTime_s(adapter_bytes_per_gpu, gpu),
    disk_load_s: adapterDiskLoadTime_s(adapterCheckpointBytes(arch, max_lora_rank)),
    step_cost: loraStepCost(arch, gpu, max_lora_rank, tp, pp),
  };
}

/**
 * Requests that name adapters need an engine that serves them: workload.lora, or a trace's
 * adapter column, without engine.lora (in this pool) is refused. A trace column whose every value
 * is empty names no adapter, but says the user expects some: refused too, before any row is read.
 */
export function checkAdapterRequests(workload: WorkloadSpec, lora: ResolvedLora | undefined): void {
  if (lora !== undefined) return;
  const fix = 'set engine.lora (e.g. { max_loras: 4 }) with the vllm scheduler, or remove';
  if (workload.lora !== undefined) {
    throw fieldError('workload.lora', `gives requests LoRA adapters, but engine.lora is not set: ${fix} workload.lora`, workload.lora.adapters);
  }
  const column = workload.trace?.columns?.adapter;
  if (column !== undefined) {
    throw fieldError('workload.trace.columns.adapter', `names each request's LoRA adapter, but engine.lora is not set: ${fix} the column`, column);
  }
}
