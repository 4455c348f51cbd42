import { describe, expect, it } from 'vitest';
import { AdapterCache } from '../../sim/cluster/adapterCache.js';

describe('AdapterCache: GPU slots and CPU cache, least recently used first out', () => {
  it('loads from disk the first time, from CPU after a GPU eviction, nothing while resident', () => {
    const cache = new AdapterCache(1, 2);
    expect(cache.free_slots).toBe(1);
    expect(cache.activate([0])).toEqual({ cpu_loads: 0, disk_loads: 1 });
    expect(cache.has(0)).toBe(true);
    expect(cache.free_slots).toBe(0);
    expect(cache.activate([0])).toEqual({ cpu_loads: 0, disk_loads: 0 });
    expect(cache.activate([1])).toEqual({ cpu_loads: 0, disk_loads: 1 });
    expect(cache.has(0)).toBe(false);
    // 0 left the GPU but is still in CPU memory: a PCIe copy, no disk read.
    expect(cache.activate([0])).toEqual({ cpu_loads: 1, disk_loads: 0 });
    expect(cache.cpuResident()).toEqual([1, 0]);
  });

  it('two adapters alternating over one slot: a load every step', () => {
    const cache = new AdapterCache(1, 1);
    const loads = [0, 1, 0, 1, 0].map((a) => cache.activate([a]));
    // max_cpu_loras 1: each one pushes the other out of CPU memory too, so every load is from disk.
    expect(loads.map((l) => l.disk_loads)).toEqual([1, 1, 1, 1, 1]);
    const roomy = new AdapterCache(1, 2);
    const again = [0, 1, 0, 1, 0].map((a) => roomy.activate([a]));
    expect(again).toEqual([
      { cpu_loads: 0, disk_loads: 1 },
      { cpu_loads: 0, disk_loads: 1 },
      { cpu_loads: 1, disk_loads: 0 },
      { cpu_loads: 1, disk_loads: 0 },
      { cpu_loads: 1, disk_loads: 0 },
    ]);
  });

  it('evicts the least recently used slot, never one the step holds', () => {
    const cache = new AdapterCache(2, 4);
    cache.activate([0, 1]);
    cache.activate([1]); // 1 touched: 0 is now the least recently used
    expect(cache.activate([1, 2])).toEqual({ cpu_loads: 0, disk_loads: 1 });
    expect(cache.gpuResident()).toEqual([1, 2]);
    // 1 is the oldest slot, but this step holds it: 2 goes instead.
    expect(cache.activate([1, 3])).toEqual({ cpu_loads: 0, disk_loads: 1 });
    expect(cache.gpuResident().sort()).toEqual([1, 3]);
  });

  it('an adapter pushed out of CPU memory leaves its GPU slot too', () => {
    const cache = new AdapterCache(2, 2);
    cache.activate([0]);
    cache.activate([1]);
    cache.activate([2]); // CPU full (0, 1): 0 out of CPU, and so out of its slot, which 2 takes
    expect(cache.has(0)).toBe(false);
    expect(cache.gpuResident()).toEqual([1, 2]);
    expect(cache.cpuResident()).toEqual([1, 2]);
    expect(cache.activate([0])).toEqual({ cpu_loads: 0, disk_loads: 1 });
  });

  it('a step using a GPU-resident adapter also renews it in CPU memory', () => {
    const cache = new AdapterCache(2, 3);
    cache.activate([0]);
    cache.activate([1]);
    cache.activate([0]); // a GPU hit: 0 is now the most recent in both caches
    expect(cache.cpuResident()).toEqual([1, 0]);
    expect(cache.activate([2])).toEqual({ cpu_loads: 0, disk_loads: 1 }); // GPU full: 1, its oldest, leaves
    expect(cache.gpuResident()).toEqual([0, 2]);
    expect(cache.cpuResident()).toEqual([1, 0, 2]);
    // CPU full: 1 (not 0, renewed by its hit) leaves CPU memory; GPU full: 0, now its oldest, leaves.
    expect(cache.activate([3])).toEqual({ cpu_loads: 0, disk_loads: 1 });
    expect(cache.cpuResident()).toEqual([0, 2, 3]);
    expect(cache.gpuResident()).toEqual([2, 3]);
  });

  it('a step with no adapter changes nothing', () => {
    const cache = new AdapterCache(2, 2);
    cache.activate([5]);
    expect(cache.activate([])).toEqual({ cpu_loads: 0, disk_loads: 0 });
    expect(cache.gpuResident()).toEqual([5]);
    expect(cache.free_slots).toBe(1);
  });

  it('refuses more adapters than slots, repeated adapters, and a CPU cache smaller than the slots', () => {
    const cache = new AdapterCache(2, 3);
    expect(() => cache.activate([0, 1, 2])).toThrow(/3 distinct adapters, more than max_loras \(2\)/);
    expect(() => cache.activate([4, 4])).toThrow(/must be distinct/);
    expect(() => new AdapterCache(2, 1)).toThrow(/max_cpu_loras must be an integer ≥ max_loras \(2\), got 1/);
    expect(() => new AdapterCache(0, 1)).toThrow(/max_loras must be an integer ≥ 1, got 0/);
  });

  it('keeps the GPU slots inside the CPU cache and within their sizes, over any sequence of steps', () => {
    const cache = new AdapterCache(3, 5);
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 2000; step++) {
      const want = new Set<number>();
      const n = Math.floor(next() * 4);
      while (want.size < n) want.add(Math.floor(next() * 9));
      const loads = cache.activate([...want]);
      const gpu = cache.gpuResident();
      const cpu = cache.cpuResident();
      for (const a of want) expect(cache.has(a)).toBe(true);
      for (const a of gpu) expect(cpu).toContain(a);
      expect(gpu.length).toBeLessThanOrEqual(3);
      expect(cpu.length).toBeLessThanOrEqual(5);
      expect(loads.cpu_loads + loads.disk_loads).toBeLessThanOrEqual(want.size);
    }
  });
});
