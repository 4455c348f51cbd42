import { fmt, pct, pick, pickNum, type Table } from './model.js';

/** Tables from summary.json: the overview, percentiles with the latency band, per replica and pool. */

export function overviewTable(s: unknown): Table {
  const req = (k: string) => fmt(pickNum(s, `overall.requests.${k}`));
  const rows: [string, string][] = [
    ['requests', `${req('total')} (finished ${req('finished')}, rejected ${req('rejected')}, timed out ${req('timed_out')}, failed ${req('failed')})`],
    ['makespan', `${fmt(pickNum(s, 'makespan_s'))} s`],
    ['throughput', `${fmt(pickNum(s, 'overall.throughput.requests_per_s'))} req/s, ${fmt(pickNum(s, 'overall.throughput.output_tokens_per_s'))} output tok/s, ${fmt(pickNum(s, 'overall.throughput.total_tokens_per_s'))} total tok/s`],
    ['SLO', `${sloText(s)}: ${pct(pickNum(s, 'overall.slo.attainment'))} attained, goodput ${fmt(pickNum(s, 'overall.slo.goodput_req_per_s'))} req/s`],
    ['KV use', `mean ${pct(pickNum(s, 'kv.mean_utilization'))}, max ${pct(pickNum(s, 'kv.max_utilization'))}`],
    ['prefix cache', `${pct(pickNum(s, 'overall.prefix_cache.hit_rate'))} of ${fmt(pickNum(s, 'overall.prefix_cache.input_tokens'))} prompt tokens hit`],
    ['preemptions', fmt(pickNum(s, 'overall.preemptions'))],
    ['cost', `${fmt(pickNum(s, 'cost.gpu_hours'))} GPU-h, $${fmt(pickNum(s, 'cost.usd_total'))}, $${fmt(pickNum(s, 'cost.usd_per_million_output_tokens'))}/M output tok`],
  ];
  return { head: ['', ''], rows };
}

/** summary.json's feature figures, where the run has them: speculative decoding, pipeline, LoRA, prefill/decode. */
const FEATURES = [
  ['speculative', 'Speculative decoding'],
  ['pipeline', 'Pipeline parallelism'],
  ['lora', 'Multi-LoRA'],
  ['disaggregation', 'Prefill/decode disaggregation'],
] as const;

/** One table per engine feature the run used: each figure summary.json gives, as it names it. */
export function featureTables(s: unknown): Table[] {
  return FEATURES.flatMap(([key, title]) => {
    const figures = pick(s, key);
    if (figures === null || typeof figures !== 'object') return [];
    const rows = Object.entries(figures as Record<string, unknown>)
      .filter(([, v]) => v === null || typeof v !== 'object')
      .map(([k, v]): [string, string] => [k.replace(/_/g, ' '), typeof v === 'number' ? fmt(v) : v === null ? '—' : String(v)]);
    return rows.length === 0 ? [] : [{ title, head: ['', ''], rows, note: `summary.json ${key}` }];
  });
}

