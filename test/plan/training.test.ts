import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateTraining, resolvePlan, type TrainingEstimate } from '../../sim/plan/training.js';
import { parseTrainingObject } from '../../sim/plan/trainingSchema.js';
import { matmulParams } from '../../sim/plan/flops.js';
import { getModel } from '../../sim/model/catalog.js';
import { infersim } from '../cli/cli.js';

/*
 * Expectations are worked out by hand from config.json figures, not read back from the code.
 * Llama-2-7B: h 4096, I 11008, 32 layers, 32 heads of 128, vocab 32000, untied.
 *   per layer: q,k,v,o 4·4096² = 67,108,864; MLP 3·4096·11008 = 135,266,304; 2 norms 8,192
 *   N = 32·202,383,360 + 2·32000·4096 + 4096 = 6,738,415,616 (the published count).
 */
const N = 6_738_415_616;
const EMBEDDING = 32_000 * 4096;
const MATRICES = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008);
/** Rank 64 on all seven projections: per layer 64·(4·(4096+4096) + 3·(4096+11008)) = 4,997,120. */
const ADAPTERS_R64 = 32 * 64 * (4 * 8192 + 3 * 15104);

const dir = mkdtempSync(join(tmpdir(), 'infersim-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { model: 'llama-2-7b', method: 'full', tokens: 1e9, seq_len: 4096, hardware: { gpu: 'a100-sxm-80gb', count: 8 } };
const estimate = (over: Record<string, unknown>): TrainingEstimate => estimateTraining(resolvePlan(parseTrainingObject({ ...base, ...over })));
const states = (e: TrainingEstimate): number => e.memory_per_gpu_bytes.weights + e.memory_per_gpu_bytes.gradients + e.memory_per_gpu_bytes.optimizer_states;

describe('model states: the ZeRO paper accounting', () => {
  it('mixed-precision AdamW full fine-tuning of a 7B model holds 16 bytes per parameter before activations: 2 + 2 + 12', () => {
    const e = estimate({ zero: 0 });
    expect(e.parameters).toBe(N);
    expect(e.memory_per_gpu_bytes.weights).toBe(2 * N);
    expect(e.memory_per_gpu_bytes.gradients).toBe(2 * N);
    expect(e.memory_per_gpu_bytes.optimizer_states).toBe(12 * N);
    expect(states(e)).toBe(16 * N);
    // 108 GB of states alone: no 80 GB GPU holds it, and the advice names the optimizer states.
    expect(e.fits).toBe(false);
    expect(e.advice).toMatch(/optimizer states .*zero: 1/);
  });

  it('ZeRO-1 partitions the optimizer states, ZeRO-2 also the gradients, ZeRO-3 (and fsdp) everything, across the 8 GPUs', () => {
    const one = estimate({ zero: 1 }).memory_per_gpu_bytes;
    expect([one.weights, one.gradients, one.optimizer_states]).toEqual([2 * N, 2 * N, (12 * N) / 8]);
    const two = estimate({ zero: 2 }).memory_per_gpu_bytes;
    expect([two.weights, two.gradients, two.optimizer_states]).toEqual([2 * N, (2 * N) / 8, (12 * N) / 8]);
    const three = estimate({ zero: 3 });
    expect(states(three)).toBe((16 * N) / 8);
    expect(estimate({ zero: 'fsdp' }).memory_per_gpu_bytes).toEqual(three.memory_per_gpu_bytes);
  });

  it('8-bit Adam keeps 2 bytes of state, SGD with momentum 4, each beside the 4-byte master copy; fp32 has no master copy', () => {
    expect(estimate({ zero: 0, optimizer: 'adamw_8bit' }).memory_per_gpu_bytes.optimizer_states).toBe(6 * N);
    expect(estimate({ zero: 0, optimizer: 'sgd' }).memory_per_gpu_bytes.optimizer_states).toBe(8 * N);
    expect(states(estimate({ zero: 0, precision: 'fp32' }))).toBe(16 * N);
  });
});

describe('LoRA and QLoRA memory', () => {
  const full = estimate({ zero: 0 });
  const lora = estimate({ method: 'lora', zero: 0 });
  const qlora = estimate({ method: 'qlora', zero: 0 });

  it('LoRA keeps the frozen 16-bit base and trains only the adapters (rank 64 on all projections: 159,907,840 parameters)', () => {
    expect(lora.trainable_parameters).toBe(ADAPTERS_R64);
    expect(ADAPTERS_R64).toBe(159_907_840);
    const m = lora.memory_per_gpu_bytes;
    expect(m.weights).toBe(2 * N + 2 * ADAPTERS_R64);
    expect(m.gradients).toBe(2 * ADAPTERS_R64);
    expect(m.optimizer_states).toBe(12 * ADAPTERS_R64);
    // Below full fine-tuning by the frozen weights' gradients and optimizer states (14 bytes each), less the adapters' own 16.
    expect(states(full) - states(lora)).toBe(14 * N - 16 * ADAPTERS_R64);
    // The activations are the same: backward still runs through every layer of the base.
    expect(m.activations).toBe(full.memory_per_gpu_bytes.activations);
  });

  it("QLoRA's base is 4-bit NF4 with double-quantized constants (4.127 bits) in the linear layers, 16-bit elsewhere", () => {
    const nf4 = (4 + 8 / 64 + 32 / (64 * 256)) / 8;
    const small = N - MATRICES;
    expect(small).toBe(2 * EMBEDDING + 32 * 2 * 4096 + 4096);
    const baseBytes = qlora.memory_per_gpu_bytes.weights - 2 * ADAPTERS_R64;
    expect(baseBytes).toBeCloseTo(MATRICES * nf4 + small * 2, 0);
    expect(baseBytes / N).toBeGreaterThan(0.5);
    expect(baseBytes / N).toBeLessThan(0.6);
    expect(qlora.memory_per_gpu_bytes.optimizer_states).toBe(lora.memory_per_gpu_bytes.optimizer_states);
  });
});

describe('activations (Korthikanti et al. 2022)', () => {
  const s = 2048;
  const b = 2;
  const h = 4096;
  const logits = 4 * s * b * 32_000;
  it('s·b·h·(34 + 5·a·s/h) per layer without FlashAttention, 34·s·b·h with it', () => {
    const over = { seq_len: s, micro_batch: b, global_batch: 16, tokens: undefined, steps: 10 };
    const eager = estimate({ ...over, flash_attention: false }).memory_per_gpu_bytes.activations;
    expect(eager).toBe(32 * s * b * h * (34 + (5 * 32 * s) / h) + logits);
    expect(estimate(over).memory_per_gpu_bytes.activations).toBe(32 * s * b * h * 34 + logits);
  });

  it('full checkpointing keeps each layer input (2·s·b·h) and one layer recomputed at a time', () => {
    const e = estimate({ seq_len: s, micro_batch: b, activation_checkpointing: true });
    expect(e.memory_per_gpu_bytes.activations).toBe(32 * 2 * s * b * h + 34 * s * b * h + logits);
  });
});

describe('time from FLOPs', () => {
  // Per token, PaLM's convention: 6·N + 12·L·H·Q·T with N the parameters in matrix multiplies (the input embedding is a lookup).
  const matmul = N - EMBEDDING;
  const attention = 12 * 32 * 32 * 128 * 4096;

  it('Llama-2-7B pre-training (2 T tokens, A100-80GB) lands within 15 % of the 184,320 GPU-hours of Llama 2 Table 2', () => {
    // LLaMA-65B: N 65,285,660,672 (65,023,516,672 in matmuls), 380 tokens/s/GPU at T = 2048 on 312 TFLOP/s.
    const mfu = ((6 * 65_023_516_672 + 12 * 80 * 64 * 128 * 2048) * 380) / 312e12;
    expect(mfu).toBeCloseTo(0.4948, 4);
    const e = estimate({ tokens: 2e12, zero: 3, hardware: { gpu: 'a100-sxm-80gb', count: 2048 } });
    expect(e.mfu).toBeCloseTo(mfu, 10);
    expect(e.flops_per_token).toBe(6 * matmul + attention);
    const hours = ((6 * matmul + attention) * 2e12) / (312e12 * mfu) / 3600;
    expect(e.gpu_hours).toBeCloseTo(hours, 0);
    expect(Math.abs(e.gpu_hours / 184_320 - 1)).toBeLessThan(0.15);
    expect(e.cost_usd).toBeCloseTo(hours * 1.8, 0);
  });

  it('checkpointing adds a forward pass (8·N); LoRA drops the base weight gradients (4·N) and trains the adapters (6·A)', () => {
    expect(estimate({ activation_checkpointing: true }).flops_per_token).toBe(8 * matmul + (4 * attention) / 3);
    expect(estimate({ method: 'lora' }).flops_per_token).toBe(4 * matmul + attention + 6 * ADAPTERS_R64);
  });

  it('an MFU and a price in the file replace the defaults; time = FLOPs ÷ (GPUs × peak × MFU)', () => {
    const e = estimate({ mfu: 0.5, cost: { usd_per_gpu_hour: 2 } });
    expect(e.time_s).toBeCloseTo(((6 * matmul + attention) * 1e9) / (8 * 312e12 * 0.5), 3);
    expect(e.cost_usd).toBeCloseTo((e.time_s / 3600) * 8 * 2, 3);
    expect(e.mfu_source).toBe('given in the file');
  });

  it('checkpoint size: 16-bit weights, plus 12 bytes per trained parameter with the optimizer state', () => {
    expect(estimate({}).checkpoint_bytes).toEqual({ weights: 2 * N, with_optimizer: 14 * N });
    expect(estimate({ method: 'lora' }).checkpoint_bytes).toEqual({ weights: 2 * ADAPTERS_R64, with_optimizer: 14 * ADAPTERS_R64 });
  });
});

function file(name: string, body: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(body));
  return path;
}

describe('FLOPs of mixture-of-experts models count the experts a token visits', () => {
  it('DeepSeek-V3: 37B activated parameters per token (its report), of 671B, besides the input embedding', () => {
    // DeepSeek-V3 technical report (arXiv 2412.19437), abstract: "671B total parameters with 37B activated for each token".
    const active = matmulParams(getModel('deepseek-v3'));
    expect(Math.abs(active / 37e9 - 1)).toBeLessThan(0.03);
  });

  it('Mixtral 8x7B: 12.9B active parameters (Mistral AI\'s announcement), of 46.7B', () => {
    // mistral.ai/news/mixtral-of-experts: "46.7B total parameters but only uses 12.9B parameters per token"; the input embedding (32000 × 4096) is a lookup.
    expect(Math.abs((matmulParams(getModel('mixtral-8x7b')) + 32000 * 4096) / 12.9e9 - 1)).toBeLessThan(0.02);
  });
});

describe('infersim plan training FILE', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['unknown method', { ...base, method: 'dpo' }, /^infersim: error: method: must be one of full, lora, qlora, got "dpo"$/],
    ['rank ≤ 0', { ...base, method: 'lora', lora: { rank: 0 } }, /^infersim: error: lora\.rank: must be an integer ≥ 1/],
    ['zero stage 4', { ...base, zero: 4 }, /^infersim: error: zero: must be 0, 1, 2, 3 .*got 4$/],
    ['a GPU not in the catalog', { ...base, hardware: { gpu: 'b300', count: 8 } }, /^infersim: error: hardware\.gpu: unknown value "b300"/],
    ['neither tokens nor steps', { ...base, tokens: undefined }, /^infersim: error: tokens: required \(give tokens/],
  ];
  for (const [what, body, line] of bad) {
    it(`refuses ${what} in one line, exit 1, no stack trace`, () => {
      const r = infersim(['plan', 'training', file(`${what.replace(/\W+/g, '-')}.json`, body)]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(line);
      expect(r.stdout).toBe('');
    });
  }

  it('--json prints the estimate with the memory parts', () => {
    const r = infersim(['plan', 'training', file('ok.json', { ...base, zero: 3 }), '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as TrainingEstimate;
    expect(Object.keys(out.memory_per_gpu_bytes)).toEqual(['weights', 'gradients', 'optimizer_states', 'activations', 'buffers', 'total']);
    expect(out.memory_per_gpu_bytes.weights).toBe((2 * N) / 8);
    expect(out.fits).toBe(true);
    expect(out.gpu_hours).toBeGreaterThan(0);
  });

  it('the shipped example runs and prints the table', () => {
    const r = infersim(['plan', 'training', 'examples/training/lora-llama-3.1-8b.yaml']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const row of ['weights', 'gradients', 'optimizer states', 'activations', 'buffers/overheads', 'GPU-hours', 'cost', 'checkpoint']) {
      expect(r.stdout).toContain(row);
    }
    expect(r.stdout).toMatch(/total .*: fits/);
  });

  it('plan without a file or the subcommand says in one line what to give', () => {
    const r = infersim(['plan']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('infersim plan PLAN.yaml');
    expect(r.stderr).toContain('plan training FILE');
  });
});
