import { describe, expect, it } from 'vitest';
import { latencyFloor, leastLength } from '../../sim/plan/bounds.js';
import {
  candidates, cannotRun, deploymentScenario, priceOf, priceSource, simulateDeployment, sloVerdict, steadyState,
  type ParetoPoint,
} from '../../sim/plan/deployment.js';
import { paretoFront } from '../../sim/plan/deploymentDescribe.js';
import { parseDeploymentObject, spareReplicas, type DeploymentInput } from '../../sim/plan/deploymentSchema.js';
import { planDeployment } from '../../sim/plan/deploymentSearch.js';
import { PRICE_PRESETS } from '../../sim/plan/prices.js';
import { parseScenarioObject } from '../../sim/setup/load.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { runSimulation } from '../../sim/cluster/simulate.js';

const base = {
  model: 'llama-3.1-8b',
  workload: { rate_per_s: 2, input_tokens: { dist: 'uniform', min: 200, max: 800 }, output_tokens: 64 },
  slo: { ttft_ms: 1000, tpot_ms: 120 },
  search: { gpus: ['h100-sxm'], tensor_parallel: [1] },
};
const input = (patch: Record<string, unknown> = {}): DeploymentInput => parseDeploymentObject({ ...base, ...patch });
const h100 = { model: 'llama-3.1-8b', gpu: 'h100-sxm', tensor_parallel: 1, precision: 'bf16' as const };

describe('the search space', () => {
  it('is the product of models, GPUs, TP degrees, precisions and engine knobs, in the plan\'s order', () => {
    const plan = input({
      model: ['llama-3.1-8b', 'qwen2.5-7b'],
      search: { gpus: ['l4', 'h100-sxm'], tensor_parallel: [1, 2], max_num_seqs: [64, 256], max_num_batched_tokens: [512] },
    });
    const cs = candidates(plan);
    expect(cs).toHaveLength(2 * 2 * 2 * 2);
    expect(cs[0]).toEqual({ model: 'llama-3.1-8b', gpu: 'l4', tensor_parallel: 1, precision: 'bf16', max_num_seqs: 64, max_num_batched_tokens: 512 });
    expect(cs[15]).toEqual({ model: 'qwen2.5-7b', gpu: 'h100-sxm', tensor_parallel: 2, precision: 'bf16', max_num_seqs: 256, max_num_batched_tokens: 512 });
    // Unsearched knobs stay the engine's defaults and absent from the candidate.
    expect(Object.keys(candidates(input())[0])).toEqual(['model', 'gpu', 'tensor_parallel', 'precision']);
  });

  it('a searched engine knob reaches the scenario the candidate runs', () => {
    const plan = input({ search: { gpus: ['h100-sxm'], tensor_parallel: [1], max_num_seqs: [48], max_num_batched_tokens: [1024] } });
    const setup = resolveScenario(parseScenarioObject(deploymentScenario(plan, candidates(plan)[0], 1)));
    expect(setup.scenario.engine.max_num_seqs).toBe(48);
    expect(setup.scenario.engine.max_num_batched_tokens).toBe(1024);
  });
});

