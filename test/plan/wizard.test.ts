import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as prompts from '@inquirer/prompts';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { askPlan, writePlanFile, type Ask } from '../../sim/cli/planWizard.js';
import { getModel } from '../../sim/model/catalog.js';
import { loadDeploymentFile, parseDeploymentObject } from '../../sim/plan/deploymentSchema.js';
import { TEMPLATES } from '../../sim/plan/templates.js';

const dir = mkdtempSync(join(tmpdir(), 'infersim-wizard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * One scripted answer per question, in order. For an input, a list is typed one after another:
 * every one but the last must be refused by the question's validate (its message is recorded),
 * the last accepted. '' takes the default, as Enter on an empty line does.
 */
type Answer = string | string[] | boolean;
function scripted(answers: Answer[]): { ask: Ask; refused: Record<string, string[]>; asked: string[] } {
  const refused: Record<string, string[]> = {};
  const asked: string[] = [];
  const next = (message: string): Answer => {
    asked.push(message);
    if (answers.length === 0) throw new Error(`no scripted answer for ${JSON.stringify(message)}`);
    return answers.shift()!;
  };
  const judge = async (message: string, ok: boolean | string): Promise<void> => {
    if (ok !== true) (refused[message] ??= []).push(String(ok));
  };
  const ask: Ask = {
    async input({ message, default: def, validate }) {
      const tries = [next(message)].flat() as string[];
      for (const [i, typed] of tries.entries()) {
        const text = typed === '' && def !== undefined ? def : typed;
        const ok = validate === undefined ? true : await validate(text);
        await judge(message, ok);
        if ((ok === true) !== (i === tries.length - 1)) throw new Error(`${message}: ${JSON.stringify(typed)} was ${ok === true ? 'accepted' : `refused (${ok})`}`);
        if (ok === true) return text;
      }
      throw new Error('unreachable');
    },
    async select({ message, choices }) {
      const v = next(message);
      const choice = choices.find((c) => c.value === v);
      if (choice === undefined) throw new Error(`${message}: no choice ${String(v)}`);
      return choice.value;
    },
    async checkbox({ message, choices, validate }) {
      const tries = (next(message) as string).split(';').map((t) => (t === '' ? [] : t.split(',')));
      for (const [i, picked] of tries.entries()) {
        const items = picked.map((value) => choices.find((c) => c.value === value)!);
        const ok = validate === undefined ? true : await validate(items);
        await judge(message, ok);
        if ((ok === true) !== (i === tries.length - 1)) throw new Error(`${message}: ${picked.join(',')} was ${ok === true ? 'accepted' : 'refused'}`);
        if (ok === true) return items.map((c) => c.value);
      }
      throw new Error('unreachable');
    },
    async confirm({ message }) {
      return next(message) as boolean;
    },
  };
  return { ask, refused, asked };
}

const refusal = (refused: Record<string, string[]>, start: string): string[] => Object.entries(refused).find(([m]) => m.startsWith(start))?.[1] ?? [];

describe('infersim plan --interactive: the questions', () => {
  it('custom answers, in order, make a plan file that parses with the answered values', async () => {
    const file = join(dir, 'custom', 'plan.yaml');
    const { ask, asked } = scripted(['custom', 'llama-3.1-8b', '2.5', '800', '150', '600', '45', '', 'l4,h100-sxm', file]);
    const result = await askPlan(ask, dir);
    writePlanFile(result);
    expect(asked.map((m) => m.split(' ')[0])).toEqual(['Use', 'Model', 'Mean', 'Mean', 'Mean', 'SLO:', 'SLO:', 'Attainment:', 'GPU', 'Write']);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe(`# Written by infersim plan --interactive (use case: custom); run it again with: infersim plan ${file}`);
    const plan = parseDeploymentObject(YAML.parse(text));
    expect(plan).toEqual({
      model: 'llama-3.1-8b',
      workload: { rate_per_s: 2.5, input_tokens: 800, output_tokens: 150 },
      slo: { ttft_ms: 600, tpot_ms: 45, attainment: 0.99 },
      search: { gpus: ['l4', 'h100-sxm'] },
    });
  });

  it("a template's defaults fill the lengths and the SLO; a different mean scales the template's distribution", async () => {
    const file = join(dir, 'chat.yaml');
    const { ask } = scripted(['chatbot', 'llama-3.1-8b', '4', '', '422', '', '', '0.95', 'l40s', file]);
    const result = await askPlan(ask, dir);
    writePlanFile(result);
    const plan = loadDeploymentFile(file);
    expect(plan.workload.input_tokens).toEqual(TEMPLATES.chatbot.workload.input_tokens);
    expect(plan.workload.output_tokens).toEqual({ dist: 'lognormal', mean: 422, sigma: 0.86, min: 1, max: 2000 });
    expect(plan.slo).toEqual({ ttft_ms: 450, tpot_ms: 40, attainment: 0.95 });
  });

  it('a bad answer is refused with the loader or schema message naming it, then a good one is accepted', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'old\n');
    const unknown = (() => {
      try {
        getModel('llama-9', 'model');
      } catch (err) {
        return (err as Error).message;
      }
    })();
    const { ask, refused } = scripted([
      'rag', ['llama-9', 'llama-3.1-8b'], ['0', 'abc', '1'], ['2.5', ''], '', ['-1', ''], '', ['2', ''], ';h100-sxm', ['plan.txt', file], false, [file], true,
    ]);
    const result = await askPlan(ask, dir);
    expect(refusal(refused, 'Model')).toEqual([unknown]);
    expect(unknown).toMatch(/^model: unknown value "llama-9"/);
    expect(refusal(refused, 'Mean request rate')).toEqual(['workload.rate_per_s: must be > 0, got 0', 'workload.rate_per_s: must be a number > 0 and ≤ 100000, got "abc"']);
    expect(refusal(refused, 'Mean input')[0]).toMatch(/^workload\.input_tokens: must be an integer ≥ 1 .*, got 2\.5$/);
    expect(refusal(refused, 'SLO: time to first')).toEqual(['slo.ttft_ms: must be > 0, got -1']);
    expect(refusal(refused, 'Attainment')).toEqual(['slo.attainment: must be > 0 and ≤ 1, got 2']);
    expect(refusal(refused, 'GPU')).toEqual(['search.gpus: must list at least 1 item, got []']);
    expect(refusal(refused, 'Write')).toEqual(['plan file: must end in .yaml or .yml (the wizard writes YAML), got "plan.txt"']);
    expect(result.file).toBe(file);
    expect(result.plan).toEqual({
      model: 'llama-3.1-8b',
      workload: { rate_per_s: 1, ...TEMPLATES.rag.workload },
      slo: { ttft_ms: 2000, tpot_ms: 200, attainment: 0.99 },
      search: { gpus: ['h100-sxm'] },
    });
  });

  it('a config.json path is written relative to the plan file, where infersim plan FILE looks for it', async () => {
    mkdirSync(join(dir, 'models'), { recursive: true });
    copyFileSync('test/fixtures/probe/llama-3.1-8b.config.json', join(dir, 'models', 'config.json'));
    const { ask } = scripted(['code-completion', 'models/config.json', '1', '', '', '', '', '', 'l4', 'plans/code.yaml']);
    const result = await askPlan(ask, dir);
    writePlanFile(result);
    expect(result.plan.model).toBe('../models/config.json');
    expect(loadDeploymentFile(join(dir, 'plans', 'code.yaml')).model).toBe(join(dir, 'models', 'config.json'));
  });
});

