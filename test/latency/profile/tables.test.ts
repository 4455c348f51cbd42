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
  // Decode time = 1 µs × seqs × context / 512, and a roofline following the same law: beyond the
  // table, the anchored extrapolation must reproduce the law exactly.
  const law = (seqs: number, context: number) => 1e-6 * seqs * (context / 512);
  const decodeRows = [];
  for (const seqs of [1, 4]) for (const context_tokens of [512, 2048]) {
    decodeRows.push({ dtype: 'bf16' as const, seqs, context_tokens, heads: 32, kv_heads: 8, head_dim: 128, block_size: 16, time_s: law(seqs, context_tokens) });
  }
  const decodeTables = new ProfileTables(powerLawProfile({ attention_decode: decodeRows }));

  it('decode: bilinear over (sequences, context) in log space, scaled by KV heads for another head count of the same GQA ratio', () => {
    const d = decodeTables.decodeAttention('bf16', 32, 8, 128, 16, law)!;
    expect(d(2, 1024).time_s).toBeCloseTo(4e-6, 15);
    expect(d(2, 1024).measured).toBe(true);
    // Half the KV heads read half the bytes.
    expect(decodeTables.decodeAttention('bf16', 16, 4, 128, 16, law)!(2, 1024).time_s).toBeCloseTo(2e-6, 15);
    // Another GQA ratio has no measured counterpart.
    expect(decodeTables.decodeAttention('bf16', 32, 32, 128, 16, law)).toBeUndefined();
  });

  it('decode beyond the table: clamped to the nearest measured point and scaled by the roofline, so it stays continuous (and modelled)', () => {
    const d = decodeTables.decodeAttention('bf16', 32, 8, 128, 16, law)!;
    expect(d(8, 1024)).toEqual({ time_s: expect.closeTo(law(8, 1024), 15), measured: false });
    expect(d(2, 4096)).toEqual({ time_s: expect.closeTo(law(2, 4096), 15), measured: false });
    expect(d(2, 100)).toEqual({ time_s: expect.closeTo(law(2, 100), 15), measured: false });
  });

  it('prefill: grid over (query, context ÷ query), a batch scaled by its query-key pairs, engine-like kernels first shape by shape', () => {
    const pairs = (q: number, c: number) => q * (c - q + (q + 1) / 2);
    const C = 1e-10;
    const row = { dtype: 'bf16' as const, seqs: 1, heads: 32, kv_heads: 8, head_dim: 128 };
    const prefill = [];
    for (const q of [512, 2048]) for (const ratio of [1, 2]) prefill.push({ ...row, query_tokens: q, context_tokens: q * ratio, time_s: C * pairs(q, q * ratio), kernel: 'infersim-tiled' });
    // The engine-like kernel, twice as fast, measured at one shape only.
    prefill.push({ ...row, query_tokens: 512, context_tokens: 512, time_s: (C / 2) * pairs(512, 512), kernel: 'torch-sdpa-flash' });
    const p = new ProfileTables(powerLawProfile({ attention_prefill: prefill })).prefillAttention('bf16', 32, 8, 128, (q, c) => C * pairs(q, c))!;
    expect(p(512, 512, pairs(512, 512))).toEqual({ time_s: expect.closeTo((C / 2) * pairs(512, 512), 18), measured: true });
    // Two such prompts: twice the pairs, twice the time.
    expect(p(512, 512, 2 * pairs(512, 512)).time_s).toBeCloseTo(C * pairs(512, 512), 18);
    // Our kernel's grid answers where the engine-like one has no data.
    expect(p(2048, 4096, pairs(2048, 4096))).toEqual({ time_s: expect.closeTo(C * pairs(2048, 4096), 15), measured: true });
    // A fresh 1024-token prompt lies between grid rows (the (q, context) triangle would miss it);
    // q(q+1)/2 is nearly a power law, so log interpolation is within 0.1 %.
    const mid = p(1024, 1024, pairs(1024, 1024));
    expect(mid.measured).toBe(true);
    expect(mid.time_s / (C * pairs(1024, 1024))).toBeCloseTo(1, 3);
    // A short chunk after a long cached context beside a fresh prompt: the mean chunk lies beyond
    // both grids (context ÷ query ≈ 16), so the roofline (∝ pairs here) is anchored at the edge of
    // the preferred, engine-like grid, whose kernel is twice as fast; then scaled by the true
    // pairs, with no floor at one chunk's worth.
    const mixed = pairs(4000, 4000) + pairs(16, 60016);
    const batch = p((4000 + 16) / 2, (4000 + 60016) / 2, mixed);
    expect(batch.measured).toBe(false);
    expect(batch.time_s / ((C / 2) * mixed)).toBeCloseTo(1, 10);
  });
});

