import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatProfile } from '../../../sim/cli/profile.js';
import { getGpu } from '../../../sim/hardware/catalog.js';
import { addDecode, addPrefillChunk, emptyBatch, type BatchShape } from '../../../sim/latency/batch.js';
import { buildLatencyModel } from '../../../sim/latency/build.js';
import type { LatencyModel } from '../../../sim/latency/model.js';
import { defaultProfileFor, loadProfile, PROFILES_DIR } from '../../../sim/latency/profile/load.js';
import { profileSchema } from '../../../sim/latency/profile/schema.js';
import { bandwidthScalingError, sameSilicon, TRANSFER_RULES, transferProfile } from '../../../sim/latency/profile/transfer.js';
import { getModel } from '../../../sim/model/catalog.js';

/** Llama-3.1-70B at TP4, bf16, the GPU's default profile unless one is named. */
function model70b(gpu: string, profile?: string): LatencyModel {
  return buildLatencyModel({
    arch: getModel('llama-3.1-70b'),
    gpu: getGpu(gpu),
    tensor_parallel: 4,
    weights: 'bf16',
    kv_cache: 'bf16',
    block_size: 16,
    cuda_graphs: true,
    max_num_seqs: 256,
    profile,
  });
}

function decode(seqs: number, context: number): BatchShape {
  const b = emptyBatch();
  for (let i = 0; i < seqs; i++) addDecode(b, context);
  return b;
}

function prefill(tokens: number): BatchShape {
  const b = emptyBatch();
  addPrefillChunk(b, tokens, 0, true);
  return b;
}

function ops(m: LatencyModel, batch: BatchShape): Map<string, number> {
  return new Map(m.breakdown(batch).map((op) => [op.name, op.time_s]));
}

/** Operators whose time no GPU memory figure enters: the same coefficients must give the same time. */
const UNCHANGED = ['tp_all_reduce', 'launch_overhead', 'cpu_overhead'];
/** Operators that are compute-bound in a long prefill (tensor cores), the same peak on both GPUs. */
const COMPUTE_BOUND_IN_PREFILL = ['qkv_proj', 'o_proj', 'mlp_up_gate', 'mlp_down', 'attention_prefill'];

const PAIRS = [
  { fast: 'h200-sxm', slow: 'h100-sxm', fitted: 'h100-sxm.fitted', transferred: 'h200-sxm.transferred' },
  { fast: 'a100-sxm-80gb', slow: 'a100-sxm-40gb', fitted: 'a100-sxm-80gb.fitted', transferred: 'a100-sxm-40gb.transferred' },
];

