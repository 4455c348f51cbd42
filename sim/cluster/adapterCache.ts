import { clearKeepingStorage } from '../engine/arrays.js';
import type { AdapterResidency } from '../routing/router.js';

/** What bringing a step's adapters onto the GPU took: adapters copied from the CPU cache, adapters read from disk. */
export interface AdapterLoads {
  /** Adapters copied CPU → GPU (each costs ResolvedLora.cpu_load_s). */
  cpu_loads: number;
  /** Adapters read from disk into the CPU cache, then copied to the GPU (each costs disk_load_s + cpu_load_s). */
  disk_loads: number;
}

/**
 * A replica's LoRA adapters: `max_loras` GPU slots and a CPU cache of `max_cpu_loras` adapters,
 * each least recently used first out, as vLLM's LRUCacheWorkerLoRAManager (vllm/lora/
 * worker_manager.py) and LRUCacheLoRAModelManager (vllm/lora/models.py) keep them:
 * - every step activates the adapters its requests name (`_apply_adapters`, which refuses more
 *   than the GPU slots); each is touched in both caches;
 * - one not in a GPU slot takes a free slot, or the least recently used slot's (`activate_adapter`
 *   evicts the oldest active adapter), copied from CPU memory;
 * - one not in CPU memory is first read from disk into it (`add_adapter` loads it and, at
 *   capacity, `remove_oldest_adapter`); an adapter dropped from CPU memory also leaves its GPU
 *   slot (the registered-adapter cache's removal deactivates it), so the GPU slots' adapters are
 *   always in the CPU cache too.
 * Neither eviction takes an adapter the step itself holds (vLLM loads them in turn and could evict
 * one it touched earlier in the same step; the simulator keeps the whole step's set).
 */
export class AdapterCache implements AdapterResidency {
  /**
   * GPU slots' adapters → when each was last used. A touch stamps its adapter with the next tick,
   * so the stamps order the adapters as a least-recently-used list would. (A Map re-inserted on
   * every touch kept that order too, but its deletes and inserts, every step, were 8 % of the
   * multi-LoRA scenario.)
   */
  private readonly gpu = new Map<number, number>();
  /** CPU cache's adapters → when each was last used. */
  private readonly cpu = new Map<number, number>();
  private tick = 0;
  /** The step's adapters: kept across steps, refilled by each. */
  private readonly held = new Set<number>();
  /** The step's adapters not in a GPU slot: kept across steps, refilled by each. */
  private readonly missing: number[] = [];

  constructor(
    readonly max_loras: number,
    readonly max_cpu_loras: number,
  ) {
    if (!(Number.isInteger(max_loras) && max_loras >= 1)) throw new Error(`AdapterCache: max_loras must be an integer ≥ 1, got ${max_loras}`);
    if (!(Number.isInteger(max_cpu_loras) && max_cpu_loras >= max_loras)) {
      throw new Error(`AdapterCache: max_cpu_loras must be an integer ≥ max_loras (${max_loras}), got ${max_cpu_loras}`);
    }
  }

  /** Whether `adapter` is in a GPU slot now. */
  has(adapter: number): boolean {
    return this.gpu.has(adapter);
  }

  /** GPU slots holding no adapter. */
  get free_slots(): number {
    return this.max_loras - this.gpu.size;
  }

  /** The GPU slots' adapters, least recently used first. */
  gpuResident(): number[] {
    return byLastUse(this.gpu);
  }

  /** The CPU cache's adapters, least recently used first. */
  cpuResident(): number[] {
    return byLastUse(this.cpu);
  }

  /**
   * Puts the step's distinct adapters in GPU slots (called once per step, before it runs) and
   * says how many had to be loaded, and from where. Throws on more adapters than slots or a
   * repeated adapter: the scheduler must never form such a step.
   */
  activate(distinct: readonly number[]): AdapterLoads {
    if (distinct.length > this.max_loras) {
      throw new Error(`AdapterCache.activate: a step holds ${distinct.length} distinct adapters, more than max_loras (${this.max_loras})`);
    }
    const held = this.held;
    held.clear();
    for (const a of distinct) held.add(a);
    if (held.size !== distinct.length) throw new Error(`AdapterCache.activate: adapters must be distinct, got [${distinct.join(', ')}]`);
    const loads: AdapterLoads = { cpu_loads: 0, disk_loads: 0 };
    const missing = this.missing;
    clearKeepingStorage(missing);
    for (const a of distinct) {
      if (this.gpu.has(a)) {
        this.gpu.set(a, ++this.tick);
        this.cpu.set(a, ++this.tick);
      } else missing.push(a);
    }
    for (const a of missing) {
      if (this.cpu.has(a)) {
        this.cpu.set(a, ++this.tick);
        loads.cpu_loads++;
      } else {
        if (this.cpu.size >= this.max_cpu_loras) this.gpu.delete(evictOldest(this.cpu, held));
        this.cpu.set(a, ++this.tick);
        loads.disk_loads++;
      }
      if (this.gpu.size >= this.max_loras) evictOldest(this.gpu, held);
      this.gpu.set(a, ++this.tick);
    }
    return loads;
  }
}

/** The adapters of `lru`, least recently used first. */
function byLastUse(lru: ReadonlyMap<number, number>): number[] {
  return [...lru].sort((x, y) => x[1] - y[1]).map(([adapter]) => adapter);
}

/** Removes and returns the least recently used adapter not in `keep` (one always exists: keep is smaller than the cache). */
function evictOldest(lru: Map<number, number>, keep: ReadonlySet<number>): number {
  let oldest = -1;
  let oldestTick = Infinity;
  for (const [adapter, tick] of lru) {
    if (tick < oldestTick && !keep.has(adapter)) {
      oldest = adapter;
      oldestTick = tick;
    }
  }
  if (oldestTick === Infinity) throw new Error('AdapterCache: every cached adapter is held by the step');
  lru.delete(oldest);
  return oldest;
}
