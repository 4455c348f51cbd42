import { join } from 'node:path';
import type { Argv } from 'yargs';
import YAML from 'yaml';
import { InfersimError } from '../errors.js';
import { writeFileAtomic } from '../fsErrors.js';
import { deploymentScenario } from '../plan/deployment.js';
import { consoleReport, markdownReport } from '../plan/deploymentReport.js';
import { parseDeploymentObject, readDeploymentData, type DeploymentInput } from '../plan/deploymentSchema.js';
import { planDeployment } from '../plan/deploymentSearch.js';
import { TEMPLATE_NAMES, TEMPLATES, withTemplate } from '../plan/templates.js';
import { applyOverrides, parseSet } from '../scenario/overrides.js';
import { eachOnce, numberFlag, numericOption } from './flags.js';
import { askPlan, writePlanFile, type Ask } from './planWizard.js';

export interface PlanDeploymentArgs {
  file?: string;
  json?: boolean;
  'emit-scenario'?: string;
  out?: string;
  template?: string;
  model?: string;
  rate?: unknown;
  gpus?: string | string[];
  set?: string[];
  thorough?: boolean;
  interactive?: boolean;
}

export function planDeploymentBuilder(y: Argv): Argv {
  const templates = TEMPLATE_NAMES.map((n) => `${n}: ${TEMPLATES[n].describe}`).join('; ');
  const withFlags = y
    .positional('file', { type: 'string', describe: 'a deployment plan (YAML or JSON): model, workload, slo, search; with --template, only the keys to change' })
    .option('template', { type: 'string', describe: `fill the workload shape and the SLO from sourced typical figures (${templates})` })
    .option('model', { type: 'string', describe: 'the model (catalog name or config.json path); overrides the plan file' })
    .option('gpus', { type: 'string', describe: 'GPU types to search, comma-separated (catalog names; repeatable); overrides the plan file' })
    .option('set', { type: 'string', array: true, describe: 'override a key of the plan: --set slo.ttft_p99_ms=800 (repeatable; after the file, the template and the flags)' })
    .option('thorough', { type: 'boolean', describe: 'longer simulated runs for a tighter answer, at about 3× the time' })
    .option('interactive', { type: 'boolean', describe: 'ask the questions of a plan in the terminal, write the plan file, then plan it' })
    .option('json', { type: 'boolean', describe: 'print the plan as JSON' })
    .option('emit-scenario', { type: 'string', describe: 'write the recommended deployment as a runnable scenario YAML' })
    .option('out', { type: 'string', describe: 'write plan.json (as --json prints), plan.md (a Markdown report) and plan.txt (the console table) to this folder' });
  return numericOption(withFlags, 'rate', { describe: 'mean requests per second (workload.rate_per_s); overrides the plan file' });
}

/**
 * The plan to search: the template's keys, under the plan file's, under the flags'. Without a
 * template the file must be a whole plan; either way the schema judges the result.
 */
export function planInput(args: PlanDeploymentArgs): DeploymentInput {
  if (args.file === undefined && args.template === undefined) {
    throw new InfersimError(`give a plan file (infersim plan PLAN.yaml) or a template (infersim plan --template ${TEMPLATE_NAMES.join('|')} --model M --rate R --gpus G), or infersim plan training FILE for a training estimate`);
  }
  const data: Record<string, unknown> = args.file === undefined ? {} : readDeploymentData(args.file);
  const sub = (key: string): Record<string, unknown> => {
    const v = data[key];
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  };
  if (args.model !== undefined) data.model = args.model;
  const rate = numberFlag('--rate', args.rate, { min: 0, minExclusive: true, unit: 'requests per second' });
  if (rate !== undefined) data.workload = { ...sub('workload'), rate_per_s: rate };
  if (args.gpus !== undefined) data.search = { ...sub('search'), gpus: [args.gpus].flat().flatMap((g) => g.split(',')).map((g) => g.trim()).filter((g) => g !== '') };
  // Sets of a section's key go in before the template (they may give what it needs: model, rate,
  // GPUs; the template merges key by key inside a section); all go in again over the merge, so a
  // deeper one changes one key of the template's own (`--set workload.input_tokens.mean=500`).
  const sets = (args.set ?? []).map(parseSet);
  applyOverrides(data, sets.filter((o) => o.key.length <= 2));
  const merged = args.template === undefined ? data : withTemplate(args.template, data);
  applyOverrides(merged, sets);
  return parseDeploymentObject(merged);
}

