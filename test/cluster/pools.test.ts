import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate } from '../../sim/index.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { arrowRows, expectInvariants, run, scenario, suiteDir } from '../helpers.js';

const rows = arrowRows;

/** Two H100s and two A100s serving one model, least-outstanding across both pools, saturated. */
const mixed = (): ScenarioInput =>
  scenario({
    cluster: { router: 'least-outstanding' },
    pools: [
      { name: 'h100', replicas: 2 },
      { name: 'a100', replicas: 2, hardware: { gpu: 'a100-sxm-80gb' } },
    ],
    cost: { usd_per_gpu_hour: { 'h100-sxm': 3, 'a100-sxm-80gb': 1.8 } },
    metrics: { uncertainty: false },
    workload: {
      arrival: { process: 'poisson', rate_per_s: 60 },
      input_tokens: { dist: 'uniform', min: 200, max: 2000 },
      output_tokens: { dist: 'uniform', min: 100, max: 400 },
      num_requests: 1500,
    },
  });

describe('pools of different GPUs behind one router', () => {
  const dir = suiteDir();
  const again = join(suiteDir(), 'again');
  const observed = run(mixed(), dir);
  const s = observed.result.summary;

  it('keeps every invariant, with every request served by one of the four replicas', () => {
    expectInvariants(observed);
    expect(s.per_replica.map((r) => r.requests.total).reduce((a, b) => a + b, 0)).toBe(1500);
  });

  it('lets each H100 replica finish more requests than each A100 replica', () => {
    const finished = s.per_replica.map((r) => r.requests.finished);
    // Replicas 0, 1 are the h100 pool's, 2, 3 the a100 pool's (pools in order, replicas in order).
    expect(Math.min(finished[0], finished[1])).toBeGreaterThan(Math.max(finished[2], finished[3]));
  });

  it('costs each pool its GPU-hours at its own price', () => {
    const hours = (2 * (s.makespan_s as number)) / 3600; // two single-GPU replicas per pool, the whole run
    const [h100, a100] = s.pools!;
    expect(h100.gpu_hours).toBeCloseTo(hours, 12);
    expect(a100.gpu_hours).toBeCloseTo(hours, 12);
    expect(h100.usd_total).toBeCloseTo(hours * 3, 12);
    expect(a100.usd_total).toBeCloseTo(hours * 1.8, 12);
    expect(s.cost.usd_total).toBeCloseTo(hours * 3 + hours * 1.8, 12);
    expect(s.cost.usd_per_gpu_hour).toBeCloseTo(2.4, 12);
  });

  it('names each row\'s pool and model, and splits the summary by pool and model', () => {
    const requests = rows(dir, 'requests.arrow');
    for (const r of requests) expect(r.pool).toBe(r.replica < 2 ? 'h100' : 'a100');
    expect(new Set(requests.map((r) => r.model))).toEqual(new Set(['llama-3.1-8b']));
    expect(s.pools!.map((p) => [p.pool, p.gpu, p.replicas, p.requests.total])).toEqual([
      ['h100', 'h100-sxm', 2, requests.filter((r) => r.pool === 'h100').length],
      ['a100', 'a100-sxm-80gb', 2, requests.filter((r) => r.pool === 'a100').length],
    ]);
    expect(s.models!.map((m) => [m.model, m.pools, m.requests.total])).toEqual([['llama-3.1-8b', ['h100', 'a100'], 1500]]);
  });

  it('conserves tokens per pool: each pool computed exactly its requests\' uncached prompts and later tokens', () => {
    expect(s.overall.preemptions).toBe(0);
    const requests = rows(dir, 'requests.arrow');
    const steps = rows(dir, 'iterations.arrow');
    for (const pool of ['h100', 'a100']) {
      const mine = new Set(requests.filter((r) => r.pool === pool).map((r) => r.replica));
      const served = requests.filter((r) => r.pool === pool && r.status === 'finished');
      const ran = steps.filter((it) => mine.has(it.replica));
      expect(ran.reduce((a, it) => a + it.prefill_tokens, 0)).toBe(served.reduce((a, r) => a + r.input_tokens - r.cached_tokens, 0));
      expect(ran.reduce((a, it) => a + it.decode_tokens, 0)).toBe(served.reduce((a, r) => a + r.output_tokens - 1, 0));
    }
  });

  it('samples each pool into cluster.arrow, whose arrivals and completions sum to the run\'s', () => {
    const requests = rows(dir, 'requests.arrow');
    const samples = rows(dir, 'cluster.arrow');
    for (const pool of ['h100', 'a100']) {
      const mine = samples.filter((r) => r.pool === pool);
      // Every 10 s, the last row at the run's end.
      mine.forEach((r, k) => expect(r.time_s).toBe(k < mine.length - 1 ? 10 * (k + 1) : observed.result.totals.end_s));
      expect(mine.reduce((a, r) => a + r.arrivals, 0)).toBe(requests.filter((r) => r.pool === pool).length);
      expect(mine.reduce((a, r) => a + r.completions, 0)).toBe(requests.filter((r) => r.pool === pool && r.status === 'finished').length);
      expect(mine.every((r) => r.ready === 2 && r.starting + r.draining + r.stopped + r.failed === 0)).toBe(true);
      expect(mine.every((r) => r.gpu_busy_fraction >= 0 && r.gpu_busy_fraction <= 1)).toBe(true);
      expect(mine[0].usd_per_hour).toBe(pool === 'h100' ? 2 * 3 : 2 * 1.8);
    }
  });

  it('writes byte-identical outputs when run again', () => {
    simulate(mixed(), { outDir: again });
    for (const file of ['requests.arrow', 'iterations.arrow', 'events.arrow', 'cluster.arrow']) {
      expect(readFileSync(join(again, file)).equals(readFileSync(join(dir, file)))).toBe(true);
    }
  });
});

