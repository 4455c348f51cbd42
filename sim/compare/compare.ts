/**
 * `infersim compare`: a real benchmark's requests simulated on a scenario, and the error per metric,
 * each metric computed as the real tool computes it, on both sides from per-request data.
 */
import { definitionsOf, METRICS, STATS, statsOf, toolMetrics, type MetricName, type StatName } from './metrics.js';
import { readReal } from './read.js';
import { choosePlan, describePlan, simulateReal, type ArrivalMode, type SimulateOptions } from './simulate.js';
import type { GuidellmLayout, RealFormat, RealRun, TimedRequest } from './types.js';

export interface CompareOptions extends SimulateOptions {
  real: string;
  format?: RealFormat;
  /** A GuideLLM benchmark's or genai-perf experiment's index in the file (from 0). */
  index?: number;
  arrivals?: ArrivalMode;
}

/** Figures are null where they do not exist (every simulated request rejected: no simulated sample). */
export interface CompareRow {
  metric: MetricName;
  stat: StatName;
  real_s: number;
  sim_s: number | null;
  /** sim ÷ real − 1: the simulation's error against the real run. */
  error: number | null;
  /** real ÷ sim − 1: how much slower (+) or faster (−) the real run was than simulated. */
  real_vs_sim: number | null;
}

/** compare.json: the table, and per-request samples a report can overlay as CDFs (seconds). */
export interface CompareResult {
  /** `layout`: GuideLLM's request layout, which decides its definitions. */
  real: { file: string; format: RealFormat; layout?: GuidellmLayout; requests: number; failed: number; traffic: string };
  scenario: string;
  model: string;
  arrivals: string;
  simulated: { requests: number; unfinished: number };
  definitions: Partial<Record<MetricName, string>>;
  rows: CompareRow[];
  output_throughput: { real_tok_s: number | null; sim_tok_s: number | null; error: number | null };
  per_request: { real: Samples; sim: Samples };
  notes: string[];
}

type Samples = Partial<Record<'ttft_s' | 'tpot_s' | 'itl_s' | 'e2e_s', number[]>>;

/** Per-metric samples for compare.json; the pooled ITL gaps only where they stay small enough to store. */
function samples(values: Partial<Record<MetricName, number[]>>): Samples {
  const out: Samples = {};
  for (const m of METRICS) {
    const v = values[m];
    if (v !== undefined && (m !== 'itl' || v.length <= 200_000)) out[`${m}_s`] = v;
  }
  return out;
}

/** A figure, or null where there is none (an empty sample, a division by 0): JSON has no NaN. */
const figure = (x: number): number | null => (Number.isFinite(x) ? x : null);
const ratio = (a: number, b: number): number | null => figure(a / b - 1);

/** The table of one real run against its simulation (both already as TimedRequests). */
export function compareRequests(format: RealFormat, real: readonly TimedRequest[], sim: readonly TimedRequest[], realDuration_s?: number, layout?: GuidellmLayout) {
  const r = toolMetrics(format, real, realDuration_s, layout);
  const s = toolMetrics(format, sim, undefined, layout);
  const rows: CompareRow[] = [];
  for (const metric of METRICS) {
    const rv = r.values[metric];
    const sv = s.values[metric];
    if (rv === undefined || sv === undefined || rv.length === 0) continue;
    const rs = statsOf(rv);
    const ss = statsOf(sv);
    for (const stat of STATS) rows.push({ metric, stat, real_s: rs[stat], sim_s: figure(ss[stat]), error: ratio(ss[stat], rs[stat]), real_vs_sim: ratio(rs[stat], ss[stat]) });
  }
  const output_throughput = { real_tok_s: figure(r.output_throughput), sim_tok_s: figure(s.output_throughput), error: ratio(s.output_throughput, r.output_throughput) };
  return { rows, output_throughput, per_request: { real: samples(r.values), sim: samples(s.values) } };
}

export function compareReal(opts: CompareOptions): CompareResult {
  const run: RealRun = readReal(opts.real, opts.format, opts.index);
  const plan = choosePlan(run, opts.arrivals ?? 'auto');
  const sim = simulateReal(run, plan, opts);
  const table = compareRequests(run.format, run.requests, sim.requests, run.duration_s, run.layout);
  const notes = [...run.notes];
  if (run.failed > 0) notes.push(`${run.failed} request(s) failed in the real run: left out of the workload and the figures`);
  if (sim.unfinished > 0) notes.push(`${sim.unfinished} simulated request(s) did not finish (rejected or timed out): left out of the simulated figures`);
  return {
    real: { file: run.file, format: run.format, ...(run.layout && { layout: run.layout }), requests: run.requests.length, failed: run.failed, traffic: run.traffic },
    scenario: opts.scenario,
    model: sim.model,
    arrivals: describePlan(plan),
    simulated: { requests: sim.requests.length, unfinished: sim.unfinished },
    definitions: definitionsOf(run.format, run.layout),
    ...table,
    notes,
  };
}

// A missing figure (null, or NaN from an empty sample) is a dash in every cell.
const ms = (s: number | null): string => (s !== null && Number.isFinite(s) ? (s * 1000).toFixed(2) : '—');
const tokS = (x: number | null): string => (x !== null && Number.isFinite(x) ? x.toFixed(1) : '—');
const pct = (x: number | null): string => (x !== null && Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %` : '—');
const LABEL: Record<MetricName, string> = { ttft: 'TTFT', tpot: 'TPOT', itl: 'ITL', e2e: 'E2E' };

/** The console table: one line per metric and statistic (ms), then throughput, definitions and notes. */
export function formatCompare(c: CompareResult): string {
  const tp = c.output_throughput;
  const head = `${'metric'.padEnd(12)}${'real ms'.padStart(12)}${'sim ms'.padStart(12)}${'sim error'.padStart(11)}${'real vs sim'.padStart(13)}`;
  const lines = [
    `compare: ${c.real.file} (${c.real.format}, ${c.real.requests} requests; ${c.real.traffic})`,
    `simulated on ${c.scenario} (${c.model}): arrivals ${c.arrivals}`,
    '',
    head,
    ...c.rows.map((r) => `${`${LABEL[r.metric]} ${r.stat}`.padEnd(12)}${ms(r.real_s).padStart(12)}${ms(r.sim_s).padStart(12)}${pct(r.error).padStart(11)}${pct(r.real_vs_sim).padStart(13)}`),
    `${'output tok/s'.padEnd(12)}${tokS(tp.real_tok_s).padStart(12)}${tokS(tp.sim_tok_s).padStart(12)}${pct(tp.error).padStart(11)}${pct(tp.real_tok_s === null || tp.sim_tok_s === null ? null : tp.real_tok_s / tp.sim_tok_s - 1).padStart(13)}`,
    'sim error = sim ÷ real − 1; real vs sim = real ÷ sim − 1',
    '',
    `metrics as ${c.real.format}${c.real.layout === undefined ? '' : ` (${c.real.layout} layout)`} defines them:`,
    ...Object.entries(c.definitions).map(([m, d]) => `  ${LABEL[m as MetricName]}: ${d}`),
    ...c.notes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n');
}
