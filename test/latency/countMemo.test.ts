import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { getGpu } from '../../sim/hardware/catalog.js';
import { addDecode, addPrefillChunk, emptyBatch, type BatchShape } from '../../sim/latency/batch.js';
import { buildLatencyModel } from '../../sim/latency/build.js';
import { CountMemo } from '../../sim/latency/countMemo.js';
import type { LatencyModel } from '../../sim/latency/model.js';
import { getModel } from '../../sim/model/catalog.js';
import { roofline } from './roofline.js';

describe('CountMemo', () => {
  it('restores exactly the slots it keeps, with their measured flags, and nothing before a save', () => {
    const memo = new CountMemo([0, 2]);
    const times = new Float64Array([1.5, 7, 2.25]);
    const measured = new Uint8Array([1, 1, 0]);
    expect(memo.restore(3, times, measured)).toBe(false);
    memo.save(3, times, measured);
    const t = new Float64Array([9, 9, 9]);
    const m = new Uint8Array([0, 1, 1]);
    expect(memo.restore(3, t, m)).toBe(true);
    expect([...t]).toEqual([1.5, 9, 2.25]);
    expect([...m]).toEqual([1, 1, 0]);
    expect(memo.restore(2, t, m)).toBe(false);
    expect(memo.restore(4, t, m)).toBe(false);
    // Not a count: unknown, whatever the table's size.
    for (const n of [3.5, -1, Number.NaN]) expect(memo.restore(n, t, m)).toBe(false);
  });

  it('keeps earlier counts when it grows, and ignores counts above its limit', () => {
    const memo = new CountMemo([0], 1000);
    for (const n of [0, 1, 63, 64, 65, 500, 1000]) memo.save(n, new Float64Array([n + 0.5]), new Uint8Array([n % 2]));
    memo.save(1001, new Float64Array([1]), new Uint8Array([0]));
    for (const n of [0, 1, 63, 64, 65, 500, 1000]) {
      const t = new Float64Array(1);
      const m = new Uint8Array(1);
      expect(memo.restore(n, t, m)).toBe(true);
      expect(t[0]).toBe(n + 0.5);
      expect(m[0]).toBe(n % 2);
    }
    expect(memo.restore(1001, new Float64Array(1), new Uint8Array(1))).toBe(false);
    expect(memo.restore(2, new Float64Array(1), new Uint8Array(1))).toBe(false);
  });
});

/** A seeded mix of prefill chunks and decodes whose token and emitting counts repeat, as a run's do. */
function batches(seed: string, count: number): BatchShape[] {
  const rng = seedrandom(seed);
  const out: BatchShape[] = [];
  for (let i = 0; i < count; i++) {
    const b = emptyBatch();
    const decodes = Math.floor(rng() * 40);
    for (let d = 0; d < decodes; d++) addDecode(b, 1 + Math.floor(rng() * 3000));
    if (rng() < 0.4 || decodes === 0) addPrefillChunk(b, 1 + Math.floor(rng() * 600), Math.floor(rng() * 200), rng() < 0.5);
    out.push(b);
  }
  return out;
}

/**
 * The memo must not change a single bit: a model that has seen many batches gives each one the
 * same breakdown (times and measured/modelled sources) as a model that sees it first.
 */
function expectSameAsFresh(make: () => LatencyModel, seed: string): void {
  const warm = make();
  // A model computes a step once and may keep what it computed: each figure asked of a new one.
  for (const b of batches(seed, 300)) {
    expect(warm.iterationTime_s(b)).toBe(make().iterationTime_s(b));
    expect(warm.breakdown(b)).toEqual(make().breakdown(b));
  }
}

describe('roofline step times with the per-count memo', () => {
  it('are those of a fresh model: dense, CUDA graphs (padded counts)', () => {
    expectSameAsFresh(() => roofline(), 'graphs');
  });
  it('are those of a fresh model: V0 graphs (decode-only batches padded)', () => {
    expectSameAsFresh(() => roofline({ graphs: 'v0' }), 'v0');
  });
  it('are those of a fresh model: eager, tensor-parallel (all-reduces)', () => {
    expectSameAsFresh(() => roofline({ tensor_parallel: 2, cuda_graphs: false }), 'tp2');
  });
  it('are those of a fresh model: mixture of experts', () => {
    expectSameAsFresh(() => roofline({ model: 'mixtral-8x7b', tensor_parallel: 2 }), 'moe');
  });
  it('are those of a fresh model: measured tables (sources included)', () => {
    const profile = join(import.meta.dirname, '../../profiles/h100-sxm.measured.json');
    const arch = getModel('llama-2-7b');
    const gpu = getGpu('h100-sxm');
    const make = () => buildLatencyModel({ arch, gpu, tensor_parallel: 1, weights: 'fp16', kv_cache: 'fp16', block_size: 16, cuda_graphs: true, max_num_seqs: 256, profile });
    expect(make().breakdown(batches('probe', 1)[0]).some((op) => op.source === 'measured')).toBe(true);
    expectSameAsFresh(make, 'measured');
  });
});

