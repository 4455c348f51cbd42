import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { planDeploymentCommand } from '../../sim/cli/planDeployment.js';
import type { Deployment, DeploymentPlan } from '../../sim/plan/deployment.js';
import { consoleReport, markdownReport } from '../../sim/plan/deploymentReport.js';
import { ROOT } from '../cli/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'infersim-plan-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A model no candidate holds: the plan is decided by resolving alone, without a simulated run. */
const file = join(dir, 'huge.yaml');
writeFileSync(file, 'model: llama-3.1-405b\nworkload: { rate_per_s: 1, input_tokens: 100, output_tokens: 10 }\nslo: { ttft_ms: 500 }\nsearch: { gpus: [l4], tensor_parallel: [1] }\n');

/** The published schema; the example's real --json output is checked against it in deployment.test.ts. */
const validatePlan = new Ajv2020({ allErrors: true }).compile(JSON.parse(readFileSync(join(ROOT, 'plan.schema.json'), 'utf8')));

const p3 = (a: number) => ({ p50: a, p95: 2 * a, p99: 3 * a });
const deployment = (gpu: string, replicas: number, price: number): Deployment => ({
  model: 'llama-3.1-8b', gpu, tensor_parallel: 1, precision: 'bf16', replicas, slo_replicas: replicas, spare_replicas: 0, gpus: replicas,
  engine: { max_num_seqs: 256, max_num_batched_tokens: 2048, max_model_len: 1250 },
  predicted: { ttft_s: p3(0.1), tpot_s: p3(0.02), itl_s: p3(0.02), e2e_s: p3(3), attainment: 0.995, requests_per_s: 9, output_tokens_per_s: 1200 },
  usd_per_gpu_hour: price, usd_per_hour: replicas * price, usd_per_month: replicas * price * 730, usd_per_million_output_tokens: 0.3,
});
const plan: DeploymentPlan = {
  model: 'llama-3.1-8b',
  workload: { rate_per_s: 6, peak_factor: 1.5, target_utilization: 1, simulated_rate_per_s: 9, requests: 540, warmup_s: 6, thorough: false },
  slo: { ttft_ms: 1000, tpot_ms: 100, attainment: 0.99 },
  price_source: 'the GPU catalog (sim/hardware/catalog.ts)',
  recommended: deployment('l40s', 1, 1),
  alternatives: [deployment('l4', 4, 0.7)],
  pareto: [],
  pruned: [{ model: 'llama-3.1-8b', gpu: 'a10g', tensor_parallel: 3, precision: 'bf16', reason: 'tensor_parallel: 3 does not divide | the 32 heads' }],
};

describe('the reports', () => {
  it('Markdown: the recommendation, a table row per feasible deployment, the pruned with reasons (pipes escaped)', () => {
    const md = markdownReport(plan);
    expect(md).toMatch(/^# Deployment plan: llama-3.1-8b\n/);
    expect(md).toContain('**1 × l40s at TP 1 (1 GPU, bf16): $1.00/hour, $730/month, $0.30 per million output tokens**');
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.split(/(?<!\\)\|/).length === 13)).toBe(true);
    expect(rows[3]).toMatch(/^\| l4 \| 1 \| bf16 \| 4 \| 4 \| \$2\.80 \| \$2,044 \| 300 ms \| 40 ms \| 9000 ms \| 99\.5 % \|$/);
    expect(md).toContain('- a10g TP 3 bf16: tensor_parallel: 3 does not divide \\| the 32 heads');
  });

  it('with nothing recommended, both reports give the verdict and the schema requires it', () => {
    const none: DeploymentPlan = { ...plan, recommended: null, alternatives: [], verdict: 'no candidate meets the SLO' };
    expect(markdownReport(none)).toContain('## Recommendation\n\nNone: no candidate meets the SLO');
    expect(consoleReport(none)).toContain('no recommendation: no candidate meets the SLO');
    expect(validatePlan(none)).toBe(true);
    expect(validatePlan({ ...none, verdict: undefined })).toBe(false);
  });

  it('the schema accepts a well-formed plan and rejects a missing field, an unknown one, or a wrong type', () => {
    const json = JSON.parse(JSON.stringify(plan)) as DeploymentPlan;
    expect(validatePlan(json), JSON.stringify(validatePlan.errors)).toBe(true);
    const { usd_per_hour: _, ...missing } = json.recommended!;
    expect(validatePlan({ ...json, recommended: missing })).toBe(false);
    expect(validatePlan({ ...json, extra: 1 })).toBe(false);
    expect(validatePlan({ ...json, alternatives: [{ ...json.alternatives[0], replicas: 1.5 }] })).toBe(false);
  });
});

describe('--out', () => {
  it('writes plan.json, plan.md and plan.txt even when nothing is recommended, and leaves no temporary file', () => {
    const out = join(dir, 'out', 'nested');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(() => planDeploymentCommand({ file, out, json: true })).toThrow(/runs on none of the 1 candidate/);
      const printed = log.mock.calls[0][0] as string;
      expect(readdirSync(out).sort()).toEqual(['plan.json', 'plan.md', 'plan.txt']);
      expect(readFileSync(join(out, 'plan.json'), 'utf8')).toBe(`${printed}\n`);
      const json = JSON.parse(printed) as DeploymentPlan;
      expect(validatePlan(json), JSON.stringify(validatePlan.errors)).toBe(true);
      expect(readFileSync(join(out, 'plan.md'), 'utf8')).toBe(markdownReport(json));
      expect(readFileSync(join(out, 'plan.txt'), 'utf8')).toBe(`${consoleReport(json)}\n`);
    } finally {
      log.mockRestore();
    }
  });

  it('a folder that cannot be made is one line naming --out, and nothing is left behind', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(() => planDeploymentCommand({ file, out: join(blocker, 'out') })).toThrow(/^--out: cannot write .*a-file is a file, not a folder/);
    } finally {
      log.mockRestore();
    }
    expect(existsSync(join(blocker, 'out'))).toBe(false);
  });
});
