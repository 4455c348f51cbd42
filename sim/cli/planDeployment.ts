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
import { eachOnce, numberFlag, numericOption } from './flags.js';

export interface PlanDeploymentArgs {
  file?: string;
  json?: boolean;
  'emit-scenario'?: string;
  out?: string;
  template?: string;
  model?: string;
  rate?: unknown;
  gpus?: string | string[];
}

export function planDeploymentBuilder(y: Argv): Argv {
  const templates = TEMPLATE_NAMES.map((n) => `${n}: ${TEMPLATES[n].describe}`).join('; ');
  const withFlags = y
    .positional('file', { type: 'string', describe: 'a deployment plan (YAML or JSON): model, workload, slo, search; with --template, only the keys to change' })
    .option('template', { type: 'string', describe: `fill the workload shape and the SLO from sourced typical figures (${templates})` })
    .option('model', { type: 'string', describe: 'the model (catalog name or config.json path); overrides the plan file' })
    .option('gpus', { type: 'string', describe: 'GPU types to search, comma-separated (catalog names; repeatable); overrides the plan file' })
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
  return parseDeploymentObject(args.template === undefined ? data : withTemplate(args.template, data));
}

export function planDeploymentCommand(args: PlanDeploymentArgs): void {
  eachOnce(args as unknown as Record<string, unknown>, ['file', 'emit-scenario', 'out', 'template', 'model']);
  const input = planInput(args);
  const plan = planDeployment(input);
  const json = JSON.stringify(plan, null, 2);
  const text = consoleReport(plan);
  console.log(args.json ? json : text);
  // Written even when nothing is recommended: the pruned list says why, which is the answer then.
  if (args.out !== undefined) writeOutputs(args.out, { 'plan.json': `${json}\n`, 'plan.md': markdownReport(plan), 'plan.txt': `${text}\n` });
  const best = plan.recommended;
  if (best === null) throw new InfersimError(plan.verdict ?? 'no deployment meets the SLO');
  const out = args['emit-scenario'];
  if (out !== undefined) {
    const scenario = deploymentScenario(input, best, best.replicas);
    const header = `# infersim plan ${args.file ?? `--template ${args.template}`}: the recommended deployment (${best.replicas} × ${best.gpu}, TP ${best.tensor_parallel}, ${best.precision})\n`;
    writeFileAtomic('--emit-scenario', out, header + YAML.stringify(scenario));
  }
}

/**
 * Each file through a temporary name and a rename (writeFileAtomic), so a reader or a killed run
 * never leaves a half-written one; plan.json goes last, so its presence says the others are there.
 */
function writeOutputs(dir: string, files: Record<string, string>): void {
  for (const name of ['plan.md', 'plan.txt', 'plan.json']) writeFileAtomic('--out', join(dir, name), files[name]);
}
