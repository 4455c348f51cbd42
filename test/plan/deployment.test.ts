import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { simulateDeployment, sloVerdict, type DeploymentPlan } from '../../sim/plan/deployment.js';
import { loadDeploymentFile, parseDeploymentObject, type DeploymentInput } from '../../sim/plan/deploymentSchema.js';
import { minimalReplicas, planDeployment } from '../../sim/plan/deploymentSearch.js';
import { infersim, ROOT } from '../cli/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'infersim-plan-deploy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A chat-like load on Llama 3.1 8B that one L4 cannot carry: the answer takes several replicas. */
const base = {
  model: 'llama-3.1-8b',
  workload: { rate_per_s: 8, input_tokens: { dist: 'uniform', min: 200, max: 800 }, output_tokens: 64 },
  slo: { ttft_ms: 1000, tpot_ms: 120, attainment: 0.99 },
  search: { gpus: ['l4'], tensor_parallel: [1] },
};
type Patch = Record<string, unknown>;
const input = (patch: Patch = {}): DeploymentInput => {
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) merged[k] = typeof v === 'object' ? { ...(merged[k] as object), ...v } : v;
  return parseDeploymentObject(merged);
};
const l4 = { model: 'llama-3.1-8b', gpu: 'l4', tensor_parallel: 1, precision: 'bf16' as const };
const replicasFor = (plan: DeploymentInput): number => {
  const r = minimalReplicas(plan, l4);
  if ('reason' in r) throw new Error(r.reason);
  return r.replicas;
};

describe('monotone where physics says so', () => {
  it('a higher rate never needs fewer GPUs of one kind, nor costs less overall', () => {
    const rates = [3, 6, 9];
    const replicas = rates.map((rate_per_s) => replicasFor(input({ workload: { rate_per_s } })));
    expect(replicas).toEqual([...replicas].sort((a, b) => a - b));
    expect(replicas[2]).toBeGreaterThan(replicas[0]);
    const costs = rates.map((rate_per_s) => planDeployment(input({ workload: { rate_per_s }, search: { gpus: ['l4', 'a10g'], tensor_parallel: [1, 2] } })).recommended!.usd_per_hour);
    expect(costs).toEqual([...costs].sort((a, b) => a - b));
  });

  it('a looser SLO never costs more', () => {
    const ttfts = [300, 600, 2000];
    const costs = ttfts.map((ttft_ms) => planDeployment(input({ slo: { ttft_ms } })).recommended!.usd_per_hour);
    expect(costs).toEqual([...costs].sort((a, b) => b - a));
    expect(costs[0]).toBeGreaterThan(costs[2]);
  });
});

describe('the recommendation holds on a longer run', () => {
  it('meets the SLO at the stated attainment on 3× the requests, and misses it with one replica fewer', () => {
    const plan = input();
    const result: DeploymentPlan = planDeployment(plan);
    const best = result.recommended!;
    expect(best.replicas).toBeGreaterThanOrEqual(2);
    expect(best.usd_per_hour).toBeCloseTo(best.replicas * 0.7, 9);
    expect(best.usd_per_month).toBeCloseTo(best.usd_per_hour * 730, 9);
    const longer = simulateDeployment(plan, best, best.replicas, { scale: 3 });
    expect(longer.overall.requests.measured).toBeGreaterThan(2.5 * result.workload.requests);
    expect(sloVerdict(plan, longer.overall)).toEqual({ ok: true });
    expect(longer.overall.slo.attainment).toBeGreaterThanOrEqual(0.99);
    const fewer = simulateDeployment(plan, best, best.replicas - 1, { scale: 3 });
    expect(sloVerdict(plan, fewer.overall).ok).toBe(false);
  });

  it('percentile targets bind too: a tight p99 TTFT needs more replicas than the attainment target alone', () => {
    const loose = replicasFor(input());
    const tight = replicasFor(input({ slo: { ttft_p99_ms: 300 } }));
    expect(tight).toBeGreaterThan(loose);
  });
});

describe('pruning', () => {
  it('a model that fits on no candidate says so in one line, naming the smallest catalog GPU and TP that would', () => {
    const plan = planDeployment(input({ model: 'llama-3.1-405b', search: { gpus: ['l4'], tensor_parallel: [1] } }));
    expect(plan.recommended).toBeNull();
    expect(plan.pruned).toHaveLength(1);
    expect(plan.pruned[0].reason).toMatch(/does not fit/);
    expect(plan.verdict).toMatch(/^llama-3.1-405b runs on none of the 1 candidate .*; the smallest that would: h200-sxm × TP 8 in bf16$/);
    expect(plan.verdict).not.toContain('\n');
  });

  it('a candidate whose TP does not divide the heads is pruned with the reason, and the others still searched', () => {
    const plan = planDeployment(input({ search: { gpus: ['h100-sxm'], tensor_parallel: [3, 1] } }));
    expect(plan.pruned.map((p) => p.tensor_parallel)).toEqual([3]);
    expect(plan.pruned[0].reason).toMatch(/tensor_parallel/);
    expect(plan.recommended?.tensor_parallel).toBe(1);
  });

  it('a candidate that misses even at max_replicas is pruned, saying which target it missed', () => {
    const plan = planDeployment(input({ search: { max_replicas: 1 } }));
    expect(plan.recommended).toBeNull();
    expect(plan.pruned[0].reason).toMatch(/^misses the SLO even with max_replicas 1 \(attainment .* < 99.0 %\)$/);
    expect(plan.verdict).toMatch(/no candidate meets the SLO within max_replicas 1/);
  });
});

