import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getGpu } from '../../../sim/hardware/catalog.js';
import { compareCollectives, compareCompute, errorStats, errorTable, OperatorPredictor } from '../../../sim/latency/profile/validate.js';
import { importVidur, readVidurCompute, readVidurNetwork, VIDUR_GEMM_OPS } from '../../../sim/latency/profile/vidur.js';
import type { Profile } from '../../../sim/latency/profile/schema.js';

/**
 * Issue 4's acceptance on real measurements (microsoft/vidur, MIT; ../shared/README.md): GEMM
 * timings of models NOT used in fitting are predicted within 5 % median error per operator, and
 * all-reduce within 10 %. The split is fixed here, not chosen by the code under test.
 */
const root = fileURLToPath(new URL('../../../../shared/data/measured/vidur', import.meta.url));
const present = existsSync(root);
if (!present) console.warn(`skipping Vidur validation: ${root} is absent (../shared/data is not checked out)`);

const TRAIN = ['Llama-2-7b-hf', 'CodeLlama-34b-Instruct-hf', 'Qwen-72B', 'phi-2'];
const GPUS = ['h100-sxm', 'a100-sxm-80gb'] as const;

function shipped(gpu: string): Profile {
  return JSON.parse(readFileSync(new URL(`../../../profiles/${gpu}.fitted.json`, import.meta.url), 'utf8')) as Profile;
}

describe.skipIf(!present)('held-out Vidur models', () => {
  it.each(GPUS)('%s: the training models\' tables predict every GEMM of the held-out models within 5 percent median error', (gpu) => {
    const tables = importVidur(root, gpu, { models: TRAIN });
    const heldOut = readVidurCompute(root, gpu, { exclude: TRAIN }).filter((r) => (VIDUR_GEMM_OPS as readonly string[]).includes(r.op));
    expect(new Set(heldOut.map((r) => r.model)).size).toBeGreaterThanOrEqual(2);
    const predictor = new OperatorPredictor(getGpu(gpu), tables);
    const rows = errorTable(compareCompute(heldOut, predictor)).filter((r) => r.model === 'all');
    expect(rows.map((r) => r.op).sort()).toEqual([...VIDUR_GEMM_OPS].sort());
    for (const row of rows) {
      expect(row.n).toBeGreaterThan(1000);
      expect(row.median_abs, row.op).toBeLessThanOrEqual(0.05);
    }
  });

  it.each(GPUS)('%s: the shipped fitted profile predicts all-reduce on held-out message sizes within 10 percent median error', (gpu) => {
    const net = readVidurNetwork(root, gpu).filter((c) => c.collective === 'all_reduce');
    const sizes = [...new Set(net.map((c) => c.bytes))].sort((a, b) => a - b);
    const heldOut = new Set(sizes.filter((_, i) => i % 2 === 1));
    const predictor = new OperatorPredictor(getGpu(gpu), shipped(gpu));
    const [row] = errorTable(compareCollectives(net.filter((c) => heldOut.has(c.bytes)), predictor)).filter((r) => r.model === 'all');
    expect(row.n).toBeGreaterThan(500);
    expect(row.median_abs).toBeLessThanOrEqual(0.1);
  });

  it.each(GPUS)('%s: the shipped fitted profile is in sync with the code and data: its GEMM band is the held-out p10–p90 error', (gpu) => {
    const profile = shipped(gpu);
    const band = profile.uncertainty!.gemm!;
    const heldOut = readVidurCompute(root, gpu, { exclude: TRAIN }).filter((r) => (VIDUR_GEMM_OPS as readonly string[]).includes(r.op));
    const s = errorStats(compareCompute(heldOut, new OperatorPredictor(getGpu(gpu), profile)));
    // Regenerate with `infersim profile fit` when this fails: the predictor or the data changed.
    expect(band.low).toBeCloseTo(Math.min(0, s.p10_signed), 3);
    expect(band.high).toBeCloseTo(Math.max(0, s.p90_signed), 3);
    expect(band.n).toBe(s.n);
    expect(profile.uncertainty!.iteration!.low).toBe(band.low);
    expect(profile.provenance.description).toContain(`trained on ${TRAIN.join(', ')}`);
  });
});
