import { existsSync, statSync } from 'node:fs';
import { dirname, extname, relative, resolve } from 'node:path';
import YAML from 'yaml';
import { fieldError } from '../errors.js';
import { writeFileAtomic } from '../fsErrors.js';
import { GPU_CATALOG } from '../hardware/catalog.js';
import { getModel, looksLikePath, MODEL_CATALOG } from '../model/catalog.js';
import { DEFAULT_ATTAINMENT, parseDeploymentObject } from '../plan/deploymentSchema.js';
import { TEMPLATE_NAMES, TEMPLATES, type PlanTemplate, type TemplateName } from '../plan/templates.js';
import { applyOverrides } from '../scenario/overrides.js';
import type { LengthDist } from '../scenario/types.js';
import { numberFlag } from './flags.js';
import { oneLine } from './guarded.js';

/*
 * `infersim plan --interactive`: the questions of a plan file, each answer judged at once by the
 * plan's own schema (or the model loader), so the wizard can never accept what `infersim plan
 * FILE` would refuse. The prompts come in as `ask` (the CLI passes @inquirer/prompts), which lets
 * tests script the answers without a terminal.
 */

type Validate<T> = (value: T) => boolean | string | Promise<boolean | string>;
export interface Choice<V> {
  value: V;
  name?: string;
  description?: string;
  checked?: boolean;
}

/** The subset of @inquirer/prompts the wizard uses, with its signatures. */
export interface Ask {
  input(config: { message: string; default?: string; validate?: Validate<string> }): Promise<string>;
  select<V>(config: { message: string; choices: readonly Choice<V>[]; default?: V }): Promise<V>;
  checkbox<V>(config: { message: string; choices: readonly Choice<V>[]; validate?: Validate<readonly { value: V }[]> }): Promise<V[]>;
  confirm(config: { message: string; default?: boolean }): Promise<boolean>;
}

export type UseCase = TemplateName | 'custom';

export interface WizardResult {
  useCase: UseCase;
  /** The plan file, absolute. */
  file: string;
  /** The plan file as the user typed it, for messages. */
  shown: string;
  /** The plan as written: a whole plan, valid on its own (no template needed to read it). */
  plan: Record<string, unknown>;
}

type Raw = Record<string, unknown>;

/**
 * Stands in for the keys not asked yet, so that each answer is judged alone by the whole-plan
 * schema; every one of them is replaced by an answer before the plan is written.
 */
function placeholder(): Raw {
  return {
    model: Object.keys(MODEL_CATALOG)[0],
    workload: { rate_per_s: 1, input_tokens: 1, output_tokens: 1 },
    slo: { ttft_ms: 1000, tpot_ms: 100, attainment: DEFAULT_ATTAINMENT },
    search: { gpus: [Object.keys(GPU_CATALOG)[0]] },
  };
}

/** The schema's one line about `doc` with `value` at `key`, or undefined when the plan is valid. */
function schemaProblem(doc: Raw, key: string, value: unknown): string | undefined {
  const trial = structuredClone(doc);
  applyOverrides(trial, [{ key: key.split('.'), value }]);
  return problemOf(() => parseDeploymentObject(trial));
}

/** The one line an input error prints; a bug is not the user's answer to fix, so it still throws. */
function problemOf(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    const line = oneLine(err);
    if (line === undefined) throw err;
    return line;
  }
}

/**
 * A typed number as a number; anything else stays text, so that the schema's message (which
 * states the range) is the one shown: `workload.rate_per_s: must be a number > 0 …, got "abc"`.
 */
function typed(key: string, text: string): unknown {
  try {
    return numberFlag(key, text);
  } catch {
    return text.trim();
  }
}

/** Asks for the number at `key`, judged with the answers so far; `shape` turns it into what the plan holds. */
async function askNumber(ask: Ask, doc: Raw, key: string, message: string, def?: number, shape = (v: number): unknown => v): Promise<void> {
  const valueOf = (text: string): unknown => {
    const v = typed(key, text);
    return typeof v === 'number' ? shape(v) : v;
  };
  const answer = await ask.input({ message, default: def === undefined ? undefined : String(def), validate: (text) => schemaProblem(doc, key, valueOf(text)) ?? true });
  applyOverrides(doc, [{ key: key.split('.'), value: valueOf(answer) }]);
}

/**
 * A template's length distribution at the mean the user gave: the same shape (spread relative
 * to the mean, bounds scaled with it), so a longer-prompt chatbot is still chatbot-like.
 */
export function atMean(dist: LengthDist, mean: number): LengthDist {
  const d = dist as Raw & { mean: number };
  if (mean === d.mean) return dist;
  const r = mean / d.mean;
  const out: Raw = { ...d, mean };
  if (typeof d.std === 'number') out.std = d.std * r;
  // A minimum of 1 is the floor of any request, not a point of the shape: it stays.
  if (typeof d.min === 'number' && d.min > 1) out.min = Math.max(1, Math.round(d.min * r));
  if (typeof d.max === 'number') out.max = Math.max(1, Math.round(d.max * r));
  return out as unknown as LengthDist;
}

/** The loader's own message for a model it cannot load (unknown name, unreadable config.json). */
function modelProblem(text: string, cwd: string): string | undefined {
  const name = text.trim();
  return problemOf(() => getModel(looksLikePath(name) ? resolve(cwd, name) : name, 'model'));
}