describe('latency floors prune without simulating', () => {
  it('the least length each distribution can draw', () => {
    expect(leastLength(7)).toBe(7);
    expect(leastLength({ dist: 'uniform', min: 200, max: 800 })).toBe(200);
    expect(leastLength({ dist: 'lognormal', mean: 100, sigma: 1 })).toBe(1);
    expect(leastLength({ dist: 'lognormal', mean: 100, sigma: 1, min: 30 })).toBe(30);
  });

  it('the floor lies below every request\'s TTFT, TPOT and E2E, on an idle replica and under load', () => {
    for (const rate_per_s of [0.5, 20]) {
      const plan = input({ workload: { rate_per_s, input_tokens: { dist: 'uniform', min: 200, max: 800 }, output_tokens: { dist: 'uniform', min: 2, max: 64 } } });
      const setup = resolveScenario(parseScenarioObject(deploymentScenario(plan, h100, 1)));
      const floor = latencyFloor(setup, plan);
      expect(floor.ttft_s).toBeGreaterThan(0);
      expect(floor.e2e_s).toBeCloseTo(floor.ttft_s + floor.tpot_s, 12);
      const least = { ttft: Infinity, tpot: Infinity, e2e: Infinity };
      runSimulation(setup, {
        onRequest: (o) => {
          const t = o.token_times_s;
          least.ttft = Math.min(least.ttft, t[0] - o.arrival_s);
          least.tpot = Math.min(least.tpot, (o.finish_s - t[0]) / (t.length - 1));
          least.e2e = Math.min(least.e2e, o.finish_s - o.arrival_s);
        },
      });
      expect(least.ttft).toBeGreaterThanOrEqual(floor.ttft_s);
      expect(least.tpot).toBeGreaterThanOrEqual(floor.tpot_s);
      expect(least.e2e).toBeGreaterThanOrEqual(floor.e2e_s);
    }
  });

  it('a per-request TPOT target does not bind when a request may have one token (it has no TPOT)', () => {
    const plan = input({ workload: { ...base.workload, output_tokens: { dist: 'uniform', min: 1, max: 4 } }, slo: { tpot_ms: 0.5 } });
    expect(cannotRun(plan, h100)).toBeUndefined();
    expect(cannotRun(input({ slo: { tpot_ms: 0.5 } }), h100)).toMatch(/^tpot ≤ 0\.5 ms is out of reach/);
  });

  it('a TPOT target below one decode step is ruled out in one line, and the plan says none can meet it', () => {
    const plan = input({ slo: { tpot_p95_ms: 0.5 } });
    expect(cannotRun(plan, h100)).toMatch(/^tpot_p95 ≤ 0\.5 ms is out of reach: the shortest request alone on an idle replica takes \d+\.\d ms$/);
    const result = planDeployment(plan);
    expect(result.recommended).toBeNull();
    expect(result.pruned[0].reason).toMatch(/out of reach/);
    // The SLO's fault, not the model's: it runs on this GPU.
    expect(result.verdict).toMatch(/^no candidate meets the SLO within max_replicas 64: 1 of them out of reach even alone on an idle replica \(tpot_p95 ≤ 0\.5 ms/);
  });
});

describe('policy', () => {
  it('criticality maps to spares (low none, medium N+1, high N+2); redundancy overrides it', () => {
    expect(spareReplicas(input())).toBe(0);
    expect(spareReplicas(input({ policy: { criticality: 'medium' } }))).toBe(1);
    expect(spareReplicas(input({ policy: { criticality: 'high' } }))).toBe(2);
    expect(spareReplicas(input({ policy: { criticality: 'high', redundancy: 'none' } }))).toBe(0);
    expect(spareReplicas(input({ policy: { redundancy: 'n+1' } }))).toBe(1);
  });

  it('spares are paid for but not counted on: the deployment is the SLO\'s replicas plus the spares', () => {
    const plain = planDeployment(input()).recommended!;
    const spared = planDeployment(input({ policy: { redundancy: 'n+2' } })).recommended!;
    expect(spared.slo_replicas).toBe(plain.replicas);
    expect(spared.replicas).toBe(plain.replicas + 2);
    expect(spared.gpus).toBe(spared.replicas);
    expect(spared.usd_per_hour).toBeCloseTo((plain.usd_per_hour * (plain.replicas + 2)) / plain.replicas, 9);
    expect(spared.predicted).toEqual(plain.predicted);
  });

  it('target_utilization sizes for the peak over it; --thorough runs 3× as long', () => {
    const plan = input({ workload: { ...base.workload, rate_per_s: 4, peak_factor: 1.5 }, policy: { target_utilization: 0.75 } });
    expect(steadyState(plan).rate).toBeCloseTo(8, 12);
    expect(steadyState(plan).requests).toBe(480);
    expect(steadyState(plan, true).requests).toBe(1440);
    expect(steadyState(plan, true).warmup_s).toBeCloseTo(3 * steadyState(plan).warmup_s, 12);
  });
});

describe('the emitted scenario', () => {
  it('is the deployment as it runs: its model, knobs and price, every replica, at the peak rate without the headroom', () => {
    const plan = input({
      model: ['qwen2.5-7b', 'llama-3.1-8b'],
      workload: { ...base.workload, rate_per_s: 3, peak_factor: 1.5 },
      search: { gpus: ['h100-sxm'], tensor_parallel: [1], max_num_seqs: [64] },
      policy: { target_utilization: 0.5, redundancy: 'n+2' },
      cost: { preset: 'aws' },
    });
    const c = candidates(plan)[1];
    const emitted = deploymentScenario(plan, c, 3, { deployed: true });
    expect(emitted.model).toBe('llama-3.1-8b');
    expect(emitted.cluster).toEqual({ replicas: 3 });
    expect(emitted.engine).toMatchObject({ max_num_seqs: 64 });
    expect(emitted.workload.arrival).toEqual({ process: 'poisson', rate_per_s: 4.5 });
    expect(emitted.cost).toEqual({ usd_per_gpu_hour: PRICE_PRESETS.aws.usd_per_gpu_hour['h100-sxm'] });
    // The search itself sizes for the peak over the target utilization.
    expect(deploymentScenario(plan, c, 1).workload.arrival).toEqual({ process: 'poisson', rate_per_s: 9 });
  });
});

describe('ITL targets', () => {
  it('an ITL p99 target is judged on the run\'s ITL p99', () => {
    const o = simulateDeployment(input(), h100, 1).overall;
    const itl = o.itl_s.p99! * 1000;
    expect(sloVerdict(input({ slo: { itl_p99_ms: itl * 1.01 } }), o)).toEqual({ ok: true });
    expect(sloVerdict(input({ slo: { itl_p99_ms: itl * 0.99 } }), o)).toEqual({ ok: false, why: `itl_p99 ${itl.toFixed(0)} ms > ${itl * 0.99} ms` });
  });
});

describe('prices', () => {
  it('a preset prices each GPU it lists, the plan file overrides it, and the source is stated with its date', () => {
    const aws = PRICE_PRESETS.aws;
    const plan = input({ search: { gpus: ['h100-sxm', 'l4'] }, cost: { preset: 'aws', usd_per_gpu_hour: { l4: 0.5 } } });
    expect(priceOf(plan, 'h100-sxm')).toBe(aws.usd_per_gpu_hour['h100-sxm']);
    expect(priceOf(plan, 'l4')).toBe(0.5);
    expect(priceSource(plan)).toBe(`the plan file, over preset aws: ${aws.describe}, as of ${aws.as_of}`);
    expect(priceSource(input())).toMatch(/GPU catalog/);
  });

  it('a preset without a price for a GPU searched is refused, naming the GPU', () => {
    const missing = Object.entries(PRICE_PRESETS).find(([, p]) => p.usd_per_gpu_hour.l4 === undefined);
    expect(missing).toBeDefined();
    const [name, preset] = missing!;
    expect(() => input({ search: { gpus: ['l4'] }, cost: { preset: name } })).toThrow(`cost.preset: ${name} (as of ${preset.as_of}) has no price for l4; give it in cost.usd_per_gpu_hour`);
    expect(() => input({ cost: { preset: 'oracle' } })).toThrow(/cost\.preset: must be one of aws, /);
    expect(() => input({ cost: { preset: 'aws', usd_per_gpu_hour: { h100sxm: 1 } } })).toThrow(/cost\.usd_per_gpu_hour\.h100sxm: names no GPU in the catalog/);
  });

  it('every model of a list is known and listed once', () => {
    expect(() => input({ model: ['llama-3.1-8b', 'nosuch-model'] })).toThrow(/^model\[1\]: /);
    expect(() => input({ model: ['llama-3.1-8b', 'llama-3.1-8b'] })).toThrow('model[1]: repeats model[0]: list each model once');
  });
});

describe('the Pareto front', () => {
  const point = (usd_per_hour: number, ttft_p99_s: number | null): ParetoPoint => ({
    ...h100, replicas: 1, usd_per_hour, ttft_p99_s, tpot_p95_s: null, e2e_p99_s: null,
  });
  it('keeps the points nothing beats on both cost and TTFT p99, cheapest first', () => {
    const front = paretoFront([point(3, 0.2), point(1, 0.5), point(2, 0.5), point(2, 0.3), point(4, 0.2), point(5, 0.1), point(1, null)]);
    expect(front.map((p) => [p.usd_per_hour, p.ttft_p99_s])).toEqual([[1, 0.5], [2, 0.3], [3, 0.2], [5, 0.1]]);
  });
});