describe('GEMMs across scattered shapes', () => {
  // Two measured shapes at 2× and 8× a stand-in roofline m·n·k.
  const rows = [];
  for (const m of [1, 10]) {
    rows.push({ dtype: 'fp16' as const, m, n: 1000, k: 1000, role: 'up' as const, time_s: 2 * m * 1000 * 1000 });
    rows.push({ dtype: 'fp16' as const, m, n: 4000, k: 1000, role: 'up' as const, time_s: 8 * m * 4000 * 1000 });
  }
  const t = new ProfileTables({ ...powerLawProfile(), tables: { gemm: rows } });
  const roof = (m: number, n: number, k: number) => m * n * k;

  it('the roofline times the geometric mean of the nearest shapes\' ratios, weighted by log distance', () => {
    // n = 2000 lies a factor 2 from both: equal weights, ratio √(2·8) = 4.
    const found = t.gemmSeries('fp16', 2000, 1000, 'up', roof)!;
    expect(found.series.at(10)).toBeCloseTo(4 * 10 * 2000 * 1000, 3);
    expect(found.measured).toBe(true);
  });
  it('counts as modelled outside the measured shapes, or for a role the table does not have', () => {
    expect(t.gemmSeries('fp16', 8000, 1000, 'up', roof)!.measured).toBe(false);
    expect(t.gemmSeries('fp16', 2000, 1000, 'lm_head', roof)!.measured).toBe(false);
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
    expect(() => loadProfile(join(dir, 'x.json'), 'h100-sxm')).toThrow(/hardware\.profile: .*x\.json:1:3: invalid JSON: /);
    expect(() => loadProfile('h100-sxm.nonsense', 'h100-sxm')).toThrow(/hardware\.profile: unknown value "h100-sxm\.nonsense"/);
  });

  it('checks efficiency knobs: names, types and ranges', () => {
    const withEff = (efficiency: Record<string, unknown>) => writeTemp({ ...powerLawProfile(), efficiency });
    expect(() => loadProfile(withEff({ gemm_compue: 0.7 }), 'h100-sxm')).toThrow(/efficiency\.gemm_compue: unknown knob \(did you mean "gemm_compute"\?\)/);
    expect(() => loadProfile(withEff({ gemm_compute: 70 }), 'h100-sxm')).toThrow(/efficiency\.gemm_compute: must be a fraction of the peak in \(0, 1\], got 70/);
    expect(() => loadProfile(withEff({ gemm_memory: 0 }), 'h100-sxm')).toThrow(/efficiency\.gemm_memory: must be a fraction/);
    expect(() => loadProfile(withEff({ gemm_compute: { a: 1 } }), 'h100-sxm')).toThrow(/efficiency\.gemm_compute: must be a number, got \{"a":1\}/);
    expect(() => loadProfile(withEff({ decode_attention_memory_by_block_size: 0.5 }), 'h100-sxm')).toThrow(/must map block sizes to fractions/);
    expect(() => loadProfile(withEff({ decode_attention_memory_by_block_size: { x: 0.5 } }), 'h100-sxm')).toThrow(/keys must be block sizes/);
  });

  it('bounds times and bands so that no step time can overflow or stop the clock', () => {
    const withScalars = (scalars: Record<string, unknown>) => writeTemp({ ...powerLawProfile(), scalars });
    expect(() => loadProfile(withScalars({ cpu_step_s: 1e308 }), 'h100-sxm')).toThrow(
      'hardware.profile: p.json: scalars.cpu_step_s: must be ≤ 3600 s (no operator or step cost of a profile takes an hour), got 1e+308',
    );
    expect(() => loadProfile(withScalars({ cpu_step_s: 3600 }), 'h100-sxm')).not.toThrow();
    const withEff = (efficiency: Record<string, unknown>) => writeTemp({ ...powerLawProfile(), efficiency });
    expect(() => loadProfile(withEff({ graph_replay_s: 1e300 }), 'h100-sxm')).toThrow(/efficiency\.graph_replay_s: must be ≤ 3600 s .*, got 1e\+300/);
    expect(() => loadProfile(withEff({ kernels_per_layer: 1e12 }), 'h100-sxm')).toThrow(/efficiency\.kernels_per_layer: must be ≤ 10000 .*, got 1000000000000/);
    const band = (low: number, high: number) => ({ ...powerLawProfile(), uncertainty: { iteration: { low, high } } });
    expect(() => loadProfile(writeTemp(band(-1, 0.1)), 'h100-sxm')).toThrow(/uncertainty\.iteration\.low: must be > -1 \(steps are scaled by 1 \+ low, which must stay positive\), got -1/);
    expect(() => loadProfile(writeTemp(band(-1.5, 0.1)), 'h100-sxm')).toThrow(/uncertainty\.iteration\.low: must be > -1/);
    expect(() => loadProfile(writeTemp(band(-0.2, 1e308)), 'h100-sxm')).toThrow(/uncertainty\.iteration\.high: must be ≤ 10 .*, got 1e\+308/);
    expect(() => loadProfile(writeTemp(band(-0.99, 10)), 'h100-sxm')).not.toThrow();
  });

  it('says what a profile is when the file holds something else, and lists the allowed sources', () => {
    expect(() => loadProfile(writeTemp([1, 2]), 'h100-sxm')).toThrow(/a profile is a JSON object \(see profiles\/README\.md\), got an array/);
    expect(() => loadProfile(writeTemp({ ...powerLawProfile(), source: 'measrued' }), 'h100-sxm')).toThrow(/source: .*'measured' \| 'analytic' \| 'fitted'.*got "measrued"/);
  });

  it('a base profile fills in coefficients and bands key by key; a profile cannot be its own base', () => {
    const path = writeTemp({ ...powerLawProfile(), base: 'h100-sxm.fitted', efficiency: { gemm_compute: 0.5 } });
    const loaded = loadProfile(path, 'h100-sxm');
    const fitted = loadProfile('h100-sxm.fitted', 'h100-sxm').profile;
    expect(loaded.profile.efficiency!.gemm_compute).toBe(0.5);
    expect(loaded.profile.efficiency!.gemm_memory).toBe(fitted.efficiency!.gemm_memory);
    expect(loaded.profile.uncertainty!.iteration).toEqual(fitted.uncertainty!.iteration);
    expect(() => loadProfile(writeTemp({ ...powerLawProfile(), base: 'x/y.json' }), 'h100-sxm')).toThrow(/base must name another shipped profile, got "x\/y\.json"/);
  });
});

