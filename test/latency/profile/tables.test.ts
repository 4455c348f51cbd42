import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getGpu } from '../../../sim/hardware/catalog.js';
import { addDecode, addPrefillChunk, emptyBatch } from '../../../sim/latency/batch.js';
import { buildLatencyModel } from '../../../sim/latency/build.js';
import { LogSeries } from '../../../sim/latency/profile/interpolate.js';
import { loadProfile } from '../../../sim/latency/profile/load.js';
import { PROFILE_FORMAT, type Profile } from '../../../sim/latency/profile/schema.js';
import { ProfileTables } from '../../../sim/latency/profile/tables.js';
import { getModel } from '../../../sim/model/catalog.js';

/** A GEMM table of a pure power law t = c·m·n·k, on which log-space interpolation is exact. */
const C = 1e-15;
function powerLawProfile(extra: Partial<NonNullable<Profile['tables']>> = {}): Profile {
  const gemm = [];
  for (const n of [1024, 4096, 16384]) for (const k of [1024, 4096, 16384]) for (const m of [1, 16, 256, 4096]) gemm.push({ dtype: 'bf16' as const, m, n, k, time_s: C * m * n * k });
  return {
    format: PROFILE_FORMAT,
    source: 'measured',
    gpu: { catalog: 'h100-sxm', name: 'test H100' },
    provenance: { description: 'synthetic power-law tables for tests', date: '2026-01-01T00:00:00Z' },
    tables: { gemm, ...extra },
  };
}

function writeTemp(profile: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'infersim-profile-'));
  const path = join(dir, 'p.json');
  writeFileSync(path, JSON.stringify(profile));
  return path;
}

describe('log-log series', () => {
  it('interpolates geometrically between points and is NaN outside them', () => {
    const s = new LogSeries([
      [4, 40],
      [1, 10],
    ]);
    expect(s.at(2)).toBeCloseTo(Math.sqrt(10 * 40), 12); // log-linear midpoint = geometric mean
    expect(s.at(1)).toBeCloseTo(10, 12);
    expect(s.at(4)).toBeCloseTo(40, 12);
    expect(s.at(0.5)).toBeNaN();
    expect(s.at(5)).toBeNaN();
  });
});

describe('profile GEMM tables', () => {
  const tables = new ProfileTables(powerLawProfile());
  it('use the exact weight shape when measured', () => {
    expect(tables.gemmSeries('bf16', 4096, 1024)!.series.at(16)).toBeCloseTo(C * 16 * 4096 * 1024, 20);
    expect(tables.gemmSeries('bf16', 4096, 1024)!.series.at(64)).toBeCloseTo(C * 64 * 4096 * 1024, 20);
  });
  it('interpolate a weight shape between grid points in log space (exact for a power law)', () => {
    const s = tables.gemmSeries('bf16', 2048, 8192)!.series;
    expect(s).toBeDefined();
    expect(s.at(100) / (C * 100 * 2048 * 8192)).toBeCloseTo(1, 10);
  });
  it('have nothing outside the grid or for another dtype', () => {
    expect(tables.gemmSeries('bf16', 512, 4096)).toBeUndefined();
    expect(tables.gemmSeries('bf16', 4096, 32768)).toBeUndefined();
    expect(tables.gemmSeries('fp8', 4096, 4096)).toBeUndefined();
  });
});

describe('attention tables', () => {
  it('decode: bilinear over (sequences, context) in log space, scaled by KV heads for another head count of the same GQA ratio', () => {
    const decode = [];
    for (const seqs of [1, 4]) for (const context_tokens of [512, 2048]) {
      decode.push({ dtype: 'bf16' as const, seqs, context_tokens, heads: 32, kv_heads: 8, head_dim: 128, block_size: 16, time_s: 1e-6 * seqs * (context_tokens / 512) });
    }
    const t = new ProfileTables(powerLawProfile({ attention_decode: decode }));
    expect(t.decodeAttention('bf16', 32, 8, 128, 16)!(2, 1024)).toBeCloseTo(4e-6, 15);
    // Half the KV heads read half the bytes.
    expect(t.decodeAttention('bf16', 16, 4, 128, 16)!(2, 1024)).toBeCloseTo(2e-6, 15);
    expect(t.decodeAttention('bf16', 32, 8, 128, 16)!(8, 1024)).toBeNaN();
    // Another GQA ratio has no measured counterpart.
    expect(t.decodeAttention('bf16', 32, 32, 128, 16)).toBeUndefined();
  });
  it('prefill: engine-like kernels win over our own where both cover a shape', () => {
    const row = { dtype: 'bf16' as const, seqs: 1, heads: 32, kv_heads: 8, head_dim: 128 };
    const prefill = [
      { ...row, query_tokens: 512, context_tokens: 512, time_s: 1e-4, kernel: 'infersim-tiled' },
      { ...row, query_tokens: 512, context_tokens: 512, time_s: 5e-5, kernel: 'torch-sdpa-flash' },
    ];
    const t = new ProfileTables(powerLawProfile({ attention_prefill: prefill }));
    const pairs = 512 * (0 + 513 / 2);
    expect(t.prefillAttention('bf16', 32, 8, 128)!(512, 512, pairs)).toBeCloseTo(5e-5, 15);
    // Two such prompts: twice the query-key pairs.
    expect(t.prefillAttention('bf16', 32, 8, 128)!(512, 512, 2 * pairs)).toBeCloseTo(1e-4, 15);
  });
});

