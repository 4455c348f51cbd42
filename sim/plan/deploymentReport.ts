import type { Candidate, Deployment, DeploymentPlan, ParetoPoint, PredictionBand } from './deployment.js';

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

const models = (plan: DeploymentPlan): string => [plan.model].flat().join(', ');

function headline(plan: DeploymentPlan): string[] {
  const w = plan.workload;
  const util = w.target_utilization < 1 ? ` ÷ utilization ${w.target_utilization}` : '';
  return [
    `${models(plan)} at ${w.rate_per_s} req/s × peak ${w.peak_factor}${util} (simulated ${+w.simulated_rate_per_s.toFixed(3)} req/s, ${w.requests} requests, first ${w.warmup_s.toFixed(1)} s as warmup${w.thorough ? ', thorough' : ''})`,
    Object.entries(plan.slo).map(([k, v]) => (k === 'attainment' ? `attainment ${pctText(v)}` : `${k.replace(/_ms$/, '')} ≤ ${v} ms`)).join(', '),
  ];
}

/** The knobs that set a candidate apart beyond GPU, TP and precision: the model (when several) and searched engine knobs. */
function extras(c: Candidate, several: boolean): string {
  const parts = [several ? c.model : undefined, c.max_num_seqs === undefined ? undefined : `max_num_seqs ${c.max_num_seqs}`,
    c.max_num_batched_tokens === undefined ? undefined : `budget ${c.max_num_batched_tokens}`];
  return parts.filter((p) => p !== undefined).join(', ');
}

const bounds = (b: { low: number | null; high: number | null }): string => (b.low === null && b.high === null ? '–' : `${ms(b.low)} to ${ms(b.high)}`);
const gpusText = (n: number): string => `${n} GPU${n === 1 ? '' : 's'}`;

function bandLine(b: PredictionBand | null | undefined): string[] {
  if (b === undefined) return [];
  if (b === null) return ['error band: none (the latency profile states none)'];
  const rel = `${(b.relative.low * 100).toFixed(0)} %/+${(b.relative.high * 100).toFixed(0)} %`;
  return [`with the latency model's error band (${rel}, ${b.relative.basis}): TTFT p99 ${bounds(b.ttft_p99_s)}, TPOT p99 ${bounds(b.tpot_p99_s)}, E2E p99 ${bounds(b.e2e_p99_s)}`];
}

function recommendation(best: Deployment, several: boolean): string[] {
  const p = best.predicted;
  const what = extras(best, several);
  const spares = best.spare_replicas > 0 ? ` (${best.slo_replicas} for the SLO + ${best.spare_replicas} spare; figures with the spares down)` : '';
  return [
    `${best.replicas} × ${best.gpu} at TP ${best.tensor_parallel} (${gpusText(best.gpus)}, ${best.precision}${what === '' ? '' : `, ${what}`})${spares}: ${usd(best.usd_per_hour)}/hour, ${usd(best.usd_per_month)}/month, ${perMillion(best)} per million output tokens`,
    `TTFT p50/p95/p99 ${msTriple(p.ttft_s)}, TPOT ${msTriple(p.tpot_s)}, ITL ${msTriple(p.itl_s)}, E2E ${msTriple(p.e2e_s)}, attainment ${pctText(p.attainment)}`,
    ...bandLine(best.band),
    `${p.requests_per_s?.toFixed(2) ?? '–'} req/s, ${p.output_tokens_per_s?.toFixed(0) ?? '–'} output tokens/s; engine max_num_seqs ${best.engine.max_num_seqs}, max_num_batched_tokens ${best.engine.max_num_batched_tokens}, max_model_len ${best.engine.max_model_len}`,
  ];
}

const HEAD = ['gpu', 'tp', 'precision', 'replicas', 'gpus', '$/hour', '$/month', 'TTFT p99', 'TPOT p95', 'E2E p99', 'attainment'];