function planFileProblem(text: string, cwd: string): string | undefined {
  const file = text.trim();
  const ext = extname(file).toLowerCase();
  if (ext !== '.yaml' && ext !== '.yml') return fieldError('plan file', 'must end in .yaml or .yml (the wizard writes YAML)', file).message;
  if (existsSync(resolve(cwd, file)) && statSync(resolve(cwd, file)).isDirectory()) return fieldError('plan file', 'is a folder; give a file name', file).message;
  return undefined;
}

async function askUseCase(ask: Ask): Promise<UseCase> {
  const choices: Choice<UseCase>[] = [
    ...TEMPLATE_NAMES.map((n) => ({ value: n, name: n, description: TEMPLATES[n].describe })),
    { value: 'custom', name: 'custom', description: 'your own token counts and SLO' },
  ];
  return ask.select<UseCase>({ message: 'Use case', choices });
}

async function askWorkload(ask: Ask, doc: Raw, t: PlanTemplate | undefined): Promise<void> {
  await askNumber(ask, doc, 'workload.rate_per_s', 'Mean request rate (requests per second)');
  for (const [key, what] of [['input_tokens', 'input (prompt)'], ['output_tokens', 'output']] as const) {
    const dist = t?.workload[key];
    // A template's lengths are a distribution: the mean sets its scale. Without one, every request has the mean.
    const shape = dist === undefined ? undefined : (v: number): unknown => (Number.isSafeInteger(v) && v >= 1 ? atMean(dist, v) : v);
    const def = dist === undefined ? undefined : Math.round((dist as { mean: number }).mean);
    await askNumber(ask, doc, `workload.${key}`, `Mean ${what} tokens per request`, def, shape);
  }
}

/** Per-request targets with an attainment, as the templates state them (MLPerf's bounds are per request at the 99th percentile). */
async function askSlo(ask: Ask, doc: Raw, t: PlanTemplate | undefined): Promise<void> {
  await askNumber(ask, doc, 'slo.ttft_ms', 'SLO: time to first token of each request (ms)', t?.slo.ttft_ms);
  await askNumber(ask, doc, 'slo.tpot_ms', 'SLO: time per output token of each request (ms)', t?.slo.tpot_ms);
  await askNumber(ask, doc, 'slo.attainment', 'Attainment: the share of requests that must meet both (0–1)', t?.slo.attainment ?? DEFAULT_ATTAINMENT);
}

async function askGpus(ask: Ask, doc: Raw): Promise<void> {
  const choices = Object.values(GPU_CATALOG).map((g) => ({
    value: g.name,
    name: g.name,
    description: `${Math.round(g.memory_bytes / 1e9)} GB, $${g.usd_per_gpu_hour}/GPU-hour by default`,
  }));
  const gpus = await ask.checkbox<string>({
    message: 'GPU types to search (space to pick, enter to finish)',
    choices,
    validate: (picked) => schemaProblem(doc, 'search.gpus', picked.map((p) => p.value)) ?? true,
  });
  applyOverrides(doc, [{ key: ['search', 'gpus'], value: gpus }]);
}

/** The plan file's path: asked again when the user declines to overwrite an existing file. */
async function askPlanFile(ask: Ask, cwd: string): Promise<{ file: string; shown: string }> {
  for (;;) {
    const shown = (await ask.input({ message: 'Write the plan to', default: 'plan.yaml', validate: (v) => planFileProblem(v, cwd) ?? true })).trim();
    const file = resolve(cwd, shown);
    if (!existsSync(file) || (await ask.confirm({ message: `${shown} exists; overwrite it?`, default: false }))) return { file, shown };
  }
}

/**
 * Asks the questions in order and returns the plan to write. A model given as a config.json path
 * is written relative to the plan file's folder, where `infersim plan FILE` looks for it.
 */
export async function askPlan(ask: Ask, cwd = process.cwd()): Promise<WizardResult> {
  const useCase = await askUseCase(ask);
  const t: PlanTemplate | undefined = useCase === 'custom' ? undefined : TEMPLATES[useCase];
  const doc = placeholder();
  const model = (await ask.input({ message: 'Model (catalog name, or path to a config.json)', validate: (v) => modelProblem(v, cwd) ?? true })).trim();
  // Absolute while the other answers are judged (the loader reads it then), relative to the plan file once written.
  doc.model = looksLikePath(model) ? resolve(cwd, model) : model;
  await askWorkload(ask, doc, t);
  await askSlo(ask, doc, t);
  await askGpus(ask, doc);
  const { file, shown } = await askPlanFile(ask, cwd);
  // Each answer was judged alone; this judges them together (and the placeholders are all gone).
  parseDeploymentObject(doc);
  if (looksLikePath(model)) {
    const rel = relative(dirname(file), resolve(cwd, model));
    doc.model = looksLikePath(rel) ? rel : `./${rel}`;
  }
  return { useCase, file, shown, plan: doc };
}

/** Writes the plan through a temporary name and a rename, with a line saying how to run it again. */
export function writePlanFile(result: WizardResult): void {
  const header = `# Written by infersim plan --interactive (use case: ${result.useCase}); run it again with: infersim plan ${result.shown}\n`;
  writeFileAtomic('plan file', result.file, header + YAML.stringify(result.plan));
}