/**
 * `infersim plan`: from a plan file or a template, or with --interactive from the answers, which
 * are written to a plan file and then planned as `infersim plan FILE` would (runPlan).
 */
export function planDeploymentCommand(args: PlanDeploymentArgs, ask?: Ask): void | Promise<void> {
  // Before any question, so that a flag given twice is not reported after the last answer.
  eachOnce(args as unknown as Record<string, unknown>, ['file', 'emit-scenario', 'out', 'template', 'model']);
  if (args.interactive === true) return planInteractively(args, ask);
  runPlan(args);
}

function runPlan(args: PlanDeploymentArgs): void {
  const input = planInput(args);
  const plan = planDeployment(input, { thorough: args.thorough === true });
  const json = JSON.stringify(plan, null, 2);
  const text = consoleReport(plan);
  console.log(args.json ? json : text);
  // Written even when nothing is recommended: the pruned list says why, which is the answer then.
  if (args.out !== undefined) writeOutputs(args.out, { 'plan.json': `${json}\n`, 'plan.md': markdownReport(plan), 'plan.txt': `${text}\n` });
  const best = plan.recommended;
  if (best === null) throw new InfersimError(plan.verdict ?? 'no deployment meets the SLO');
  const out = args['emit-scenario'];
  if (out !== undefined) {
    // The deployment as it will run: every replica, spares included, at the peak rate (not the headroom's).
    const scenario = deploymentScenario(input, best, best.replicas, { deployed: true });
    const targets = Object.keys(input.slo).filter((k) => /_p\d+_ms$/.test(k));
    const header = `# infersim plan ${args.file ?? `--template ${args.template}`}: the recommended deployment (${best.replicas} × ${best.gpu}, TP ${best.tensor_parallel}, ${best.precision})\n`
      + (targets.length === 0 ? '' : `# percentile targets (${targets.map((k) => `${k} ${input.slo[k as keyof typeof input.slo]}`).join(', ')}) are the plan's: compare them with summary.json\n`);
    writeFileAtomic('--emit-scenario', out, header + YAML.stringify(scenario));
  }
}

/** The flags whose answers the wizard asks for itself: given with --interactive, one would be ignored. */
const ASKED = [['file', 'a plan file'], ['template', '--template'], ['model', '--model'], ['rate', '--rate'], ['gpus', '--gpus'], ['set', '--set']] as const;

async function planInteractively(args: PlanDeploymentArgs, ask?: Ask): Promise<void> {
  const given = ASKED.filter(([k]) => args[k] !== undefined).map(([, shown]) => shown);
  if (given.length > 0) throw new InfersimError(`--interactive asks for the whole plan; drop ${given.join(', ')} (or run infersim plan FILE without --interactive)`);
  const result = await askPlan(ask ?? (await terminalPrompts())).catch((err: unknown) => {
    // Ctrl+C or Ctrl+D at a question: inquirer's ExitPromptError, the user's choice rather than a bug.
    if (err instanceof Error && err.name === 'ExitPromptError') throw new InfersimError('--interactive: cancelled; no plan file written');
    throw err;
  });
  writePlanFile(result);
  // stderr: stdout stays the plan's (--json).
  console.error(`wrote ${result.shown}; planning it as infersim plan ${result.shown} would`);
  runPlan({ ...args, interactive: false, file: result.shown });
}

/** The real prompts, loaded only here: the rest of `infersim plan` starts without them. */
async function terminalPrompts(): Promise<Ask> {
  // Without a terminal inquirer cannot read keys and fails in its own words; say what to do instead.
  if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) throw new InfersimError('--interactive needs a terminal; write a plan file instead (see examples/plan/)');
  return import('@inquirer/prompts');
}

/**
 * Each file through a temporary name and a rename (writeFileAtomic), so a reader or a killed run
 * never leaves a half-written one; plan.json goes last, so its presence says the others are there.
 */
function writeOutputs(dir: string, files: Record<string, string>): void {
  for (const name of ['plan.md', 'plan.txt', 'plan.json']) writeFileAtomic('--out', join(dir, name), files[name]);
}
