import { writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import YAML from 'yaml';
import { InfersimError } from '../errors.js';
import { deploymentScenario, type Deployment, type DeploymentPlan } from '../plan/deployment.js';
import { loadDeploymentFile } from '../plan/deploymentSchema.js';
import { planDeployment } from '../plan/deploymentSearch.js';
import { eachOnce } from './flags.js';

export interface PlanDeploymentArgs {
  file?: string;
  json?: boolean;
  'emit-scenario'?: string;
}

export function planDeploymentBuilder(y: Argv): Argv {
  return y
    .positional('file', { type: 'string', describe: 'a deployment plan (YAML or JSON): model, workload, slo, search' })
    .option('json', { type: 'boolean', describe: 'print the plan as JSON' })
    .option('emit-scenario', { type: 'string', describe: 'write the recommended deployment as a runnable scenario YAML' });
}

export function planDeploymentCommand(args: PlanDeploymentArgs): void {
  eachOnce(args as unknown as Record<string, unknown>, ['file', 'emit-scenario']);
  if (args.file === undefined) {
    throw new InfersimError('give a plan file: infersim plan PLAN.yaml (its templates and wizard are not built yet), or infersim plan training FILE for a training estimate');
  }
  const input = loadDeploymentFile(args.file);
  const plan = planDeployment(input);
  console.log(args.json ? JSON.stringify(plan, null, 2) : report(plan));
  const best = plan.recommended;
  if (best === null) throw new InfersimError(plan.verdict ?? 'no deployment meets the SLO');
  const out = args['emit-scenario'];
  if (out !== undefined) {
    const scenario = deploymentScenario(input, best, best.replicas);
    const header = `# infersim plan ${args.file}: the recommended deployment (${best.replicas} × ${best.gpu}, TP ${best.tensor_parallel}, ${best.precision})\n`;
    writeFileSync(out, header + YAML.stringify(scenario));
  }
}

const msTriple = (p: { p50: number | null; p95: number | null; p99: number | null }): string =>
  [p.p50, p.p95, p.p99].map((v) => (v === null ? '–' : (v * 1000).toFixed(0))).join('/') + ' ms';
const usd = (n: number): string => `$${n < 100 ? n.toFixed(2) : Math.round(n).toLocaleString('en-US')}`;
const pctText = (f: number | null): string => (f === null ? '–' : `${(f * 100).toFixed(1)} %`);

function report(plan: DeploymentPlan): string {
  const w = plan.workload;
  const lines = [
    `plan: ${plan.model} at ${w.rate_per_s} req/s × peak ${w.peak_factor} (simulated ${w.simulated_rate_per_s} req/s, ${w.requests} requests, first ${w.warmup_s.toFixed(1)} s as warmup)`,
    `SLO: ${Object.entries(plan.slo).map(([k, v]) => (k === 'attainment' ? `attainment ${pctText(v)}` : `${k.replace(/_ms$/, '')} ≤ ${v} ms`)).join(', ')}`,
    '',
  ];
  const best = plan.recommended;
  if (best !== null) {
    const p = best.predicted;
    lines.push(
      `recommended: ${best.replicas} × ${best.gpu} at TP ${best.tensor_parallel} (${best.gpus} GPUs, ${best.precision}): ${usd(best.usd_per_hour)}/hour, ${usd(best.usd_per_month)}/month, ${best.usd_per_million_output_tokens === null ? '–' : usd(best.usd_per_million_output_tokens)} per million output tokens`,
      `  TTFT p50/p95/p99 ${msTriple(p.ttft_s)}, TPOT ${msTriple(p.tpot_s)}, E2E ${msTriple(p.e2e_s)}, attainment ${pctText(p.attainment)}`,
      `  ${p.requests_per_s?.toFixed(2) ?? '–'} req/s, ${p.output_tokens_per_s?.toFixed(0) ?? '–'} output tokens/s; engine max_num_seqs ${best.engine.max_num_seqs}, max_num_batched_tokens ${best.engine.max_num_batched_tokens}, max_model_len ${best.engine.max_model_len}`,
      '',
    );
  } else if (plan.verdict !== undefined) lines.push(`no recommendation: ${plan.verdict}`, '');
  if (best !== null) lines.push(table([best, ...plan.alternatives]), '');
  if (plan.pruned.length > 0) {
    lines.push('pruned:');
    for (const p of plan.pruned) lines.push(`  ${p.gpu} TP ${p.tensor_parallel} ${p.precision}: ${p.reason}`);
  }
  return lines.join('\n').trimEnd();
}

function table(rows: Deployment[]): string {
  const head = ['gpu', 'tp', 'precision', 'replicas', 'gpus', '$/hour', '$/month', 'TTFT p99', 'TPOT p95', 'E2E p99', 'attainment'];
  const ms = (v: number | null): string => (v === null ? '–' : `${(v * 1000).toFixed(0)} ms`);
  const body = rows.map((d) => [
    d.gpu, String(d.tensor_parallel), d.precision, String(d.replicas), String(d.gpus), usd(d.usd_per_hour), usd(d.usd_per_month),
    ms(d.predicted.ttft_s.p99), ms(d.predicted.tpot_s.p95), ms(d.predicted.e2e_s.p99), pctText(d.predicted.attainment),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