function rows(ds: Deployment[], several: boolean): string[][] {
  return ds.map((d) => {
    const what = extras(d, several);
    return [
      what === '' ? d.gpu : `${d.gpu} (${what})`, String(d.tensor_parallel), d.precision, String(d.replicas), String(d.gpus), usd(d.usd_per_hour), usd(d.usd_per_month),
      ms(d.predicted.ttft_s.p99), ms(d.predicted.tpot_s.p95), ms(d.predicted.e2e_s.p99), pctText(d.predicted.attainment),
    ];
  });
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

const PARETO_HEAD = ['gpu', 'tp', 'precision', 'replicas', '$/hour', 'TTFT p99', 'TPOT p95', 'E2E p99'];

function paretoRows(ps: ParetoPoint[], several: boolean): string[][] {
  return ps.map((p) => {
    const what = extras(p, several);
    return [what === '' ? p.gpu : `${p.gpu} (${what})`, String(p.tensor_parallel), p.precision, String(p.replicas), usd(p.usd_per_hour), ms(p.ttft_p99_s), ms(p.tpot_p95_s), ms(p.e2e_p99_s)];
  });
}

const prunedLine = (p: Candidate & { reason: string }, several: boolean): string => {
  const what = extras(p, several);
  return `${p.gpu} TP ${p.tensor_parallel} ${p.precision}${what === '' ? '' : ` (${what})`}: ${p.reason}`;
};

/** The console report (also plan.txt). */
export function consoleReport(plan: DeploymentPlan): string {
  const [load, slo] = headline(plan);
  const several = Array.isArray(plan.model) && plan.model.length > 1;
  const lines = [`plan: ${load}`, `SLO: ${slo}`, `prices: ${plan.price_source}`, ''];
  const best = plan.recommended;
  if (best !== null) {
    const [first, ...rest] = recommendation(best, several);
    lines.push(`recommended: ${first}`, ...rest.map((l) => `  ${l}`), '', table(HEAD, rows([best, ...plan.alternatives], several)), '');
  } else if (plan.verdict !== undefined) lines.push(`no recommendation: ${plan.verdict}`, '');
  if (plan.pareto.length > 1) lines.push('cost against TTFT p99 (Pareto front of the deployments simulated):', table(PARETO_HEAD, paretoRows(plan.pareto, several)), '');
  if (plan.pruned.length > 0) {
    lines.push('pruned:');
    for (const p of plan.pruned) lines.push(`  ${prunedLine(p, several)}`);
  }
  return lines.join('\n').trimEnd();
}

// A pipe inside a cell would split it into two columns; a newline would end the table.
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown report (plan.md): the recommendation, every feasible deployment by cost, the pruned candidates with reasons. */
export function markdownReport(plan: DeploymentPlan): string {
  const [load, slo] = headline(plan);
  const several = Array.isArray(plan.model) && plan.model.length > 1;
  const lines = [`# Deployment plan: ${models(plan)}`, '', `- Workload: ${load}`, `- SLO: ${slo}`, `- Prices: ${plan.price_source}`, '', '## Recommendation', ''];
  const best = plan.recommended;
  if (best === null) lines.push(`None: ${plan.verdict ?? 'no deployment meets the SLO'}`, '');
  else lines.push(...recommendation(best, several).map((l, i) => (i === 0 ? `**${l}**` : `- ${l}`)), '');
  const line = (r: string[]): string => `| ${r.map(cell).join(' | ')} |`;
  const mdTable = (head: string[], body: string[][]) => [line(head), line(head.map(() => '---')), ...body.map(line), ''];
  lines.push('## Feasible deployments, cheapest first', '');
  if (best === null) lines.push('None.', '');
  else lines.push(...mdTable(HEAD, rows([best, ...plan.alternatives], several)));
  lines.push('## Cost against TTFT p99', '', 'The Pareto front of every deployment the search simulated that met the SLO.', '');
  if (plan.pareto.length === 0) lines.push('None.', '');
  else lines.push(...mdTable(PARETO_HEAD, paretoRows(plan.pareto, several)));
  lines.push('## Pruned candidates', '');
  if (plan.pruned.length === 0) lines.push('None.');
  for (const p of plan.pruned) lines.push(`- ${cell(prunedLine(p, several))}`);
  return lines.join('\n').trimEnd() + '\n';
}
