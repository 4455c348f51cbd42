import { TEMPLATES } from '../../sim/plan/templates.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { planDeploymentCommand, planInput } from '../../sim/cli/planDeployment.js';
import type { Ask } from '../../sim/cli/planWizard.js';
import type { DeploymentPlan } from '../../sim/plan/deployment.js';
import { planDeployment } from '../../sim/plan/deploymentSearch.js';

// The search itself is tested in deployment.test.ts; here only what the command hands it, and that
// --interactive hands it the same as `infersim plan FILE` does. The canned plan recommends nothing,
// and the reports are stubbed so that it needs no more fields than these.
vi.mock('../../sim/plan/deploymentSearch.js', () => ({
  planDeployment: vi.fn(() => ({ recommended: null, verdict: 'canned: nothing searched' }) as unknown as DeploymentPlan),
}));
vi.mock('../../sim/plan/deploymentReport.js', () => ({ consoleReport: () => 'report', markdownReport: () => 'report' }));
const search = vi.mocked(planDeployment);

const dir = mkdtempSync(join(tmpdir(), 'infersim-plan-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'plan.yaml');
writeFileSync(file, 'model: llama-3.1-8b\nworkload: { rate_per_s: 2, input_tokens: 500, output_tokens: 100 }\nslo: { ttft_p99_ms: 1000 }\nsearch: { gpus: [l4] }\n');

let log: MockInstance<typeof console.log>;
beforeEach(() => {
  search.mockClear();
  log = vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

describe('infersim plan --set', () => {
  it('overrides a key over the file, the template and the flags, before validation', () => {
    expect(planInput({ file, set: ['slo.ttft_p99_ms=800', 'search.gpus=[l4, a10g]'] })).toMatchObject({ slo: { ttft_p99_ms: 800 }, search: { gpus: ['l4', 'a10g'] } });
    expect(planInput({ file, rate: '3', set: ['workload.rate_per_s=5'] }).workload.rate_per_s).toBe(5);
    // With a template, a --set supplies what the template leaves out and changes one SLO key of it.
    const t = planInput({ template: 'chatbot', set: ['model=llama-3.1-8b', 'workload.rate_per_s=2', 'search.gpus=[h100-sxm]', 'slo.ttft_ms=900'] });
    expect(t.slo).toEqual({ ttft_ms: 900, tpot_ms: 40, attainment: 0.99 });
    // A key inside the template's own distribution: the rest of it stays.
    const mean = planInput({ template: 'chatbot', model: 'llama-3.1-8b', rate: '1', gpus: 'h100-sxm', set: ['workload.input_tokens.mean=500'] });
    expect(mean.workload.input_tokens).toEqual({ ...TEMPLATES.chatbot.workload.input_tokens, mean: 500 });
  });

  it("an unknown key or a bad value gets the schema's one line naming it; a malformed --set says so", () => {
    expect(() => planInput({ file, set: ['slo.ttft_p99=800'] })).toThrow(/^slo\.ttft_p99: unknown key; allowed: .*ttft_p99_ms/);
    expect(() => planInput({ file, set: ['workload.rate_per_s=0'] })).toThrow(/^workload\.rate_per_s: must be > 0, got 0$/);
    expect(() => planInput({ file, set: ['slo'] })).toThrow(/^--set: expected key\.path=value, got "slo"$/);
  });
});

describe('infersim plan --thorough', () => {
  it('is passed to the search as its option, and is off when not given', () => {
    expect(() => planDeploymentCommand({ file, json: true, thorough: true, set: ['slo.ttft_p99_ms=900'] })).toThrow(/^canned/);
    expect(() => planDeploymentCommand({ file, json: true })).toThrow(/^canned/);
    expect(search).toHaveBeenCalledTimes(2);
    expect(search.mock.calls[0][0].slo.ttft_p99_ms).toBe(900);
    expect(search.mock.calls.map((c) => c[1])).toEqual([{ thorough: true }, { thorough: false }]);
  });
});

/** Answers every question of the wizard with the given values, in order. */
function fixed(answers: unknown[]): Ask {
  const next = async (): Promise<never> => answers.shift() as never;
  return { input: next, select: next, checkbox: next, confirm: next };
}

describe('infersim plan --interactive', () => {
  it('writes the plan file, then plans it through the same code path as infersim plan FILE', async () => {
    const written = join(dir, 'wizard.yaml');
    const ask = fixed(['custom', 'llama-3.1-8b', '2', '500', '100', '1000', '80', '0.99', ['l4'], written]);
    await expect(planDeploymentCommand({ interactive: true, json: true, thorough: true }, ask)).rejects.toThrow(/^canned: nothing searched$/);
    const printed = log.mock.calls.map((c) => c[0]);
    expect(() => planDeploymentCommand({ file: written, json: true, thorough: true })).toThrow(/^canned: nothing searched$/);
    expect(search.mock.calls).toHaveLength(2);
    expect(search.mock.calls[0]).toEqual(search.mock.calls[1]);
    expect(search.mock.calls[0][0]).toMatchObject({ slo: { ttft_ms: 1000, tpot_ms: 80 }, search: { gpus: ['l4'] } });
    expect(log.mock.calls.slice(printed.length).map((c) => c[0])).toEqual(printed);
  });

  it('is refused in one line with a plan file, a template or the flags it asks for, and without a terminal', async () => {
    await expect(planDeploymentCommand({ interactive: true, file, template: 'chatbot', set: ['seed=1'] })).rejects.toThrow(
      /^--interactive asks for the whole plan; drop a plan file, --template, --set \(or run infersim plan FILE without --interactive\)$/,
    );
    const tty = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
    Object.defineProperty(process.stdin, 'isTTY', { value: undefined, configurable: true });
    try {
      await expect(planDeploymentCommand({ interactive: true })).rejects.toThrow(/^--interactive needs a terminal; write a plan file instead \(see examples\/plan\/\)$/);
    } finally {
      if (tty === undefined) delete (process.stdin as { isTTY?: boolean }).isTTY;
      else Object.defineProperty(process.stdin, 'isTTY', tty);
    }
    expect(search).not.toHaveBeenCalled();
  });
});
