import type { Deployment, DeploymentPlan } from './deployment.js';

/**
 * The plan as people read it: the console table (plan.txt) and a Markdown report (plan.md). Both
 * are views of the same DeploymentPlan that `--json` prints, so the three formats cannot disagree.
 */

const msTriple = (p: { p50: number | null; p95: number | null; p99: number | null }): string =>
  [p.p50, p.p95, p.p99].map((v) => (v === null ? '–' : (v * 1000).toFixed(0))).join('/') + ' ms';
const usd = (n: number): string => `$${n < 100 ? n.toFixed(2) : Math.round(n).toLocaleString('en-US')}`;
const pctText = (f: number | null): string => (f === null ? '–' : `${(f * 100).toFixed(1)} %`);
const ms = (v: number | null): string => (v === null ? '–' : `${(v * 1000).toFixed(0)} ms`);
const perMillion = (d: Deployment): string => (d.usd_per_million_output_tokens === null ? '–' : usd(d.usd_per_million_output_tokens));

function headline(plan: DeploymentPlan): string[] {
  const w = plan.workload;
  return [
    `${plan.model} at ${w.rate_per_s} req/s × peak ${w.peak_factor} (simulated ${w.simulated_rate_per_s} req/s, ${w.requests} requests, first ${w.warmup_s.toFixed(1)} s as warmup)`,
    Object.entries(plan.slo).map(([k, v]) => (k === 'attainment' ? `attainment ${pctText(v)}` : `${k.replace(/_ms$/, '')} ≤ ${v} ms`)).join(', '),
  ];
}

function recommendation(best: Deployment): string[] {
  const p = best.predicted;
  return [
    `${best.replicas} × ${best.gpu} at TP ${best.tensor_parallel} (${best.gpus} GPUs, ${best.precision}): ${usd(best.usd_per_hour)}/hour, ${usd(best.usd_per_month)}/month, ${perMillion(best)} per million output tokens`,
    `TTFT p50/p95/p99 ${msTriple(p.ttft_s)}, TPOT ${msTriple(p.tpot_s)}, E2E ${msTriple(p.e2e_s)}, attainment ${pctText(p.attainment)}`,
    `${p.requests_per_s?.toFixed(2) ?? '–'} req/s, ${p.output_tokens_per_s?.toFixed(0) ?? '–'} output tokens/s; engine max_num_seqs ${best.engine.max_num_seqs}, max_num_batched_tokens ${best.engine.max_num_batched_tokens}, max_model_len ${best.engine.max_model_len}`,
  ];
}

const HEAD = ['gpu', 'tp', 'precision', 'replicas', 'gpus', '$/hour', '$/month', 'TTFT p99', 'TPOT p95', 'E2E p99', 'attainment'];

function rows(ds: Deployment[]): string[][] {
  return ds.map((d) => [
    d.gpu, String(d.tensor_parallel), d.precision, String(d.replicas), String(d.gpus), usd(d.usd_per_hour), usd(d.usd_per_month),
    ms(d.predicted.ttft_s.p99), ms(d.predicted.tpot_s.p95), ms(d.predicted.e2e_s.p99), pctText(d.predicted.attainment),
  ]);
}

function table(ds: Deployment[]): string {
  const body = rows(ds);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  return [HEAD, ...body].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** The console report (also plan.txt). */
export function consoleReport(plan: DeploymentPlan): string {
  const [load, slo] = headline(plan);
  const lines = [`plan: ${load}`, `SLO: ${slo}`, ''];
  const best = plan.recommended;
  if (best !== null) {
    const [first, ...rest] = recommendation(best);
    lines.push(`recommended: ${first}`, ...rest.map((l) => `  ${l}`), '', table([best, ...plan.alternatives]), '');
  } else if (plan.verdict !== undefined) lines.push(`no recommendation: ${plan.verdict}`, '');
  if (plan.pruned.length > 0) {
    lines.push('pruned:');
    for (const p of plan.pruned) lines.push(`  ${p.gpu} TP ${p.tensor_parallel} ${p.precision}: ${p.reason}`);
  }
  return lines.join('\n').trimEnd();
}

// A pipe inside a cell would split it into two columns; a newline would end the table.
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown report (plan.md): the recommendation, every feasible deployment by cost, the pruned candidates with reasons. */
export function markdownReport(plan: DeploymentPlan): string {
  const [load, slo] = headline(plan);
  const lines = [`# Deployment plan: ${plan.model}`, '', `- Workload: ${load}`, `- SLO: ${slo}`, '', '## Recommendation', ''];
  const best = plan.recommended;
  if (best === null) lines.push(`None: ${plan.verdict ?? 'no deployment meets the SLO'}`, '');
  else lines.push(...recommendation(best).map((l, i) => (i === 0 ? `**${l}**` : `- ${l}`)), '');
  lines.push('## Feasible deployments, cheapest first', '');
  if (best === null) lines.push('None.', '');
  else {
    const line = (r: string[]): string => `| ${r.map(cell).join(' | ')} |`;
    lines.push(line(HEAD), line(HEAD.map(() => '---')), ...rows([best, ...plan.alternatives]).map(line), '');
  }
  lines.push('## Pruned candidates', '');
  if (plan.pruned.length === 0) lines.push('None.');
  for (const p of plan.pruned) lines.push(`- ${p.gpu} TP ${p.tensor_parallel} ${p.precision}: ${cell(p.reason)}`);
  return lines.join('\n').trimEnd() + '\n';
}