describe('a latency model on a measured profile', () => {
  const arch = getModel('llama-3.1-8b');
  const gpu = getGpu('h100-sxm');
  const path = writeTemp(powerLawProfile());
  const model = buildLatencyModel({ arch, gpu, tensor_parallel: 1, weights: 'bf16', kv_cache: 'bf16', block_size: 16, cuda_graphs: false, max_num_seqs: 256, profile: path });
  const L = arch.num_hidden_layers;
  const h = arch.hidden_size;

  it('looks GEMMs up in the table and says so; other operators are modelled', () => {
    const b = emptyBatch();
    addPrefillChunk(b, 100, 0, true);
    const ops = Object.fromEntries(model.breakdown(b).map((o) => [o.name, o]));
    // Llama-3.1-8B QKV: N = (32 + 2·8)·128 = 6144, K = 4096; O: N = K = 4096.
    expect(ops.qkv_proj.time_s / (L * C * 100 * 6144 * h)).toBeCloseTo(1, 10);
    expect(ops.qkv_proj.source).toBe('measured');
    expect(ops.o_proj.time_s / (L * C * 100 * 4096 * 4096)).toBeCloseTo(1, 10);
    expect(ops.attention_prefill.source).toBe('modelled');
    expect(ops.cpu_overhead.source).toBe('modelled');
    const total = model.breakdown(b).reduce((s, o) => s + o.time_s, 0);
    expect(model.iterationTime_s(b)).toBeCloseTo(total, 15);
  });

  it('beyond the grid, scales the roofline to meet the table at its edge (continuous, modelled)', () => {
    const at = (tokens: number) => {
      const b = emptyBatch();
      addPrefillChunk(b, tokens, 0, true);
      return Object.fromEntries(model.breakdown(b).map((o) => [o.name, o]));
    };
    const edge = at(4096).o_proj;
    const beyond = at(8192).o_proj;
    expect(edge.source).toBe('measured');
    expect(beyond.source).toBe('modelled');
    // Compute-bound at these sizes: the roofline doubles with M, so the anchored time doubles too.
    expect(beyond.time_s / edge.time_s).toBeGreaterThan(1.9);
    expect(beyond.time_s / edge.time_s).toBeLessThan(2.01);
  });

  it('a decode step of one sequence reads the M = 1 row', () => {
    const b = emptyBatch();
    addDecode(b, 1000);
    const ops = Object.fromEntries(model.breakdown(b).map((o) => [o.name, o]));
    expect(ops.mlp_down.time_s / (L * C * 1 * h * arch.intermediate_size)).toBeCloseTo(1, 10);
  });
});

describe('loading profiles', () => {
  it('names the file and the key when a profile is malformed', () => {
    const bad = powerLawProfile();
    (bad.tables!.gemm![3] as { m: number }).m = -1;
    expect(() => loadProfile(writeTemp(bad), 'h100-sxm')).toThrow(/hardware\.profile: p\.json: tables\.gemm\[3\]\.m/);
  });
  it('rejects a profile of another GPU', () => {
    expect(() => loadProfile(writeTemp(powerLawProfile()), 'a100-sxm-80gb')).toThrow(/is a profile of h100-sxm, but hardware\.gpu is a100-sxm-80gb/);
  });
  it('rejects invalid JSON and unknown names with the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infersim-profile-'));
    writeFileSync(join(dir, 'x.json'), '{ not json');
    expect(() => loadProfile(join(dir, 'x.json'), 'h100-sxm')).toThrow(/hardware\.profile: .*x\.json is not valid JSON/);
    expect(() => loadProfile('h100-sxm.nonsense', 'h100-sxm')).toThrow(/hardware\.profile: unknown value "h100-sxm\.nonsense"/);
  });
});