describe('pool settings', () => {
  it('merge key by key over the top-level sections, each pool resolved on its own', () => {
    const setup = simulate(
      scenario({
        engine: { max_num_seqs: 64, block_size: 32 },
        pools: [{ name: 'a', replicas: 1 }, { name: 'b', replicas: 2, engine: { max_num_seqs: 8 }, hardware: { tensor_parallel: 2 } }],
        metrics: { uncertainty: false },
      }),
    ).setup;
    const [a, b] = setup.scenario.pools!;
    expect([a.engine.max_num_seqs, a.engine.block_size, a.hardware.tensor_parallel]).toEqual([64, 32, 1]);
    expect([b.engine.max_num_seqs, b.engine.block_size, b.hardware.tensor_parallel]).toEqual([8, 32, 2]);
    expect(setup.scenario.cluster.replicas).toBe(3);
  });
});

describe('bad pool input: one clear line each', () => {
  const refuse = (patch: Partial<Record<keyof ScenarioInput, unknown>>) => () => simulate(scenario({ metrics: { uncertainty: false }, ...patch }));
  it.each([
    ['a repeated pool name', { pools: [{ name: 'a', replicas: 1 }, { name: 'a', replicas: 2 }] }, 'pools[1].name: repeats pools[0].name: every pool needs its own name, got "a"'],
    [
      'a router setting on a router that does not take it',
      { pools: [{ name: 'a', replicas: 1, router: 'round-robin', balance_threshold: 4 }] },
      'pools[0].balance_threshold: is used by the prefix-affinity and session-affinity routers only (pools[0].router is round-robin), got 4',
    ],
    [
      'a price map without the pool\'s GPU',
      { pools: [{ name: 'a', replicas: 1 }], cost: { usd_per_gpu_hour: { 'a100-sxm-80gb': 2 } } },
      'pools[0] (a): cost.usd_per_gpu_hour: lists no price for GPU h100-sxm (it lists a100-sxm-80gb); give every GPU the scenario uses a price, got {"a100-sxm-80gb":2}',
    ],
    [
      'cluster.replicas beside pools',
      { cluster: { replicas: 2 }, pools: [{ name: 'a', replicas: 1 }] },
      'cluster.replicas: with pools, each pool gives its own replicas (pools[].replicas); remove cluster.replicas, got 2',
    ],
    [
      'a pool\'s engine problem names the pool',
      { pools: [{ name: 'a', replicas: 1 }, { name: 'b', replicas: 1, engine: { block_size: 7 } }] },
      /^pools\[1\] \(b\): engine\.block_size: /,
    ],
  ])('%s', (_what, patch, message) => {
    expect(refuse(patch)).toThrow(message);
  });

  it('refuses a top-level model no pool serves, when requests name none', () => {
    expect(refuse({ pools: [{ name: 'a', replicas: 1, model: 'qwen2.5-7b' }] })).toThrow(
      'model: no pool serves it, and it is the model every request asks for (pools serve qwen2.5-7b); name a served model, or give workload.models, got "llama-3.1-8b"',
    );
  });

  it('reads a price map\'s GPU names as the catalog does, and refuses an unknown one', () => {
    const run = (prices: Record<string, number>) =>
      simulate(scenario({ pools: [{ name: 'a', replicas: 1 }], cost: { usd_per_gpu_hour: prices }, metrics: { uncertainty: false } })).summary;
    expect(run({ 'H100-SXM': 2.5 }).pools![0].usd_per_gpu_hour).toBe(2.5);
    expect(() => run({ 'h100-sxn': 2.5 })).toThrow(/^pools\[0\] \(a\): cost\.usd_per_gpu_hour\.h100-sxn: /);
  });

  it('refuses an unknown key in a pool, naming the pool', () => {
    expect(refuse({ pools: [{ name: 'a', replicas: 1, gpus: 2 }] })).toThrow(/^pools\.0\.gpus|^pools\[0\]\.gpus/);
  });
});

