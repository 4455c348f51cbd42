import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { planDeploymentCommand, planInput } from '../../sim/cli/planDeployment.js';
import { cannotRun, type DeploymentPlan } from '../../sim/plan/deployment.js';
import { parseDeploymentObject } from '../../sim/plan/deploymentSchema.js';
import { TEMPLATE_NAMES, TEMPLATES, withTemplate } from '../../sim/plan/templates.js';

const dir = mkdtempSync(join(tmpdir(), 'infersim-plan-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const needs = { model: 'llama-3.1-8b', workload: { rate_per_s: 1 }, search: { gpus: ['h100-sxm'] } };

describe('templates', () => {
  it.each(TEMPLATE_NAMES)('%s resolves to a valid plan whose scenario runs on an H100 at TP 8', (name) => {
    const plan = parseDeploymentObject(withTemplate(name, needs));
    expect(plan.workload).toEqual({ ...TEMPLATES[name].workload, rate_per_s: 1 });
    expect(plan.slo).toEqual(TEMPLATES[name].slo);
    expect(cannotRun(plan, { model: 'llama-3.1-8b', gpu: 'h100-sxm', tensor_parallel: 8, precision: 'bf16' })).toBeUndefined();
  });

  it('the plan file overrides the template key by key, and the flags override the file', () => {
    const file = join(dir, 'partial.yaml');
    writeFileSync(file, 'model: llama-3.1-70b\nworkload: { rate_per_s: 3, peak_factor: 2 }\nslo: { ttft_ms: 800 }\nsearch: { gpus: [l4], tensor_parallel: [1] }\n');
    const plan = planInput({ file, template: 'chatbot', model: 'llama-3.1-8b', rate: '5', gpus: ['h100-sxm,l40s', 'a10g'] });
    expect(plan.model).toBe('llama-3.1-8b');
    expect(plan.workload).toEqual({ ...TEMPLATES.chatbot.workload, rate_per_s: 5, peak_factor: 2 });
    expect(plan.slo).toEqual({ ttft_ms: 800, tpot_ms: 40, attainment: 0.99 });
    expect(plan.search).toEqual({ gpus: ['h100-sxm', 'l40s', 'a10g'], tensor_parallel: [1] });
  });

  it('what a template leaves out is asked for in one line naming the flags; an unknown name lists the templates', () => {
    expect(() => planInput({ template: 'rag', model: 'llama-3.1-8b' })).toThrow(/^--template rag fills the workload shape and the SLO; give --rate, --gpus \(or a plan file with model, workload\.rate_per_s, search\.gpus\)$/);
    expect(() => planInput({ template: 'chat', model: 'm', rate: 1, gpus: 'l4' })).toThrow(/^--template: must be one of chatbot, rag, code-completion, batch-summarize, agent, got "chat"$/);
    expect(() => planInput({ template: 'rag', model: 'llama-3.1-8b', rate: '-1', gpus: 'l4' })).toThrow(/^--rate: must be a number of requests per second > 0/);
    expect(() => planInput({})).toThrow(/^give a plan file .* or a template/);
  });

  it('chatbot at 1 req/s on one GPU type plans end to end through the command', () => {
    const file = join(dir, 'tp1.yaml');
    writeFileSync(file, 'search: { tensor_parallel: [1] }\n');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      planDeploymentCommand({ file, template: 'chatbot', model: 'llama-3.1-8b', rate: '1', gpus: 'h100-sxm', json: true });
      const plan = JSON.parse(log.mock.calls[0][0] as string) as DeploymentPlan;
      expect(plan.slo).toEqual({ ttft_ms: 450, tpot_ms: 40, attainment: 0.99 });
      expect(plan.recommended).toMatchObject({ gpu: 'h100-sxm', tensor_parallel: 1, replicas: 1 });
      expect(plan.recommended!.predicted.attainment).toBeGreaterThanOrEqual(0.99);
    } finally {
      log.mockRestore();
    }
  });
});
