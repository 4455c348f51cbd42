import { join } from 'node:path';
import type { Argv } from 'yargs';
import YAML from 'yaml';
import { InfersimError } from '../errors.js';
import { writeFileAtomic } from '../fsErrors.js';
import { deploymentScenario } from '../plan/deployment.js';
import { consoleReport, markdownReport } from '../plan/deploymentReport.js';
import { loadDeploymentFile } from '../plan/deploymentSchema.js';
import { planDeployment } from '../plan/deploymentSearch.js';
import { eachOnce } from './flags.js';

export interface PlanDeploymentArgs {
  file?: string;
  json?: boolean;
  'emit-scenario'?: string;
  out?: string;
}

export function planDeploymentBuilder(y: Argv): Argv {
  return y
    .positional('file', { type: 'string', describe: 'a deployment plan (YAML or JSON): model, workload, slo, search' })
    .option('json', { type: 'boolean', describe: 'print the plan as JSON' })
    .option('emit-scenario', { type: 'string', describe: 'write the recommended deployment as a runnable scenario YAML' })
    .option('out', { type: 'string', describe: 'write plan.json (as --json prints), plan.md (a Markdown report) and plan.txt (the console table) to this folder' });
}

export function planDeploymentCommand(args: PlanDeploymentArgs): void {
  eachOnce(args as unknown as Record<string, unknown>, ['file', 'emit-scenario', 'out']);
  if (args.file === undefined) {
    throw new InfersimError('give a plan file: infersim plan PLAN.yaml (its templates and wizard are not built yet), or infersim plan training FILE for a training estimate');
  }
  const input = loadDeploymentFile(args.file);
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
    const header = `# infersim plan ${args.file}: the recommended deployment (${best.replicas} × ${best.gpu}, TP ${best.tensor_parallel}, ${best.precision})\n`;
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
