import { clearKeepingStorage } from '../engine/arrays.js';
import { loraStepOverhead_s } from '../latency/loraCost.js';
import type { LoraSummary } from '../metrics/summary.js';
import type { Sequence } from '../scheduler/sequence.js';
import type { ResolvedLora } from '../setup/lora.js';
import { AdapterCache } from './adapterCache.js';

/** A replica's LoRA adapters and what they cost its steps (engine.lora). */
export class LoraStep {
  readonly cache: AdapterCache;
  cpu_loads = 0;
  disk_loads = 0;
  load_s = 0;
  compute_s = 0;
  /** Steps that held at least one adapter, Σ distinct adapters over them, and the most one held. */
  steps_with_adapters = 0;
  adapters_in_steps = 0;
  max_adapters_in_step = 0;
  private readonly distinct: number[] = [];

  constructor(readonly lora: ResolvedLora) {
    this.cache = new AdapterCache(lora.max_loras, lora.max_cpu_loras);
  }

  /**
   * The time LoRA adds to a step, s: loading the adapters its sequences name that are not in a GPU
   * slot (from CPU memory over PCIe, or first from disk), which vLLM does before the forward pass
   * (set_active_adapters), then the shrink/expand kernels over the tokens that have an adapter.
   */
  time_s(scheduled: readonly Sequence[]): number {
    const distinct = this.distinct;
    clearKeepingStorage(distinct);
    let tokens = 0;
    for (const seq of scheduled) {
      const adapter = seq.request.adapter;
      if (adapter === undefined) continue;
      tokens += seq.scheduled_tokens;
      if (!distinct.includes(adapter)) distinct.push(adapter);
    }
    if (distinct.length === 0) return 0;
    const loads = this.cache.activate(distinct);
    const l = this.lora;
    const load_s = loads.cpu_loads * l.cpu_load_s + loads.disk_loads * (l.disk_load_s + l.cpu_load_s);
    const compute_s = loraStepOverhead_s(l.step_cost, tokens, distinct.length);
    this.cpu_loads += loads.cpu_loads;
    this.disk_loads += loads.disk_loads;
    this.load_s += load_s;
    this.compute_s += compute_s;
    this.steps_with_adapters++;
    this.adapters_in_steps += distinct.length;
    if (distinct.length > this.max_adapters_in_step) this.max_adapters_in_step = distinct.length;
    return load_s + compute_s;
  }
}

/** summary.json `lora` over the replicas that serve adapters (none: undefined). */
export function loraSummary(replicas: readonly { lora: LoraStep | undefined; busy_s: number }[]): LoraSummary | undefined {
  let any: LoraStep | undefined;
  const sum = { cpu_loads: 0, disk_loads: 0, load_s: 0, compute_s: 0, steps: 0, adapters: 0, max: 0, busy_s: 0 };
  for (const r of replicas) {
    const l = r.lora;
    if (l === undefined) continue;
    any ??= l;
    sum.cpu_loads += l.cpu_loads;
    sum.disk_loads += l.disk_loads;
    sum.load_s += l.load_s;
    sum.compute_s += l.compute_s;
    sum.steps += l.steps_with_adapters;
    sum.adapters += l.adapters_in_steps;
    sum.max = Math.max(sum.max, l.max_adapters_in_step);
    sum.busy_s += r.busy_s;
  }
  if (any === undefined) return undefined;
  return {
    max_loras: any.lora.max_loras,
    max_lora_rank: any.lora.max_lora_rank,
    adapter_loads: sum.cpu_loads + sum.disk_loads,
    adapter_loads_from_disk: sum.disk_loads,
    load_time_s: sum.load_s,
    steps_with_adapters: sum.steps,
    mean_adapters_per_step: sum.steps === 0 ? null : sum.adapters / sum.steps,
    max_adapters_per_step: sum.max,
    load_time_share: sum.busy_s > 0 ? sum.load_s / sum.busy_s : null,
    compute_time_share: sum.busy_s > 0 ? sum.compute_s / sum.busy_s : null,
  };
}