describe('transferred profiles (a fitted sibling of the same silicon)', () => {
  for (const [gpu, rule] of Object.entries(TRANSFER_RULES)) {
    it(`profiles/${gpu}.transferred.json is what \`infersim profile transfer --gpu ${gpu}\` writes`, () => {
      const shipped = readFileSync(`${PROFILES_DIR}${gpu}.transferred.json`, 'utf8');
      expect(shipped).toBe(formatProfile(transferProfile(gpu)));
    });

    it(`${gpu}: says it is transferred, names ${rule.from}, and carries its coefficients unchanged`, () => {
      const { profile } = loadProfile(`${gpu}.transferred`, gpu);
      const sibling = loadProfile(rule.from, rule.from.split('.')[0]).profile;
      expect(profile.source).toBe('transferred');
      expect(profile.provenance.transferred_from).toBe(rule.from);
      expect(profile.provenance.description).toContain(rule.from);
      expect(profile.provenance.trained_on).toBeUndefined();
      expect(profile.gpu.memory_bytes).toBe(getGpu(gpu).memory_bytes);
      expect(profile.efficiency).toEqual(sibling.efficiency);
      expect(sameSilicon(getGpu(gpu), getGpu(rule.from.split('.')[0]))).toEqual([]);
    });

    it(`${gpu}: its bands are wider than ${rule.from}'s where bandwidth enters, the same elsewhere`, () => {
      const own = loadProfile(`${gpu}.transferred`, gpu).profile.uncertainty!;
      const sibling = loadProfile(rule.from, rule.from.split('.')[0]).profile.uncertainty!;
      for (const key of ['iteration', 'gemm', 'elementwise'] as const) {
        expect(own[key]!.low).toBeLessThan(sibling[key]!.low);
        expect(own[key]!.high).toBeGreaterThan(sibling[key]!.high);
        expect(own[key]!.basis).toContain('widened');
      }
      // The rule: (1 + low)/(1 + δ) − 1 and (1 + high)(1 + δ) − 1, δ the GEMM memory-efficiency spread.
      const delta = bandwidthScalingError().gemm;
      expect(own.iteration!.low).toBeCloseTo((1 + sibling.iteration!.low) / (1 + delta) - 1, 4);
      expect(own.iteration!.high).toBeCloseTo((1 + sibling.iteration!.high) * (1 + delta) - 1, 4);
      expect([own.all_reduce!.low, own.all_reduce!.high]).toEqual([sibling.all_reduce!.low, sibling.all_reduce!.high]);
    });

    it(`${gpu}: the transferred profile is the default; the analytic one stays selectable by name`, () => {
      expect(defaultProfileFor(gpu)!.ref).toBe(`${gpu}.transferred`);
      expect(model70b(gpu).uncertainty!.basis).toMatch(new RegExp(`^${gpu}\\.transferred: `));
      expect(loadProfile(`${gpu}.analytic`, gpu).profile.source).toBe('analytic');
      expect(model70b(gpu, `${gpu}.analytic`).description).toContain(`${gpu}.analytic`);
    });
  }

  it('GPUs with their own fit keep it as the default', () => {
    expect(defaultProfileFor('h100-sxm')!.ref).toBe('h100-sxm.fitted');
    expect(defaultProfileFor('a100-sxm-80gb')!.ref).toBe('a100-sxm-80gb.fitted');
  });

  it('the bandwidth-scaling error is the spread of the fitted memory efficiencies between H100 and A100', () => {
    expect(bandwidthScalingError()).toEqual({ gemm: Number((0.8805 / 0.7831 - 1).toFixed(4)), elementwise: Number((0.498 / 0.4581 - 1).toFixed(4)) });
  });

  for (const { fast, slow, fitted, transferred } of PAIRS) {
    const ratio = getGpu(fast).hbm_bandwidth_bytes_per_s / getGpu(slow).hbm_bandwidth_bytes_per_s;
    describe(`Llama-3.1-70B TP4, ${fast} vs ${slow} (default profiles ${[fitted, transferred].join(', ')}): only memory bandwidth differs`, () => {
      const quick = model70b(fast);
      const slowModel = model70b(slow);

      for (const [seqs, context] of [[1, 1024], [1, 4096], [32, 1024], [32, 2048], [32, 4096], [128, 1024], [128, 4096]]) {
        it(`decode ${seqs} × ${context}: faster by at most the bandwidth ratio ${ratio.toFixed(3)}, all-reduce and CPU identical`, () => {
          const batch = decode(seqs, context);
          const a = ops(quick, batch);
          const b = ops(slowModel, batch);
          for (const name of UNCHANGED) expect(a.get(name), name).toBe(b.get(name));
          for (const [name, t] of b) {
            if (t === 0) continue;
            const r = t / a.get(name)!;
            expect(r, name).toBeGreaterThanOrEqual(1 - 1e-12);
            expect(r, name).toBeLessThanOrEqual(ratio + 1e-12);
          }
          const step = slowModel.iterationTime_s(batch) / quick.iterationTime_s(batch);
          expect(step).toBeGreaterThan(1.05);
          expect(step).toBeLessThanOrEqual(ratio);
        });
      }

      it('prefill of 8192 tokens: compute-bound operators within 2 %, the step differs only by its memory-bound kernels', () => {
        const batch = prefill(8192);
        const a = ops(quick, batch);
        const b = ops(slowModel, batch);
        for (const name of COMPUTE_BOUND_IN_PREFILL) expect(Math.abs(b.get(name)! / a.get(name)! - 1), name).toBeLessThanOrEqual(0.02);
        for (const name of UNCHANGED) expect(a.get(name), name).toBe(b.get(name));
        // What remains (norms, rotary, SiLU, the KV write; the LM head of one token) is memory-bound:
        // the whole difference of the step, and no part of it faster than the bandwidth ratio.
        const memoryBound = [...b.keys()].filter((n) => !COMPUTE_BOUND_IN_PREFILL.includes(n) && !UNCHANGED.includes(n));
        let difference = 0;
        for (const name of memoryBound) {
          if (b.get(name) === 0) continue;
          expect(b.get(name)! / a.get(name)!, name).toBeLessThanOrEqual(ratio + 1e-12);
          difference += b.get(name)! - a.get(name)!;
        }
        const tSlow = slowModel.iterationTime_s(batch);
        const tFast = quick.iterationTime_s(batch);
        expect(tSlow - tFast).toBeCloseTo(difference, 9);
        // The fitted elementwise term is ~12 % of the step on the slower GPU, so the step moves by a few %.
        expect(tSlow / tFast).toBeGreaterThanOrEqual(1);
        expect(tSlow / tFast).toBeLessThan(1.05);
      });
    });
  }

  it('H200 vs H100 decode 32 × 2048: the ratio a representative decode step shows', () => {
    const batch = decode(32, 2048);
    const r = model70b('h100-sxm').iterationTime_s(batch) / model70b('h200-sxm').iterationTime_s(batch);
    // 1.50 with h200-sxm.analytic (all-reduce 1.68 ms vs 5.0 ms); 1.21 with the transferred profile.
    expect(r).toBeCloseTo(1.2105, 3);
    const analytic = model70b('h100-sxm').iterationTime_s(batch) / model70b('h200-sxm', 'h200-sxm.analytic').iterationTime_s(batch);
    expect(analytic).toBeGreaterThan(1.45);
  });

  describe('the generator refuses what it cannot transfer', () => {
    it('a GPU with other compute or links', () => {
      expect(() => transferProfile('h100-pcie', 'h100-sxm.fitted')).toThrow(/--from: h100-pcie and h100-sxm differ in more than memory: tensor_flops_per_s\.bf16/);
    });
    it('a sibling that is not fitted, or the GPU itself', () => {
      expect(() => transferProfile('h200-sxm', 'h100-sxm.analytic')).toThrow(/--from: must be a fitted profile .*got "h100-sxm\.analytic"/);
      expect(() => transferProfile('h200-sxm', 'h200-sxm.analytic')).toThrow(/must be a profile of another GPU than h200-sxm/);
    });
    it('a GPU without a rule and no --from', () => {
      expect(() => transferProfile('l4')).toThrow(/--from: name the fitted profile of a GPU with the same silicon as l4/);
    });
    it('a transferred profile that names no sibling, or a sibling on another source', () => {
      const p = transferProfile('h200-sxm');
      const { transferred_from: _, ...provenance } = p.provenance;
      expect(profileSchema.safeParse({ ...p, provenance }).success).toBe(false);
      expect(profileSchema.safeParse({ ...p, source: 'fitted' }).success).toBe(false);
      expect(profileSchema.safeParse(p).success).toBe(true);
    });
  });
});
