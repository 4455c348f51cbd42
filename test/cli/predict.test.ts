import { describe, expect, it } from 'vitest';
import { batchOf, parseDecode, parsePrefill } from '../../sim/cli/batchSpec.js';
import { integerFlag, numberFlag } from '../../sim/cli/flags.js';
import { GPU_CATALOG } from '../../sim/hardware/catalog.js';
import { readFileSync } from 'node:fs';
import { decodeAttentionEfficiency, DEFAULT_EFFICIENCY, type LatencyEfficiency } from '../../sim/latency/efficiency.js';
import { MODEL_CATALOG } from '../../sim/model/catalog.js';
import { kvBytesPerToken, weightBytesPerGpu } from '../../sim/model/derived.js';
import { infersim } from './cli.js';

interface Prediction {
  total_s: number;
  ops: { name: string; time_s: number; source: string }[];
  band: { low_s: number; high_s: number } | null;
}

const predict = (args: string[]): Prediction => {
  const r = infersim(['predict', ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Prediction;
};

describe('batch specs', () => {
  it('reads prompt lengths and decode contexts with counts', () => {
    expect(parsePrefill('2048,512')).toEqual([2048, 512]);
    expect(parseDecode('1024x3,512')).toEqual([1024, 1024, 1024, 512]);
    const b = batchOf([2048, 512], parseDecode('1024x32'));
    expect(b).toMatchObject({ prefill_seqs: 2, prefill_tokens: 2560, decode_seqs: 32, decode_tokens: 32, decode_context_tokens: 32 * 1024, emitting_seqs: 34 });
  });
  it.each([
    ['--prefill', () => parsePrefill('2048,,512'), '--prefill: must be prompt lengths as positive integers separated by commas (e.g. 2048,512), got "2048,,512"'],
    ['--prefill', () => parsePrefill('0'), '--prefill: must be prompt lengths'],
    ['--decode', () => parseDecode('1024x'), '--decode: must be contexts, each optionally ×count, separated by commas (e.g. 1024x32,512), got "1024x"'],
    ['--decode', () => parseDecode('1024x0'), '--decode: must be contexts'],
    ['--decode', () => parseDecode('1x60000,1x60000'), '--decode: describes 120,000 sequences; at most 100,000 fit a batch, got "1x60000,1x60000"'],
    ['--prefill', () => parsePrefill('1e3'), '--prefill: must be prompt lengths'],
    ['--prefill', () => parsePrefill('2147483648'), '--prefill: a sequence of 2147483648 tokens is more than 2147483647'],
  ])('rejects a bad %s', (_flag, parse, message) => {
    expect(parse).toThrow(message);
  });
});

describe('numeric flags (sim/cli/flags.ts)', () => {
  it('read typed text as plain decimal and pass defaults through', () => {
    expect(integerFlag('--tp', '4', { min: 1 })).toBe(4);
    expect(integerFlag('--tp', ' +4 ', { min: 1 })).toBe(4);
    expect(integerFlag('--tp', 2, { min: 1 })).toBe(2);
    expect(integerFlag('--tp', undefined, { min: 1 })).toBeUndefined();
    expect(numberFlag('--cpu-step-s', '2.5e-3', { min: 0 })).toBe(0.0025);
    expect(numberFlag('--cpu-step-s', '.5', { min: 0 })).toBe(0.5);
  });

  it.each([
    [() => integerFlag('--tp', 'abc', { min: 1, max: 8 }), '--tp: must be an integer ≥ 1 and ≤ 8, got "abc"'],
    [() => integerFlag('--tp', '1e3', { min: 1 }), '--tp: must be an integer ≥ 1, got "1e3"'],
    [() => integerFlag('--tp', '0x10'), '--tp: must be an integer, got "0x10"'],
    [() => integerFlag('--tp', '99999999999999999999'), '--tp: must be an integer, got "99999999999999999999"'],
    [() => integerFlag('--tp', ['1', '2']), '--tp: given 2 times; give it once (an integer), got "1 2"'],
    [() => numberFlag('--x', 'Infinity'), '--x: must be a number, got "Infinity"'],
    [() => numberFlag('--x', ''), '--x: must be a number, got ""'],
    [() => numberFlag('--x', '0', { min: 0, minExclusive: true, unit: 'seconds' }), '--x: must be a number of seconds > 0, got "0"'],
  ])('refuse bad text, echoing it: %#', (parse, message) => {
    expect(parse).toThrow(message);
  });
});

describe('infersim predict', () => {
  it.each(['h100-sxm.fitted', 'h100-sxm.analytic'])(
    'Llama-2-7B fp16 on H100 (%s), one decode at 1024: within 15 percent of the memory roofline at the profile\'s efficiencies plus overheads; breakdown sums to the total',
    (profile) => {
      const p = predict(['--model', 'llama-2-7b', '--gpu', 'h100-sxm', '--dtype', 'fp16', '--decode', '1024', '--profile', profile]);
      const sum = p.ops.reduce((s, op) => s + op.time_s, 0);
      expect(sum).toBeCloseTo(p.total_s, 12);
      // Hand-built expectation: every weight and the 1024-token KV read once from HBM at the
      // profile's bandwidth efficiencies, plus the overhead terms the breakdown names.
      const file = JSON.parse(readFileSync(new URL(`../../profiles/${profile}.json`, import.meta.url), 'utf8')) as { efficiency: Partial<LatencyEfficiency> };
      const eff = { ...DEFAULT_EFFICIENCY, ...file.efficiency } as LatencyEfficiency;
      const arch = MODEL_CATALOG['llama-2-7b'];
      const hbm = GPU_CATALOG['h100-sxm'].hbm_bandwidth_bytes_per_s;
      const weights_s = weightBytesPerGpu(arch, 2, 1, 1) / (hbm * eff.gemm_memory);
      const kv_s = (kvBytesPerToken(arch, 2) * 1024) / (hbm * decodeAttentionEfficiency(eff, 16));
      const overhead_s = p.ops.filter((op) => /overhead/.test(op.name)).reduce((s, op) => s + op.time_s, 0);
      expect(overhead_s).toBeGreaterThan(0);
      // Fixed per-kernel floors are overhead terms too: 4 GEMMs, 5 elementwise kernels and the
      // attention kernel per layer, plus the LM head's GEMM.
      const floors_s = arch.num_hidden_layers * (4 * eff.gemm_kernel_floor_s + 5 * eff.elementwise_kernel_floor_s + eff.attention_kernel_floor_s) + eff.gemm_kernel_floor_s;
      const expected = weights_s + kv_s + overhead_s + floors_s;
      expect(Math.abs(p.total_s - expected) / expected).toBeLessThan(0.15);
      // Coefficient profiles have no tables: every operator is modelled.
      expect(p.ops.every((op) => op.source === 'modelled')).toBe(true);
      // The profile's iteration band, applied to the total.
      const band = (file as unknown as { uncertainty: { iteration: { low: number; high: number } } }).uncertainty.iteration;
      expect(p.band!.low_s).toBeCloseTo(p.total_s * (1 + band.low), 15);
      expect(p.band!.high_s).toBeCloseTo(p.total_s * (1 + band.high), 15);
    },
  );

  it('grows with the batch: a prefill of 2048 + 512 tokens and 32 decodes costs more than one decode', () => {
    const one = predict(['--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--decode', '1024']);
    const big = predict(['--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--prefill', '2048,512', '--decode', '1024x32']);
    expect(big.total_s).toBeGreaterThan(one.total_s);
    expect(big.ops.find((op) => op.name === 'attention_prefill')!.time_s).toBeGreaterThan(0);
  });

  it('times the step through its pipeline stages with --pp', () => {
    const r = infersim(['predict', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm', '--tp', '4', '--pp', '2', '--decode', '64x1000', '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    const p = out.pipeline;
    expect(p.stages).toBe(2);
    expect(p.link).toBe('nvlink');
    const op = (name: string) => out.ops.find((o: { name: string }) => o.name === name).time_s;
    expect(p.host_s).toBeCloseTo(op('cpu_overhead'), 12);
    expect(p.last_s).toBeCloseTo(op('lm_head_sampler'), 12);
    // Alone, the batch crosses host, both stages, one send and the LM head: the whole step plus a send and a second graph launch.
    expect(p.through_s).toBeCloseTo(out.total_s + p.send_s + op('launch_overhead'), 12);
    expect(p.interval_s).toBeLessThan(p.through_s);
  });

  it('prints a table by default', () => {
    const r = infersim(['predict', '--model', 'llama-2-7b', '--gpu', 'a100-sxm-80gb', '--tp', '2', '--decode', '512x8']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^total\s+\d+\.\d+$/m);
    expect(r.stdout).toMatch(/mlp_up_gate/);
  });

  it.each([
    [['--model', 'llama-2-7b', '--gpu', 'h100', '--decode', '1'], /^infersim: error: --gpu: unknown value "h100" \(did you mean "h100-sxm"\?\)/],
    [['--model', 'llama-2-7b', '--gpu', 'h100-sxm', '--tp', '3', '--decode', '1'], /^infersim: error: --tp: must divide num_attention_heads \(32\)/],
    [['--model', 'llama-2-7b', '--gpu', 'h100-sxm', '--pp', '33', '--decode', '1'], /^infersim: error: --pp: must be <= num_hidden_layers \(32\)/],
    [['--model', 'llama-2-7b', '--gpu', 'h100-sxm', '--dtype', 'fp4', '--decode', '1'], /^infersim: error: --dtype: must be one of fp32, fp16, bf16, fp8, int8, int4, got "fp4"/],
    [['--model', 'llama-2-7b', '--gpu', 'h100-sxm'], /^infersim: error: --prefill: give --prefill and\/or --decode: the batch is empty/],
  ])('rejects bad input in one line: %j', (args, message) => {
    const r = infersim(['predict', ...args]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