/** Keystrokes into the real @inquirer/prompts through its context streams, each sent once its prompt (or error) is on screen. */
function terminal(): { ask: Ask; type: (waitFor: string, keys: string) => Promise<void>; screen: () => string } {
  const input = new PassThrough();
  let text = '';
  const waiters: (() => void)[] = [];
  // A prompt ends its output stream when answered (harmless on a real stdout): one stream each.
  const context = (): { input: PassThrough; output: PassThrough } => {
    const output = new PassThrough();
    output.on('data', (chunk: Buffer) => {
      // Colours and cursor moves aside, the words on screen.
      text += chunk.toString('utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      for (const w of waiters.splice(0)) w();
    });
    return { input, output };
  };
  const ask: Ask = {
    input: (c) => prompts.input(c, context()),
    select: (c) => prompts.select(c, context()),
    checkbox: (c) => prompts.checkbox(c, context()),
    confirm: (c) => prompts.confirm(c, context()),
  };
  let seen = 0;
  const type = async (waitFor: string, keys: string): Promise<void> => {
    while (!text.includes(waitFor, seen)) await new Promise<void>((r) => waiters.push(r));
    seen = text.indexOf(waitFor, seen) + waitFor.length;
    input.write(keys);
  };
  return { ask, type, screen: () => text };
}

describe('infersim plan --interactive through @inquirer/prompts', () => {
  it('scripted keystrokes answer every question, a bad model and rate are refused on screen, and the file is the answers', async () => {
    const file = join(dir, 'keys.yaml');
    const { ask, type, screen } = terminal();
    const done = askPlan(ask, dir);
    const DOWN = '\x1b[B';
    const ERASE = '\x7f'.repeat(20);
    await type('Use case', `${DOWN}\r`); // rag
    await type('Model', 'llama-9\r');
    await type('unknown value "llama-9"', `${ERASE}llama-3.1-8b\r`);
    await type('Mean request rate', 'abc\r');
    await type('got "abc"', `${ERASE}3\r`);
    for (const q of ['Mean input', 'Mean output', 'SLO: time to first', 'SLO: time per output', 'Attainment']) await type(q, '\r');
    await type('GPU types', ' \r'); // the first GPU of the catalog
    await type('Write the plan to', `${file}\r`);
    const result = await done;
    writePlanFile(result);
    expect(screen()).toContain('workload.rate_per_s: must be a number > 0 and ≤ 100000, got "abc"');
    expect(loadDeploymentFile(file)).toEqual({
      model: 'llama-3.1-8b',
      workload: { rate_per_s: 3, ...TEMPLATES.rag.workload },
      slo: { ttft_ms: 2000, tpot_ms: 200, attainment: 0.99 },
      search: { gpus: ['h100-sxm'] },
    });
  });
});