describe('the CLI', () => {
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('plans the example, prints JSON with --json valid by plan.schema.json, writes it with --out, and writes a scenario that infersim run accepts', () => {
    const out = join(dir, 'recommended.yaml');
    const r = infersim(['plan', 'examples/plan/chat-llama-3.1-8b.yaml', '--json', '--emit-scenario', out, '--out', join(dir, 'plan-out')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout) as DeploymentPlan;
    const validate = new Ajv2020({ allErrors: true }).compile(JSON.parse(readFileSync(join(ROOT, 'plan.schema.json'), 'utf8')));
    expect(validate(plan), JSON.stringify(validate.errors)).toBe(true);
    expect(readFileSync(join(dir, 'plan-out', 'plan.json'), 'utf8')).toBe(r.stdout);
    expect(readFileSync(join(dir, 'plan-out', 'plan.md'), 'utf8')).toMatch(/^# Deployment plan: llama-3.1-8b\n[\s\S]*\| l40s \| 1 \| bf16 \|/);
    expect(plan.recommended).not.toBeNull();
    // The band's runs bracket the recommendation's p99s: the band's edges scale every step time.
    const band = plan.recommended!.band!;
    expect(band.relative.low).toBeLessThan(0);
    for (const key of ['ttft_p99_s', 'tpot_p99_s', 'e2e_p99_s'] as const) expect(band[key].low!).toBeLessThan(band[key].high!);
    expect(plan.pareto[0].usd_per_hour).toBe(plan.recommended!.usd_per_hour);
    expect(plan.alternatives.every((a, i) => a.usd_per_hour >= (i === 0 ? plan.recommended! : plan.alternatives[i - 1]).usd_per_hour)).toBe(true);
    const ran = infersim(['run', out, '--set', `output.dir=${join(dir, 'run')}`]);
    expect(ran.stderr).toBe('');
    expect(ran.status).toBe(0);
    expect(ran.stdout).toMatch(/SLO .*attained/);
  });

  it('prints a table naming the recommendation', () => {
    const file = write('small.json', JSON.stringify({ ...base, search: { gpus: ['h100-sxm'], tensor_parallel: [1] } }));
    const r = infersim(['plan', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/recommended: 1 × h100-sxm at TP 1/);
    expect(r.stdout).toMatch(/\$3\.00\/hour, \$2,190\/month/);
  });

  it('bad plan files get one clear line each', () => {
    const cases: [string, RegExp][] = [
      ['slo: { attainment: 0.9 }', /^infersim: error: slo: give at least one target: ttft_p95_ms/],
      ['search: { gpus: [h100] }', /^infersim: error: search\.gpus\[0\]: must be one of h100-sxm, .*got \"h100\"/],
      ['search: { gpus: [l4], tensor_parallel: [0] }', /^infersim: error: search\.tensor_parallel\[0\]: must be an integer ≥ 1/],
      ['workload: { rate_per_s: -1, input_tokens: 100, output_tokens: 10 }', /^infersim: error: workload\.rate_per_s: must be > 0/],
      ['workload: { rate_per_s: 1, input_tokens: { dist: uniform, min: 5 }, output_tokens: 10 }', /^infersim: error: workload\.input_tokens\.max: /],
      ['cost: { usd_per_gpu_hour: { a10g: 1 } }', /^infersim: error: cost\.usd_per_gpu_hour: needs a price for every GPU searched; missing l4/],
      ['slo: { ttft_ms: 100, tpot: 5 }', /^infersim: error: slo\.tpot: /],
      ['slo: [oops', /^infersim: error: plan: .*bad7\.yaml:\d+:\d+: invalid YAML/],
    ];
    const lines = `model: llama-3.1-8b\nworkload: { rate_per_s: 1, input_tokens: 100, output_tokens: 10 }\nslo: { ttft_ms: 500 }\nsearch: { gpus: [l4] }\n`;
    // Every case through the loader (the CLI prints its message after "infersim: error: "); two through the CLI itself.
    cases.forEach(([override, expected], i) => {
      const key = override.split(':')[0];
      const replaced = lines.split('\n').map((l) => (l.startsWith(`${key}:`) ? override : l)).join('\n');
      const file = write(`bad${i}.yaml`, replaced === lines ? `${lines}${override}\n` : replaced);
      let message = '';
      try {
        loadDeploymentFile(file);
      } catch (err) {
        message = `infersim: error: ${(err as Error).message}`;
      }
      expect(message.split('\n'), override).toHaveLength(1);
      expect(message, override).toMatch(expected);
      if (i % 4 !== 0) return;
      const r = infersim(['plan', file]);
      expect(r.status, override).toBe(1);
      expect(r.stderr.trim().split('\n'), override).toHaveLength(1);
      expect(r.stderr, override).toMatch(expected);
    });
    const none = infersim(['plan']);
    expect(none.status).toBe(1);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
  });
});
