import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchOf } from '../../sim/cli/batchSpec.js';
import { getGpu } from '../../sim/hardware/catalog.js';
import { buildLatencyModel } from '../../sim/latency/build.js';
import { getModel } from '../../sim/model/catalog.js';
import { engineDefaults } from '../../sim/setup/resolve.js';
import { infersim } from '../cli/cli.js';

// A probe file as `infersim-probe iteration` writes it, with hand-picked measured times.
const probeDoc = (layers: number) => ({
  format: 'infersim-iteration-probe/1',
  probe_version: '0.1.0',
  gpu: { catalog: 'h100-sxm', name: 'NVIDIA H100 80GB HBM3' },
  model: {
    name: 'meta-llama/Llama-3.1-8B', hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32,
    num_key_value_heads: 8, head_dim: 128, num_hidden_layers: 32, vocab_size: 128256,
  },
  layers_timed: layers,
  dtype: 'bf16',
  block_size: 16,
  shapes: [
    { prefill: [], decode: [{ context_tokens: 1024, seqs: 1 }], time_s: 0.0066 },
    { prefill: [2048], decode: [{ context_tokens: 1024, seqs: 32 }], time_s: 0.05 },
  ],
});

/** The GPU part of the prediction (everything but cpu_overhead), computed here independently. */
function predictGpu(layers: number, prefill: number[], decode: number[]): number {
  const arch = getModel('llama-3.1-8b');
  arch.num_hidden_layers = layers;
  const gpu = getGpu('h100-sxm');
  const model = buildLatencyModel({
    arch, gpu, tensor_parallel: 1, weights: 'bf16', kv_cache: 'bf16', block_size: 16, cuda_graphs: true,
    max_num_seqs: engineDefaults(gpu, 'server').max_num_seqs, profile: 'h100-sxm.analytic',
  });
  const ops = model.breakdown(batchOf(prefill, decode));
  return ops.reduce((s, op) => s + op.time_s, 0) - ops.find((op) => op.name === 'cpu_overhead')!.time_s;
}

interface Out {
  shapes: { label: string; tokens: number; measured_s: number; predicted_s: number; error: number }[];
  median_abs_error: number;
  max_abs_error: number;
}

describe('infersim validate --probe', () => {
  const dir = mkdtempSync(join(tmpdir(), 'infersim-validate-'));

  it.each([32, 4])('compares each shape with the prediction (%i layers timed)', (layers) => {
    const file = join(dir, `probe${layers}.json`);
    writeFileSync(file, JSON.stringify(probeDoc(layers)));
    const r = infersim(['validate', '--probe', file, '--profile', 'h100-sxm.analytic', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    const p1 = predictGpu(layers, [], [1024]);
    const p2 = predictGpu(layers, [2048], Array(32).fill(1024));
    expect(out.shapes.map((s) => [s.label, s.tokens, s.measured_s])).toEqual([
      ['decode 1024x1', 1, 0.0066],
      ['prefill 2048 + decode 1024x32', 2080, 0.05],
    ]);
    expect(out.shapes[0].predicted_s).toBeCloseTo(p1, 12);
    expect(out.shapes[1].predicted_s).toBeCloseTo(p2, 12);
    const e1 = (p1 - 0.0066) / 0.0066;
    const e2 = (p2 - 0.05) / 0.05;
    expect(out.shapes[0].error).toBeCloseTo(e1, 12);
    expect(out.shapes[1].error).toBeCloseTo(e2, 12);
    expect(out.median_abs_error).toBeCloseTo((Math.abs(e1) + Math.abs(e2)) / 2, 12);
    expect(out.max_abs_error).toBeCloseTo(Math.max(Math.abs(e1), Math.abs(e2)), 12);
  });

  it('prints a table with per-shape error and a median/max line', () => {
    const file = join(dir, 'probe32.json');
    writeFileSync(file, JSON.stringify(probeDoc(32)));
    const r = infersim(['validate', '--probe', file, '--profile', 'h100-sxm.analytic']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[1]).toMatch(/^shape\s+tokens\s+measured ms\s+predicted ms\s+error$/);
    expect(lines[2]).toMatch(/^decode 1024x1\s+1\s+6\.600\s+\d+\.\d{3}\s+[+-]\d+\.\d %$/);
    expect(lines[4]).toMatch(/^median \|error\| \d+\.\d %, max \|error\| \d+\.\d % over 2 shapes$/);
  });

  it('rejects a file that is not iteration-probe output in one line', () => {
    const file = join(dir, 'profile.json');
    writeFileSync(file, JSON.stringify({ format: 'infersim-profile/1' }));
    const r = infersim(['validate', '--probe', file]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`infersim: error: --probe: ${file} is not infersim-iteration-probe/1 output (format: Invalid literal value, expected "infersim-iteration-probe/1")`);
  });
});