describe('dtypes and caches on tables', () => {
  const arch = getModel('llama-3.1-8b');
  const gpu = getGpu('h100-sxm');
  const decode = [];
  for (const seqs of [1, 64]) for (const context_tokens of [128, 8192]) {
    decode.push({ dtype: 'bf16' as const, seqs, context_tokens, heads: 32, kv_heads: 8, head_dim: 128, block_size: 16, time_s: 1e-6 * seqs * (context_tokens / 128) });
  }
  const path = writeTemp(powerLawProfile({ attention_decode: decode }));
  const build = (kv: 'bf16' | 'fp8', weights: 'bf16' | 'fp16') =>
    buildLatencyModel({ arch, gpu, tensor_parallel: 1, weights, kv_cache: kv, block_size: 16, cuda_graphs: false, max_num_seqs: 256, profile: path });
  const b = emptyBatch();
  addDecode(b, 1024);
  const op = (model: ReturnType<typeof build>, name: string) => model.breakdown(b).find((o) => o.name === name)!;

  it('an fp8 KV cache reads half the bytes of the 16-bit cache the decode table measured', () => {
    expect(op(build('fp8', 'bf16'), 'attention_decode').time_s / op(build('bf16', 'bf16'), 'attention_decode').time_s).toBeCloseTo(0.5, 12);
    expect(op(build('fp8', 'bf16'), 'attention_decode').source).toBe('measured');
  });
  it('fp16 weights use a bf16 table (one tensor rate on every catalog GPU)', () => {
    const fp16 = op(build('bf16', 'fp16'), 'qkv_proj');
    expect(fp16.source).toBe('measured');
    expect(fp16.time_s).toBeCloseTo(op(build('bf16', 'bf16'), 'qkv_proj').time_s, 15);
  });
});