/**
 * Pure-decode batches (most of a run's steps), their counts repeating so the memo holds them; a
 * fifth carry speculative drafts (more tokens than sequences) and a fifth fewer emitting sequences
 * than decoding ones: shapes the fast path must time exactly as `fill` does.
 */
function decodeBatches(seed: string, count: number): BatchShape[] {
  const rng = seedrandom(seed);
  return Array.from({ length: count }, () => {
    const b = emptyBatch();
    const decodes = 1 + Math.floor(rng() * 40);
    for (let d = 0; d < decodes; d++) addDecode(b, 1 + Math.floor(rng() * 9000));
    const u = rng();
    if (u < 0.2) b.decode_tokens += 1 + Math.floor(rng() * 3 * decodes);
    else if (u < 0.4) b.emitting_seqs = Math.max(1, b.emitting_seqs - Math.floor(rng() * decodes));
    return b;
  });
}

/**
 * A warm model times a pure-decode step without filling its per-operator arrays: the total must be
 * the sum of the breakdown in OPS order to the bit (the breakdown always fills them), and a fresh
 * model's.
 */
function expectDecodeSums(make: () => LatencyModel, seed: string): void {
  const warm = make();
  const steps = decodeBatches(seed, 400);
  for (const b of steps) warm.iterationTime_s(b);
  for (const b of steps) {
    const t = warm.iterationTime_s(b);
    let sum = 0;
    for (const op of make().breakdown(b)) sum += op.time_s;
    expect(t).toBe(sum);
    expect(t).toBe(make().iterationTime_s(b));
  }
}

describe('pure-decode step times from the kept terms', () => {
  it('sum as the breakdown does: dense, CUDA graphs', () => expectDecodeSums(() => roofline(), 'dense'));
  it('sum as the breakdown does: V0 graphs, and eager steps (no graph: the arrays are filled)', () => {
    expectDecodeSums(() => roofline({ graphs: 'v0' }), 'v0');
    expectDecodeSums(() => roofline({ cuda_graphs: false, tensor_parallel: 2 }), 'eager');
  });
  it('sum as the breakdown does: tensor-parallel with graphs (all-reduce terms)', () => expectDecodeSums(() => roofline({ tensor_parallel: 4 }), 'tp4'));
  it('sum as the breakdown does: mixture of experts', () => expectDecodeSums(() => roofline({ model: 'mixtral-8x7b', tensor_parallel: 2 }), 'moe'));
  it('sum as the breakdown does: sliding-window layers', () => expectDecodeSums(() => roofline({ model: 'gemma-2-9b' }), 'window'));
  it('sum as the breakdown does: times scaled to a band edge, up and down', () => {
    expectDecodeSums(() => roofline({ time_scale: 1.1 }), 'high');
    expectDecodeSums(() => roofline({ time_scale: 0.85 }), 'low');
  });
  it('a band edge scales every operator of a mixed step by its factor, and a factor of 1 changes no bit', () => {
    const rng = seedrandom('scaled');
    const [plain, one, low] = [roofline(), roofline({ time_scale: 1 }), roofline({ time_scale: 0.85 })];
    for (let i = 0; i < 200; i++) {
      const b = emptyBatch();
      addPrefillChunk(b, 1 + Math.floor(rng() * 2048), Math.floor(rng() * 4096), rng() < 0.5);
      for (let d = Math.floor(rng() * 30); d > 0; d--) addDecode(b, 1 + Math.floor(rng() * 4000));
      expect(one.iterationTime_s(b)).toBe(plain.iterationTime_s(b));
      const base = plain.breakdown(b);
      low.breakdown(b).forEach((op, k) => expect(op.time_s).toBe(base[k].time_s * 0.85));
    }
  });
  it('sum as the breakdown does: measured tables, fp8 cache', () => {
    const profile = join(import.meta.dirname, '../../profiles/h100-sxm.measured.json');
    const arch = getModel('llama-2-7b');
    const gpu = getGpu('h100-sxm');
    for (const kv_cache of ['fp16', 'fp8'] as const) {
      expectDecodeSums(() => buildLatencyModel({ arch, gpu, tensor_parallel: 1, weights: 'fp16', kv_cache, block_size: 16, cuda_graphs: true, max_num_seqs: 256, profile }), kv_cache);
    }
  });
});