function sloText(s: unknown): string {
  const t = pick(s, 'slo_targets') as Record<string, number | null> | undefined;
  const parts = Object.entries(t ?? {})
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k.replace(/_ms$/, '').toUpperCase()} ≤ ${v} ms`);
  return parts.length > 0 ? parts.join(', ') : 'no SLO';
}

const LATENCIES = [
  ['ttft_s', 'TTFT'],
  ['tpot_s', 'TPOT'],
  ['itl_s', 'ITL (every gap)'],
  ['e2e_s', 'E2E'],
  ['queueing_delay_s', 'queueing'],
] as const;

const ms = (v: number | undefined) => fmt(v === undefined ? undefined : v * 1000);

/** mean, p50 … max in ms; where the run has a latency band, p50 and p99 with their [low – high]. */
export function percentileTable(s: unknown): Table {
  const band = (key: string, q: string): string => {
    const lo = pickNum(s, `uncertainty.${key}.${q}.low`);
    const hi = pickNum(s, `uncertainty.${key}.${q}.high`);
    return lo === undefined || hi === undefined ? '' : ` [${ms(lo)} – ${ms(hi)}]`;
  };
  const rows = LATENCIES.map(([key, name]) => {
    const q = (p: string) => ms(pickNum(s, `overall.${key}.${p}`));
    return [name, q('mean') + band(key, 'mean'), q('p50') + band(key, 'p50'), q('p90') + band(key, 'p90'), q('p95'), q('p99') + band(key, 'p99'), q('max'), fmt(pickNum(s, `overall.${key}.count`))];
  });
  const hasBand = pick(s, 'uncertainty.band') !== undefined;
  return {
    title: 'Latency percentiles (ms)',
    head: ['metric', 'mean', 'p50', 'p90', 'p95', 'p99', 'max', 'count'],
    rows,
    note: hasBand ? '[low – high]: the same run with every step time at the latency model\'s error-band edges (panel "Scenario and latency model")' : undefined,
  };
}

type Group = Record<string, unknown>;

/** One row per replica or per pool (summary.json per_replica / pools). */
export function groupTable(title: string, groups: Group[], label: (g: Group) => string): Table {
  const rows = groups.map((g) => [
    label(g),
    fmt(pickNum(g, 'requests.total')),
    fmt(pickNum(g, 'throughput.output_tokens_per_s')),
    ms(pickNum(g, 'ttft_s.p50')),
    ms(pickNum(g, 'ttft_s.p99')),
    ms(pickNum(g, 'tpot_s.p99')),
    ms(pickNum(g, 'e2e_s.p99')),
    pct(pickNum(g, 'slo.attainment')),
    fmt(pickNum(g, 'preemptions')),
    pct(pickNum(g, 'prefix_cache.hit_rate')),
  ]);
  return { title, head: ['', 'requests', 'out tok/s', 'TTFT p50 ms', 'TTFT p99 ms', 'TPOT p99 ms', 'E2E p99 ms', 'SLO', 'preemptions', 'prefix hits'], rows };
}

export function poolTables(s: unknown): Table[] {
  const out: Table[] = [];
  const pools = pick(s, 'pools');
  if (Array.isArray(pools) && pools.length > 1) out.push(groupTable('Per pool', pools as Group[], (g) => `${String(g.pool)} (${String(g.replicas)}× ${String(g.gpu)})`));
  const reps = pick(s, 'per_replica');
  if (Array.isArray(reps) && reps.length > 1) out.push(groupTable('Per replica', reps as Group[], (g) => `replica ${String(g.replica)}`));
  return out;
}

/** The latency model: its description, where its numbers come from, and its error band. */
export function latencyModelTable(s: unknown): Table {
  const band = pick(s, 'uncertainty.band') as { low?: number; high?: number; basis?: string } | undefined;
  const scale = pick(s, 'uncertainty.time_scale') as { low?: number; high?: number } | undefined;
  const sources = pick(s, 'latency.sources');
  const rows: string[][] = [
    ['model', String(pick(s, 'latency.model') ?? '—')],
    ['profile', String(pick(s, 'latency.profile') ?? '—')],
    ['sources', Array.isArray(sources) ? sources.join(', ') : '—'],
    ['error band', band === undefined ? 'none (metrics.uncertainty off)' : `${pct(band.low)} / +${pct(band.high)} on every step time (× ${fmt(scale?.low)} … × ${fmt(scale?.high)})`],
    ['band basis', band?.basis ?? '—'],
  ];
  const notes = pick(s, 'notes');
  if (Array.isArray(notes)) notes.forEach((n, i) => rows.push([i === 0 ? 'notes' : '', String(n)]));
  return { title: 'Latency model', head: ['', ''], rows };
}

/** summary.json's scenario (defaults filled in), as indented JSON. */
export function scenarioText(s: unknown): string {
  return JSON.stringify(pick(s, 'scenario') ?? {}, null, 2);
}

export function eventsTable(s: unknown): Table | undefined {
  const events = pick(s, 'events');
  if (!Array.isArray(events) || events.length === 0) return undefined;
  const shown = events.slice(0, 100) as Group[];
  return {
    title: 'Events (traffic and scaling decisions, failures)',
    head: ['time s', 'kind', 'pool', 'detail'],
    rows: shown.map((e) => [fmt(e.time_s as number), String(e.kind ?? ''), String(e.pool ?? ''), JSON.stringify(Object.fromEntries(Object.entries(e).filter(([k]) => !['time_s', 'kind', 'pool'].includes(k))))]),
    note: events.length > shown.length ? `the first ${shown.length} of ${events.length}` : undefined,
  };
}
