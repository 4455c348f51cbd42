import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfersimError } from '../errors.js';
import { withPath } from '../fsErrors.js';
import { DEFAULT_MAX_POINTS } from './decimate.js';
import { readIterations } from './iterationsData.js';
import { fmt, pct, pick, pickNum, rounded, type LineChart, type ReportData, type Section } from './model.js';
import { arrivalCharts, cdfCharts, readRequests, type RequestFigures } from './requestsData.js';
import { compareSection } from './compareData.js';
import { eventsTable, featureTables, latencyModelTable, overviewTable, percentileTable, poolTables, scenarioText } from './summaryTables.js';

/** The files a run's report reads, all written by `infersim run`. */
export const RUN_FILES = ['summary.json', 'requests.arrow', 'iterations.arrow'] as const;

export function readSummary(dir: string): unknown {
  const file = join(dir, 'summary.json');
  const text = withPath('report', 'read', file, () => readFileSync(file, 'utf8'));
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InfersimError(`report: ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Everything the page shows for one run's output folder. */
export function runReportData(dir: string, maxPoints = DEFAULT_MAX_POINTS): ReportData {
  for (const f of RUN_FILES) if (!existsSync(join(dir, f))) throw new InfersimError(`report: ${join(dir, f)} does not exist (a run's output folder holds ${RUN_FILES.join(', ')})`);
  const s = readSummary(dir);
  const makespan = Math.max(pickNum(s, 'makespan_s') ?? 0, 1e-9);
  const req = readRequests(join(dir, 'requests.arrow'), makespan, maxPoints);
  const it = readIterations(join(dir, 'iterations.arrow'), makespan, maxPoints);
  const compared = compareSection(dir);
  const sections: Section[] = [
    { title: 'Overview', tables: [overviewTable(s), ...featureTables(s)], charts: [] },
    ...(compared === undefined ? [] : [compared]),
    { title: 'Latency distributions', tables: [percentileTable(s)], charts: cdfCharts(req) },
    { title: 'Latency against arrival time', tables: [], charts: arrivalCharts(req) },
    { title: 'Engine over time', note: `${it.steps.toLocaleString('en-US')} engine steps on ${it.replicas.length} replica${it.replicas.length === 1 ? '' : 's'}`, tables: [], charts: [...it.charts, completionsChart(req)] },
  ];
  const pools = poolTables(s);
  if (pools.length > 0) sections.push({ title: 'Replicas and pools', tables: pools, charts: [] });
  sections.push(cacheSection(s, req, it.preempted > 0 ? [it.preemptionChart] : []));
  const events = eventsTable(s);
  sections.push({ title: 'Scenario and latency model', tables: [latencyModelTable(s), ...(events ? [events] : [])], charts: [], pre: scenarioText(s) });
  return { kind: 'run', title: `infersim report: ${titleOf(s)}`, subtitle: dir, sections };
}

function titleOf(s: unknown): string {
  const model = pick(s, 'scenario.model');
  const replicas = pick(s, 'per_replica');
  const n = Array.isArray(replicas) ? replicas.length : 1;
  // A run with pools names each pool's GPUs (and model, where they differ).
  const pools = pick(s, 'pools');
  if (Array.isArray(pools) && pools.length > 1) {
    const parts = pools.map((p: Record<string, unknown>) => `${String(p.replicas ?? '?')} × ${String(p.gpu ?? '?')}${p.model !== undefined && p.model !== model ? ` (${String(p.model)})` : ''}`);
    return `${String(model ?? 'run')} on ${parts.join(' + ')}`;
  }
  return `${String(model ?? 'run')} on ${n} × ${String(pick(s, 'scenario.hardware.gpu') ?? '?')}`;
}

function completionsChart(req: RequestFigures): LineChart {
  return { type: 'line', id: 'completions', title: 'Completed requests over time', x: 'time (s)', y: 'requests/s', series: [rounded('finished /s', req.completions)], note: 'by finish time, 500 bins' };
}

function cacheSection(s: unknown, req: RequestFigures, preemption: LineChart[]): Section {
  const charts = [...preemption];
  if (req.cachedTokens > 0) {
    charts.push({ type: 'line', id: 'prefix-hits', title: 'Prefix-cache hit rate over arrival time', x: 'arrival (s)', y: '% of prompt tokens cached', series: [rounded('hit rate %', { x: req.prefixHitRate.x, y: req.prefixHitRate.y.map((v) => v * 100) })], note: '500 bins of arrival time' });
  }
  const rows = [
    ['preemptions (sequences)', fmt(pickNum(s, 'overall.preemptions'))],
    ['prefix-cache hit rate', `${pct(pickNum(s, 'overall.prefix_cache.hit_rate'))} (${fmt(pickNum(s, 'overall.prefix_cache.cached_tokens'))} of ${fmt(pickNum(s, 'overall.prefix_cache.input_tokens'))} prompt tokens)`],
    ['cached blocks', `mean ${fmt(pickNum(s, 'kv.cached_blocks_mean'))}, max ${fmt(pickNum(s, 'kv.cached_blocks_max'))}; evicted ${fmt(pickNum(s, 'kv.evicted_blocks'))}`],
    ['swap', `out ${fmt(pickNum(s, 'kv.swap_out_blocks'))} blocks, in ${fmt(pickNum(s, 'kv.swap_in_blocks'))} blocks`],
  ];
  const none = charts.length === 0 ? 'No preemptions and no prefix-cache hits in this run: nothing to draw over time.' : undefined;
  return { title: 'Preemptions and prefix cache', note: none, tables: [{ head: ['', ''], rows }], charts };
}
