import { join } from 'node:path';
import { InfersimError } from '../errors.js';
import { readManifest, readPoints, type SweepManifest } from '../sweep/store.js';
import { paretoFront } from '../sweep/report.js';
import { METRIC_NAMES, type MetricName, type PointRecord } from '../sweep/record.js';
import { fmt, rounded, type Chart, type HeatMap, type LineChart, type ReportData, type Table } from './model.js';

const LABEL: Partial<Record<MetricName, string>> = {
  ttft_p99_s: 'p99 TTFT (s)',
  tpot_p99_s: 'p99 TPOT (s)',
  e2e_p99_s: 'p99 E2E (s)',
  output_tokens_per_s: 'output tokens/s',
  goodput_req_per_s: 'goodput (req/s)',
  usd_per_million_output_tokens: '$ per M output tokens',
};
const label = (m: MetricName): string => LABEL[m] ?? m;

/** A sweep's folder: sweep.json names the keys and the report's latency axis; points/ holds each finished point. */
export function sweepReportData(dir: string): ReportData {
  const m = readManifest(dir, 'report');
  if (m === undefined) throw new InfersimError(`report: ${join(dir, 'sweep.json')} does not exist`);
  const records = [...readPoints(dir, m.fingerprint, m.points).values()].sort((a, b) => a.index - b.index);
  if (records.length === 0) throw new InfersimError(`report: ${join(dir, 'points')} holds no finished point of this sweep`);
  const latency = (METRIC_NAMES as readonly string[]).includes(m.report.latency) ? (m.report.latency as MetricName) : 'ttft_p99_s';
  const charts: Chart[] = [paretoChart(records, latency, 'output_tokens_per_s')];
  if (records.some((r) => r.metrics?.usd_per_million_output_tokens != null)) charts.push(paretoChart(records, latency, 'usd_per_million_output_tokens'));
  const heat = heatMaps(m, records, latency);
  return {
    kind: 'sweep',
    title: `infersim sweep report: ${m.points} points over ${m.keys.join(', ')}`,
    subtitle: `${dir} (scenario ${m.scenario})`,
    sections: [
      { title: 'Pareto front', note: `each point against the SLO's latency percentile (${label(latency)}); the line joins the points no other point beats on both axes`, tables: [], charts },
      ...(heat.length > 0 ? [{ title: 'Heat maps', tables: [], charts: heat }] : []),
      { title: 'Points', tables: [pointsTable(m, records)], charts: [] },
    ],
  };
}

/**
 * Throughput (higher is better) or cost (lower is better) against the latency percentile: all points,
 * and the front of those no other point beats on both.
 */
function paretoChart(records: readonly PointRecord[], latency: MetricName, y: 'output_tokens_per_s' | 'usd_per_million_output_tokens'): LineChart {
  const ok = records.filter((r) => r.metrics?.[latency] != null && r.metrics?.[y] != null);
  const lat = (r: PointRecord) => r.metrics![latency] as number;
  const val = (r: PointRecord) => r.metrics![y] as number;
  const front =
    y === 'output_tokens_per_s'
      ? paretoFront(ok, latency)
      : ok.filter((p) => !ok.some((q) => lat(q) <= lat(p) && val(q) <= val(p) && (lat(q) < lat(p) || val(q) < val(p))));
  const sorted = (rs: readonly PointRecord[]) => [...rs].sort((a, b) => lat(a) - lat(b));
  const xy = (rs: readonly PointRecord[]) => ({ x: sorted(rs).map(lat), y: sorted(rs).map(val) });
  return {
    type: 'points',
    id: `pareto-${y}`,
    title: `${label(y)} against ${label(latency)}`,
    x: label(latency),
    y: label(y),
    series: [rounded('points', xy(ok)), rounded('Pareto front', xy(front))],
    note: `${ok.length} points, ${front.length} on the front`,
  };
}

/** Keys with two or more distinct values; the first two make the heat maps' axes. */
function heatMaps(m: SweepManifest, records: readonly PointRecord[], latency: MetricName): HeatMap[] {
  const varied = m.keys.map((_, i) => i).filter((i) => new Set(m.values.map((v) => JSON.stringify(v[i]))).size > 1);
  if (varied.length < 2) return [];
  const [xi, yi] = varied as [number, number];
  const metrics: [MetricName, boolean][] = [[m.report.slo ? 'goodput_req_per_s' : 'output_tokens_per_s', true], [latency, false]];
  return metrics.map(([metric, higher]) => heatMap(m, records, xi, yi, metric, higher, varied.length > 2));
}

function heatMap(m: SweepManifest, records: readonly PointRecord[], xi: number, yi: number, metric: MetricName, higherIsBetter: boolean, more: boolean): HeatMap {
  const distinct = (i: number) => [...new Map(m.values.map((v) => [JSON.stringify(v[i]), v[i]])).entries()].sort((a, b) => compare(a[1], b[1])).map(([k]) => k);
  const xs = distinct(xi);
  const ys = distinct(yi);
  const z: (number | null)[][] = ys.map(() => xs.map(() => null));
  for (const r of records) {
    const v = r.metrics?.[metric];
    if (v == null) continue;
    const row = z[ys.indexOf(JSON.stringify(r.values[yi]))]!;
    const col = xs.indexOf(JSON.stringify(r.values[xi]));
    const cur = row[col];
    if (cur === null || cur === undefined || (higherIsBetter ? v > cur : v < cur)) row[col] = v;
  }
  return {
    type: 'heatmap',
    id: `heat-${metric}`,
    title: `${label(metric)} over ${m.keys[xi]} × ${m.keys[yi]}`,
    x: m.keys[xi]!,
    y: m.keys[yi]!,
    xs,
    ys,
    z,
    higherIsBetter,
    note: more ? 'more keys were swept: each cell shows the best point with these two values' : undefined,
  };
}

function compare(a: unknown, b: unknown): number {
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
}

const SHOWN: MetricName[] = ['output_tokens_per_s', 'goodput_req_per_s', 'slo_attainment', 'ttft_p50_s', 'ttft_p99_s', 'tpot_p99_s', 'e2e_p99_s', 'kv_mean_utilization', 'preemptions', 'usd_per_million_output_tokens'];

function pointsTable(m: SweepManifest, records: readonly PointRecord[]): Table {
  const rows = records.map((r) => [
    String(r.index),
    ...m.keys.map((_, i) => (typeof r.values[i] === 'string' ? (r.values[i] as string) : JSON.stringify(r.values[i]))),
    r.status === 'ok' ? 'ok' : `failed: ${r.error ?? ''}`,
    ...(m.find_max_rate ? [fmt(r.max_rate?.max_rate_per_s)] : []),
    ...SHOWN.map((k) => fmt(r.metrics?.[k])),
  ]);
  const missing = m.points - records.length;
  return {
    head: ['point', ...m.keys, 'status', ...(m.find_max_rate ? ['max rate /s'] : []), ...SHOWN],
    rows,
    note: missing > 0 ? `${missing} of ${m.points} points not recorded in this folder (another shard, or not run yet)` : undefined,
  };
}