describe('two models sharing a cluster', () => {
  const input = (): ScenarioInput =>
    scenario({
      cluster: { router: 'least-outstanding' },
      pools: [
        { name: 'big', replicas: 1, model: 'llama-3.1-70b', hardware: { tensor_parallel: 4 } },
        { name: 'small', replicas: 2 },
      ],
      metrics: { uncertainty: false },
      workload: {
        models: [{ name: 'llama-3.1-70b', weight: 1 }, { name: 'llama-3.1-8b', weight: 3 }],
        arrival: { process: 'poisson', rate_per_s: 8 },
        input_tokens: { dist: 'uniform', min: 50, max: 1500 },
        output_tokens: { dist: 'uniform', min: 1, max: 200 },
        num_requests: 800,
      },
    });
  const dir = suiteDir();
  const again = join(suiteDir(), 'again');
  const observed = run(input(), dir);
  const requests = rows(dir, 'requests.arrow');

  it('serves every request on a pool of its model, keeping every invariant', () => {
    expectInvariants(observed);
    const poolModel: Record<string, string> = { big: 'llama-3.1-70b', small: 'llama-3.1-8b' };
    expect(requests.length).toBe(800);
    for (const r of requests) expect(poolModel[r.pool]).toBe(r.model);
    const big = requests.filter((r) => r.model === 'llama-3.1-70b').length;
    // Binomial(800, 1/4): 200 ± 3.29 × √(800 × 0.25 × 0.75) = ± 40.3.
    expect(Math.abs(big - 200)).toBeLessThanOrEqual(40);
  });

  it('summarizes each model over its pools, and each pool', () => {
    const s = observed.result.summary;
    expect(s.models!.map((m) => [m.model, m.pools, m.requests.total])).toEqual([
      ['llama-3.1-8b', ['small'], requests.filter((r) => r.model === 'llama-3.1-8b').length],
      ['llama-3.1-70b', ['big'], requests.filter((r) => r.model === 'llama-3.1-70b').length],
    ]);
    const [big, small] = s.pools!;
    expect([big.gpus, small.gpus]).toEqual([4, 2]);
    expect(s.cost.gpus).toBe(6);
  });

  it('writes byte-identical outputs when run again', () => {
    simulate(input(), { outDir: again });
    for (const file of ['requests.arrow', 'iterations.arrow', 'events.arrow', 'summary.json']) {
      const a = readFileSync(join(again, file));
      const b = readFileSync(join(dir, file));
      // summary.json differs only in wall-clock figures.
      if (file === 'summary.json') expect(JSON.parse(String(a)).overall).toEqual(JSON.parse(String(b)).overall);
      else expect(a.equals(b)).toBe(true);
    }
  });

  it('refuses a generated model no pool serves', () => {
    const bad = input();
    bad.workload.models = [{ name: 'qwen2.5-7b', weight: 1 }];
    expect(() => simulate(bad)).toThrow('workload.models[0].name: no pool serves this model (pools serve llama-3.1-70b, llama-3.1-8b), got "qwen2.5-7b"');
  });
});

describe('prompt-length routing between pools', () => {
  it('sends prompts of long_prompt_tokens or more to the named pool, the rest to the others', () => {
    const dir = suiteDir();
    simulate(
      scenario({
        cluster: { router: 'prompt-length', long_prompt_tokens: 1000, long_prompt_pool: 'documents' },
        pools: [
          { name: 'documents', replicas: 1, engine: { max_num_batched_tokens: 16384 } },
          { name: 'chat', replicas: 2 },
        ],
        metrics: { uncertainty: false },
      }),
      { outDir: dir },
    );
    const requests = rows(dir, 'requests.arrow');
    expect(requests.length).toBe(200);
    for (const r of requests) expect(r.pool).toBe(r.input_tokens >= 1000 ? 'documents' : 'chat');
    // Uniform 50..2000 prompts: about half are long, so both pools served some.
    expect(new Set(requests.map((r) => r.pool))).toEqual(new Set(['documents', 'chat']));
  });

  it('refuses a long-prompt pool with no peer of its model for short prompts', () => {
    const pools = [{ name: 'a', replicas: 1 }, { name: 'b', replicas: 1, model: 'qwen2.5-7b' }];
    expect(() => simulate(scenario({ pools, cluster: { router: 'prompt-length', long_prompt_pool: 'b' } }))).toThrow(
      'cluster.long_prompt_pool: names the only pool serving qwen2.5-7b: prompt-length needs another pool of that model for the shorter prompts, got "b"',
    );
  });

  it('refuses a long_prompt_pool that names no pool, and prompt-length without pools', () => {
    const pools = [{ name: 'a', replicas: 1 }, { name: 'b', replicas: 1 }];
    expect(() => simulate(scenario({ pools, cluster: { router: 'prompt-length', long_prompt_pool: 'c' } }))).toThrow(
      'cluster.long_prompt_pool: must name the pool long prompts go to, one of a, b, got "c"',
    );
    expect(() => simulate(scenario({ cluster: { router: 'prompt-length' } }))).toThrow(
      'cluster.router: prompt-length sends long prompts to a pool of their own: list the pools in pools, got "prompt-length"',
    );
  });
});
