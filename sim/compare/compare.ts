/**
 * `infersim compare`: a real benchmark's requests simulated on a scenario, and the error per metric,
 * each metric computed as the real tool computes it, on both sides from per-request data.
 */
import { DEFINITIONS, METRICS, STATS, statsOf, toolMetrics, type MetricName, type StatName } from './metrics.js';
import { readReal } from './read.js';
import { choosePlan, describePlan, simulateReal, type ArrivalMode, type SimulateOptions } from './simulate.js';
import type { RealFormat, RealRun, TimedRequest } from './types.js';

export interface CompareOptions extends SimulateOptions {
  real: string;
  format?: RealFormat;
  /** A GuideLLM benchmark's or genai-perf experiment's index in the file (from 0). */
  index?: number;
  arrivals?: ArrivalMode;
}

export interface CompareRow {
  metric: MetricName;
  stat: StatName;
  real_s: number;
  sim_s: number;
  /** sim ÷ real − 1: the simulation's error against the real run. */
  error: number;
  /** real ÷ sim − 1: how much slower (+) or faster (−) the real run was than simulated. */
  real_vs_sim: number;
}

/** compare.json: the table, and per-request samples a report can overlay as CDFs (seconds). */
export interface CompareResult {
  real: { file: string; format: RealFormat; requests: number; failed: number; traffic: string };
  scenario: string;
  model: string;
  arrivals: string;
  simulated: { requests: number; unfinished: number };
  definitions: Partial<Record<MetricName, string>>;
  rows: CompareRow[];
  output_throughput: { real_tok_s: number; sim_tok_s: number; error: number };
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

/** The table of one real run against its simulation (both already as TimedRequests). */
export function compareRequests(format: RealFormat, real: readonly TimedRequest[], sim: readonly TimedRequest[], realDuration_s?: number) {
  const r = toolMetrics(format, real, realDuration_s);
  const s = toolMetrics(format, sim);
  const rows: CompareRow[] = [];
  for (const metric of METRICS) {
    const rv = r.values[metric];
    const sv = s.values[metric];
    if (rv === undefined || sv === undefined || rv.length === 0) continue;
    const rs = statsOf(rv);
    const ss = statsOf(sv);
    for (const stat of STATS) rows.push({ metric, stat, real_s: rs[stat], sim_s: ss[stat], error: ss[stat] / rs[stat] - 1, real_vs_sim: rs[stat] / ss[stat] - 1 });
  }
  const output_throughput = { real_tok_s: r.output_throughput, sim_tok_s: s.output_throughput, error: s.output_throughput / r.output_throughput - 1 };
  return { rows, output_throughput, per_request: { real: samples(r.values), sim: samples(s.values) } };
}

export function compareReal(opts: CompareOptions): CompareResult {
  const run: RealRun = readReal(opts.real, opts.format, opts.index);
  const plan = choosePlan(run, opts.arrivals ?? 'auto');
  const sim = simulateReal(run, plan, opts);
  const table = compareRequests(run.format, run.requests, sim.requests, run.duration_s);
  const notes = [...run.notes];
  if (run.failed > 0) notes.push(`${run.failed} request(s) failed in the real run: left out of the workload and the figures`);
  if (sim.unfinished > 0) notes.push(`${sim.unfinished} simulated request(s) did not finish (rejected or timed out): left out of the simulated figures`);
  return {
    real: { file: run.file, format: run.format, requests: run.requests.length, failed: run.failed, traffic: run.traffic },
    scenario: opts.scenario,
    model: sim.model,
    arrivals: describePlan(plan),
    simulated: { requests: sim.requests.length, unfinished: sim.unfinished },
    definitions: DEFINITIONS[run.format],
    ...table,
    notes,
  };
}

const ms = (s: number): string => (Number.isFinite(s) ? (s * 1000).toFixed(2) : '—');
const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %` : '—');
const LABEL: Record<MetricName, string> = { ttft: 'TTFT', tpot: 'TPOT', itl: 'ITL', e2e: 'E2E' };

/** The console table: one line per metric and statistic (ms), then throughput, definitions and notes. */
export function formatCompare(c: CompareResult): string {
  const head = `${'metric'.padEnd(12)}${'real ms'.padStart(12)}${'sim ms'.padStart(12)}${'sim error'.padStart(11)}${'real vs sim'.padStart(13)}`;
  const lines = [
    `compare: ${c.real.file} (${c.real.format}, ${c.real.requests} requests; ${c.real.traffic})`,
    `simulated on ${c.scenario} (${c.model}): arrivals ${c.arrivals}`,
    '',
    head,
    ...c.rows.map((r) => `${`${LABEL[r.metric]} ${r.stat}`.padEnd(12)}${ms(r.real_s).padStart(12)}${ms(r.sim_s).padStart(12)}${pct(r.error).padStart(11)}${pct(r.real_vs_sim).padStart(13)}`),
    `${'output tok/s'.padEnd(12)}${c.output_throughput.real_tok_s.toFixed(1).padStart(12)}${c.output_throughput.sim_tok_s.toFixed(1).padStart(12)}${pct(c.output_throughput.error).padStart(11)}${pct(c.output_throughput.real_tok_s / c.output_throughput.sim_tok_s - 1).padStart(13)}`,
    'sim error = sim ÷ real − 1; real vs sim = real ÷ sim − 1',
    '',
    `metrics as ${c.real.format} defines them:`,
    ...Object.entries(c.definitions).map(([m, d]) => `  ${LABEL[m as MetricName]}: ${d}`),
    ...c.notes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n');
}
