import { describePoint } from './grid.js';
import type { MetricName, PointRecord } from './record.js';

export interface ReportSpec {
  keys: string[];
  /** The latency percentile on the Pareto front's second axis. */
  latency: MetricName;
  /** Whether the scenario states an SLO (else "best" is the highest throughput). */
  slo: boolean;
  findMaxRate: boolean;
}

/** The scenario SLO's metric at p99 (TTFT first, then TPOT, then E2E), p99 TTFT without an SLO. */
export function latencyMetricFor(slo: { ttft_ms?: number; tpot_ms?: number; e2e_ms?: number } | undefined): MetricName {
  if (slo?.ttft_ms !== undefined || slo === undefined) return 'ttft_p99_s';
  if (slo.tpot_ms !== undefined) return 'tpot_p99_s';
  if (slo.e2e_ms !== undefined) return 'e2e_p99_s';
  return 'ttft_p99_s';
}

/**
 * Points not dominated on (output tokens/s ↑, latency ↓): no other point is at least as good on
 * both and better on one. Sorted by throughput, ascending (so latency ascends too).
 */
export function paretoFront(records: readonly PointRecord[], latency: MetricName): PointRecord[] {
  const ok = records.filter((r) => r.metrics?.output_tokens_per_s != null && r.metrics?.[latency] != null);
  const x = (r: PointRecord) => r.metrics!.output_tokens_per_s as number;
  const y = (r: PointRecord) => r.metrics![latency] as number;
  const front = ok.filter((p) => !ok.some((q) => x(q) >= x(p) && y(q) <= y(p) && (x(q) > x(p) || y(q) < y(p))));
  return front.sort((a, b) => x(a) - x(b) || y(a) - y(b) || a.index - b.index);
}

/** Max goodput (or max sustainable rate, or throughput without an SLO); ties go to the lower index. */
export function bestPoint(records: readonly PointRecord[], spec: ReportSpec): PointRecord | undefined {
  const score = (r: PointRecord): number | null =>
    spec.findMaxRate ? (r.max_rate?.max_rate_per_s ?? null) : ((spec.slo ? r.metrics?.goodput_req_per_s : r.metrics?.output_tokens_per_s) ?? null);
  let best: PointRecord | undefined;
  for (const r of [...records].sort((a, b) => a.index - b.index)) {
    const s = score(r);
    if (s !== null && (best === undefined || s > (score(best) as number))) best = r;
  }
  return best;
}

const LABEL: Partial<Record<MetricName, string>> = { ttft_p99_s: 'p99 TTFT s', tpot_p99_s: 'p99 TPOT s', e2e_p99_s: 'p99 E2E s' };

const fmt = (v: number | null | undefined, digits = 3): string => (v == null ? '—' : v.toPrecision(digits > 3 ? digits : 4));

export function formatReport(records: readonly PointRecord[], spec: ReportSpec): string {
  const lines: string[] = [];
  const failed = records.filter((r) => r.status === 'failed').sort((a, b) => a.index - b.index);
  const front = paretoFront(records, spec.latency);
  const latencyLabel = LABEL[spec.latency] ?? spec.latency;
  lines.push(`Pareto front (output tok/s vs ${latencyLabel}): ${front.length} of ${records.length - failed.length} completed points`);
  // Without an SLO, goodput is the throughput and attainment 100 %: show requests/s instead.
  const header = ['point', ...spec.keys, ...(spec.findMaxRate ? ['max rate/s'] : []), 'out tok/s', latencyLabel, ...(spec.slo ? ['goodput/s', 'SLO %'] : ['req/s'])];
  const rows = front.map((r) => [
    String(r.index),
    ...r.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
    ...(spec.findMaxRate ? [fmt(r.max_rate?.max_rate_per_s)] : []),
    fmt(r.metrics?.output_tokens_per_s),
    fmt(r.metrics?.[spec.latency]),
    ...(spec.slo
      ? [fmt(r.metrics?.goodput_req_per_s), r.metrics?.slo_attainment == null ? '—' : (100 * r.metrics.slo_attainment).toFixed(1)]
      : [fmt(r.metrics?.requests_per_s)]),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  for (const row of [header, ...rows]) lines.push('  ' + row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  const best = bestPoint(records, spec);
  const what = spec.findMaxRate ? 'highest sustainable rate' : spec.slo ? "best for the scenario's SLO (max goodput)" : 'highest throughput (the scenario has no SLO)';
  if (best === undefined) lines.push(`${what}: no point qualifies`);
  else {
    const m = best.metrics;
    const figures = spec.findMaxRate
      ? `${fmt(best.max_rate?.max_rate_per_s)} req/s with SLO attainment ${m?.slo_attainment == null ? '—' : (100 * m.slo_attainment).toFixed(1) + ' %'}`
      : !spec.slo
        ? `${fmt(m?.output_tokens_per_s)} output tok/s, ${fmt(m?.requests_per_s)} req/s`
        : `goodput ${fmt(m?.goodput_req_per_s)} req/s, SLO attainment ${m?.slo_attainment == null ? '—' : (100 * m.slo_attainment).toFixed(1) + ' %'}, ${fmt(m?.output_tokens_per_s)} output tok/s`;
    lines.push(`${what}: point ${best.index} (${describePoint(spec.keys, best.values)}): ${figures}`);
  }
  if (failed.length > 0) {
    lines.push(`${failed.length} point${failed.length === 1 ? '' : 's'} failed (sweep.arrow's error column has every message):`);
    for (const r of failed.slice(0, 3)) lines.push(`  point ${r.index} (${describePoint(spec.keys, r.values)}): ${r.error}`);
  }
  return lines.join('\n');
}
