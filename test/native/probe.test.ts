import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { profileSchema, type Profile } from '../../sim/latency/profile/schema.js';
import { probeBinary, runProbe } from './helpers.js';

// The standalone probe's --fake backend stands in for a GPU: its times follow fixed formulas
// (native/src/grid.cpp), so the grid, the profile writer, parts and merge are checked by hand.
const bin = probeBinary();
if (bin === undefined) console.warn('test/native/probe.test.ts: skipped: no nvcc here, so infersim-probe cannot be built');
const d = bin === undefined ? describe.skip : describe;

const dir = mkdtempSync(join(tmpdir(), 'infersim-probe-'));
/** Equal to the 6 significant digits the probe writes. */
const close = (got: number | undefined, want: number) => expect(Math.abs(got! - want) / want).toBeLessThan(1e-5);
const read = (path: string): Profile => profileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
const probe = (...args: string[]) => {
  const r = runProbe(bin!, args);
  if (r.status !== 0) throw new Error(`infersim-probe ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
};

d('infersim-probe profile (fake backend)', () => {
  let quick: Profile;
  beforeAll(() => {
    probe('profile', '--fake', '--quick', '--out', join(dir, 'quick.json'));
    quick = read(join(dir, 'quick.json'));
  });

  it('writes a profile that passes the schema, with provenance', () => {
    expect(quick.format).toBe('infersim-profile/1');
    expect(quick.source).toBe('measured');
    expect(quick.gpu).toMatchObject({ catalog: 'h100-sxm', name: 'infersim fake GPU (--fake)', sm_count: 132 });
    expect(quick.provenance).toMatchObject({ probe_version: '0.1.0', grid: 'quick' });
    expect(quick.provenance.description).toContain('Synthetic times from fixed formulas');
    expect(quick.provenance.command).toBe(`infersim-probe profile --fake --quick --out ${join(dir, 'quick.json')}`);
  });

  it('covers the quick grid: 8 m × 6 n × 5 k bf16 GEMMs and 8 × 3 × 2 fp8', () => {
    const gemm = quick.tables!.gemm!;
    expect(gemm.filter((r) => r.dtype === 'bf16')).toHaveLength(240);
    expect(gemm.filter((r) => r.dtype === 'fp8')).toHaveLength(48);
    expect(new Set(gemm.map((r) => r.m))).toEqual(new Set([1, 8, 32, 128, 512, 2048, 8192, 16384]));
    // 2 head layouts × 4 contexts × 5 batch sizes at block 16, less the two MHA shapes whose cache
    // passes 8 GiB (128 and 256 sequences at 16k), plus the GQA shapes at block 32.
    expect(quick.tables!.attention_decode!.filter((r) => r.block_size === 16)).toHaveLength(38);
    expect(quick.tables!.attention_decode!.filter((r) => r.block_size === 32)).toHaveLength(20);
    expect(quick.tables!.attention_decode!.some((r) => r.kv_heads === 32 && r.seqs === 256 && r.context_tokens === 16384)).toBe(false);
  });

  it('records the backend\'s times in each row (median, spread, kernel)', () => {
    const g = quick.tables!.gemm!.find((r) => r.dtype === 'bf16' && r.m === 128 && r.n === 4096 && r.k === 4096)!;
    // 10 µs + 2·128·4096·4096 FLOP at 5e14 FLOP/s
    const t = 1e-5 + (2 * 128 * 4096 * 4096) / 5e14;
    close(g.time_s, t);
    close(g.p10_s, 0.95 * t);
    close(g.p90_s, 1.05 * t);
    expect(g.kernel).toBe('fake');
    // rmsnorm over 64 rows of 4096 bf16: read and write 2 bytes each = 64 · 4 · 4096 bytes
    const norm = quick.tables!.elementwise!.find((r) => r.op === 'rmsnorm' && r.bytes === 64 * 4 * 4096);
    close(norm!.time_s, 3e-6 + (64 * 4 * 4096) / 2e12);
    const copy = quick.tables!.memcpy!.find((r) => r.direction === 'd2d' && r.bytes === 1 << 20)!;
    close(copy.time_s, 5e-6 + 1048576 / 1.5e12);
    expect(quick.scalars).toEqual({ kernel_launch_s: 2.5e-6 });
    const prefill = quick.tables!.attention_prefill!.find((r) => r.query_tokens === 512 && r.context_tokens === 2048)!;
    expect(prefill).toMatchObject({ heads: 32, kv_heads: 8, head_dim: 128, causal: true, seqs: 1 });
  });

  it('splits the grid into parts that merge back into the whole', () => {
    for (const k of [1, 2, 3]) probe('profile', '--fake', '--quick', '--part', `${k}/3`, '--out', join(dir, `part${k}.json`));
    const parts = [1, 2, 3].map((k) => read(join(dir, `part${k}.json`)));
    expect(parts.map((p) => p.provenance.parts)).toEqual([['1/3'], ['2/3'], ['3/3']]);
    const gemmRows = parts.map((p) => p.tables!.gemm!.length);
    expect(gemmRows.reduce((a, b) => a + b)).toBe(288);
    expect(Math.max(...gemmRows) - Math.min(...gemmRows)).toBeLessThanOrEqual(1);

    probe('merge', ...[1, 2, 3].map((k) => join(dir, `part${k}.json`)), '--out', join(dir, 'merged.json'));
    const merged = read(join(dir, 'merged.json'));
    expect(merged.provenance.parts).toEqual(['1/3', '2/3', '3/3']);
    expect(merged.provenance.grid).toBe('quick');
    const key = (r: object) => JSON.stringify(r);
    for (const table of ['gemm', 'attention_prefill', 'attention_decode', 'elementwise', 'memcpy'] as const) {
      expect(new Set(merged.tables![table]!.map(key))).toEqual(new Set(quick.tables![table]!.map(key)));
    }
    expect(merged.scalars).toEqual({ kernel_launch_s: 2.5e-6 });
  });

  it('skips a part whose output exists (resumable), unless --force', () => {
    const out = join(dir, 'resume.json');
    probe('profile', '--fake', '--quick', '--part', '1/4', '--out', out);
    const before = readFileSync(out, 'utf8');
    const mtime = statSync(out).mtimeMs;
    const again = probe('profile', '--fake', '--quick', '--part', '1/4', '--out', out);
    expect(again.stderr).toContain(`${out} exists: part 1/4 skipped`);
    expect(readFileSync(out, 'utf8')).toBe(before);
    expect(statSync(out).mtimeMs).toBe(mtime);
    const forced = probe('profile', '--fake', '--quick', '--part', '1/4', '--out', out, '--force');
    expect(forced.stderr).toContain('wrote');
  });
});

d('infersim-probe merge', () => {
  const torch = {
    format: 'infersim-profile/1',
    source: 'measured',
    gpu: { catalog: 'h100-sxm', name: 'NVIDIA H100 80GB HBM3' },
    provenance: { description: 'PyTorch SDPA flash', date: '2026-01-01T00:00:00Z', grid: 'quick' },
    tables: {
      attention_prefill: [
        { dtype: 'bf16', seqs: 1, query_tokens: 2048, context_tokens: 2048, heads: 32, kv_heads: 8, head_dim: 128, causal: true, time_s: 1.6e-4, kernel: 'torch-sdpa-flash' },
      ],
    },
  };

  it('folds engine-like attention rows in beside the probe\'s own, keeping both kernels', () => {
    probe('profile', '--fake', '--quick', '--out', join(dir, 'own.json'));
    writeFileSync(join(dir, 'torch.json'), JSON.stringify(torch));
    probe('merge', join(dir, 'own.json'), join(dir, 'torch.json'), '--out', join(dir, 'both.json'));
    const both = read(join(dir, 'both.json'));
    const at2048 = both.tables!.attention_prefill!.filter((r) => r.query_tokens === 2048 && r.context_tokens === 2048 && r.kv_heads === 8);
    expect(at2048.map((r) => r.kernel).sort()).toEqual(['fake', 'torch-sdpa-flash']);
    expect(at2048.find((r) => r.kernel === 'torch-sdpa-flash')!.time_s).toBe(1.6e-4);
    // The richer gpu block (the probe's) is kept.
    expect(both.gpu.sm_count).toBe(132);
    expect(both.provenance.description).toMatch(/^Merged by infersim-probe 0\.1\.0 from 2 files\. \[own\.json: .*\] \[torch\.json: PyTorch SDPA flash\]$/);
  });

  it('lets a later file replace a row of the same shape and kernel', () => {
    const newer = structuredClone(torch);
    newer.tables.attention_prefill[0].time_s = 1.5e-4;
    writeFileSync(join(dir, 'newer.json'), JSON.stringify(newer));
    probe('merge', join(dir, 'torch.json'), join(dir, 'newer.json'), '--out', join(dir, 'replaced.json'));
    const rows = read(join(dir, 'replaced.json')).tables!.attention_prefill!;
    expect(rows).toHaveLength(1);
    expect(rows[0].time_s).toBe(1.5e-4);
  });

  it('refuses to merge profiles of different GPUs', () => {
    const other = { ...torch, gpu: { catalog: 'a100-sxm-80gb', name: 'NVIDIA A100-SXM4-80GB' } };
    writeFileSync(join(dir, 'a100.json'), JSON.stringify(other));
    const r = runProbe(bin!, ['merge', join(dir, 'torch.json'), join(dir, 'a100.json'), '--out', join(dir, 'bad.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`infersim-probe: error: ${join(dir, 'a100.json')}: GPU a100-sxm-80gb differs from h100-sxm (pass --catalog to force)`);
  });
});

d('infersim-probe without a GPU', () => {
  it('says what is missing in one line and exits non-zero', () => {
    const r = runProbe(bin!, ['profile', '--quick', '--gpu', '99', '--out', join(dir, 'never.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^infersim-probe: (no usable CUDA driver or GPU|GPU 99 does not exist)/);
  });

  it('checks iteration arguments before touching the GPU', () => {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32, num_hidden_layers: 32, vocab_size: 128256 }));
    const none = runProbe(bin!, ['iteration', '--model', cfg, '--out', join(dir, 'it.json')]);
    expect(none.stderr.trim()).toBe('infersim-probe: error: iteration: give --prefill and/or --decode, or --shape PREFILL:DECODE');
    const bad = runProbe(bin!, ['iteration', '--model', cfg, '--shape', '2048', '--out', join(dir, 'it.json')]);
    expect(bad.stderr.trim()).toBe('infersim-probe: error: --shape: expected PREFILL:DECODE (e.g. 2048,512:1024x32 or :1024x64), got "2048"');
    const layers = runProbe(bin!, ['iteration', '--model', cfg, '--decode', '1024x4', '--layers', '33', '--out', join(dir, 'it.json')]);
    expect(layers.stderr.trim()).toBe('infersim-probe: error: --layers: must be between 1 and num_hidden_layers');
  });
});
