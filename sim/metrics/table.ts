import type { Stats } from './stats.js';
import type { Bounds, StatBounds, Summary, UncertaintySummary } from './summary.js';

/** A compact console rendering of a summary; '-' marks a value that is undefined (null). */
export function formatSummaryTable(s: Summary): string {
  return [
    ...runLines(s),
    ...latencyLines(s.overall, s.uncertainty),
    ...boundsLines(s),
    ...kvLines(s),
    ...sloLines(s),
    costLine(s.cost),
    ...faultLines(s.faults),
    ...disaggLines(s.disaggregation),
    ...perReplicaLines(s.per_replica),
    ...perPoolLines(s.pools),
    ...eventLines(s.events),
    ...perPriorityLines(s.per_priority),
  ].join('\n');
}

type Group = Summary['overall'];

/** With an uncertainty band, each figure it covers is followed by its bounds: `123.4 [110.2 – 135.9]`. */
function withBounds(text: string, b: Bounds | undefined, fmt: (x: number | null) => string): string {
  return b === undefined ? text : `${text} [${fmt(b.low)} – ${fmt(b.high)}]`;
}

function runLines(s: Summary): string[] {
  const o = s.overall;
  const r = o.requests;
  const u = s.uncertainty;
  return [
    `requests     ${r.total} (finished ${r.finished}, rejected ${r.rejected}, timed out ${r.timed_out}${r.failed > 0 ? `, failed ${r.failed}` : ''})` +
      `  makespan ${num(s.makespan_s, 2)} s` +
      (s.warmup_s > 0 ? `  warmup ${num(s.warmup_s, 2)} s (${r.measured} measured)` : ''),
    `throughput   ${withBounds(num(o.throughput.requests_per_s, 2), u?.throughput.requests_per_s, (x) => num(x, 2))} req/s` +
      `  ${withBounds(num(o.throughput.output_tokens_per_s, 0), u?.throughput.output_tokens_per_s, (x) => num(x, 0))} output tok/s` +
      `  ${num(o.throughput.total_tokens_per_s, 0)} total tok/s`,
  ];
}

const LATENCY_COLUMNS = ['p50', 'p90', 'p99', 'mean'] as const;

function latencyLines(o: Group, u: UncertaintySummary | null): string[] {
  const row = (name: string, st: Stats, b?: StatBounds): string[] => [name, ...LATENCY_COLUMNS.map((c) => withBounds(ms(st[c]), b?.[c], ms))];
  const grid = [
    ['latency ms', ...LATENCY_COLUMNS],
    row('TTFT', o.ttft_s, u?.ttft_s),
    row('TPOT', o.tpot_s, u?.tpot_s),
    row('ITL', o.itl_s, u?.itl_s),
    row('E2E', o.e2e_s, u?.e2e_s),
    row('queueing', o.queueing_delay_s),
  ];
  // Columns are 10 wide, wider where bounds need it.
  const widths = LATENCY_COLUMNS.map((_, i) => Math.max(10, ...grid.map((r) => r[i + 1].length + 2)));
  return grid.map((r, k) => (k === 0 ? r[0].padEnd(13) : `  ${r[0].padEnd(11)}`) + widths.map((w, i) => r[i + 1].padStart(w)).join(''));
}

/** What the bounds are, or why there are none (when the notes say). */
function boundsLines(s: Summary): string[] {
  const u = s.uncertainty;
  if (u !== null) {
    return [
      `bounds       [low – high]: min and max of two re-runs with every iteration time × ${u.time_scale.low.toFixed(3)} and × ${u.time_scale.high.toFixed(3)}` +
        ` (latency error band ${signedPct(u.band.low)} / ${signedPct(u.band.high)}; basis: ${u.band.basis})`,
    ];
  }
  const why = s.notes.find((n) => n.startsWith('uncertainty: '));
  return why === undefined ? [] : [`bounds       ${why.slice('uncertainty: '.length)}`];
}

function kvLines(s: Summary): string[] {
  const kv = (key: string): number | null => {
    const v = s.kv?.[key];
    return typeof v === 'number' ? v : null;
  };
  const frag = kv('fragmentation_mean');
  const lines = [
    `KV use       mean ${pct(kv('mean_utilization'))}  max ${pct(kv('max_utilization'))}` +
      (frag !== null ? `  fragmentation mean ${pct(frag)} max ${pct(kv('fragmentation_max'))}` : ''),
  ];
  // Prefix-cache figures only mean something once a run can hit (a hit, or a cached block).
  const pc = s.overall.prefix_cache;
  if (pc.hit_rate || kv('cached_blocks_max') || kv('evicted_blocks')) {
    lines.push(`prefix cache hits ${pct(pc.hit_rate)} of ${num(pc.input_tokens, 0)} prompt tokens looked up` +
      `  cached blocks mean ${num(kv('cached_blocks_mean'), 1)} max ${num(kv('cached_blocks_max'), 0)}  evicted ${num(kv('evicted_blocks'), 0)} blocks`);
  }
  if (kv('swap_in_blocks') || kv('swap_out_blocks') || kv('swapped_blocks_max')) {
    lines.push(`swap         in ${num(kv('swap_in_blocks'), 0)} blocks  out ${num(kv('swap_out_blocks'), 0)} blocks` +
      `  swapped mean ${num(kv('swapped_blocks_mean'), 1)} max ${num(kv('swapped_blocks_max'), 0)} blocks`);
  }
  return lines;
}

/** Preemptions, then SLO attainment against the targets. */
function sloLines(s: Summary): string[] {
  const o = s.overall;
  const t = s.slo_targets;
  const targets = [
    t.ttft_ms !== null ? `TTFT ≤ ${t.ttft_ms} ms` : '',
    t.tpot_ms !== null ? `TPOT ≤ ${t.tpot_ms} ms` : '',
    t.e2e_ms !== null ? `E2E ≤ ${t.e2e_ms} ms` : '',
  ].filter(Boolean);
  return [
    `preemptions  ${o.preemptions}`,
    `SLO          ${targets.length ? targets.join(', ') : 'none (finished = met)'}: ${pct(o.slo.attainment)} attained` +
      `  goodput ${num(o.slo.goodput_req_per_s, 2)} req/s`,
  ];
}

/** GPUs × wall hours = GPU-hours, then × the hourly rate: each figure printed once, with its unit. */
function costLine(c: Summary['cost']): string {
  const hoursEach = c.gpu_hours === null || c.gpus === 0 ? null : c.gpu_hours / c.gpus;
  return `cost         ${c.gpus} GPU${c.gpus === 1 ? '' : 's'} × ${num(hoursEach, 3)} h = ${num(c.gpu_hours, 3)} GPU-h` +
    ` × $${num(c.usd_per_gpu_hour, 2)}/GPU-h = $${num(c.usd_total, 2)}` +
    `  $${num(c.usd_per_million_output_tokens, 3)}/M output tok  $${num(c.usd_per_million_total_tokens, 3)}/M total tok`;
}

function perReplicaLines(replicas: Summary['per_replica']): string[] {
  if (replicas.length <= 1) return [];
  return [
    `per replica  ${pad('req/s')}${pad('TTFT p99')}${pad('TPOT p99')}${pad('SLO')}`,
    ...replicas.map((g, i) => `  ${String(i).padEnd(11)}${pad(num(g.throughput.requests_per_s, 2))}${pad(ms(g.ttft_s.p99))}${pad(ms(g.tpot_s.p99))}${pad(pct(g.slo.attainment))}`),
  ];
}

/** Per pool (scenarios with pools): its share of the requests, latency, SLO, GPU-hours, cost and replicas (peak / mean); shadow pools marked. */
function perPoolLines(pools: Summary['pools']): string[] {
  if (pools === undefined) return [];
  const label = (p: NonNullable<Summary['pools']>[number]): string => p.pool + (p.shadow ? ' (shadow)' : '');
  const width = Math.max(11, ...pools.map((p) => label(p).length + 1));
  return [
    `per pool${' '.repeat(width - 6)}${pad('requests')}${pad('req/s')}${pad('TTFT p99')}${pad('TPOT p99')}${pad('SLO')}${pad('GPU-h')}${pad('cost $')}${pad('replicas')}`,
    ...pools.map(
      (p) =>
        `  ${label(p).padEnd(width)}${pad(String(p.requests.total))}${pad(num(p.throughput.requests_per_s, 2))}` +
        `${pad(ms(p.ttft_s.p99))}${pad(ms(p.tpot_s.p99))}${pad(pct(p.slo.attainment))}${pad(num(p.gpu_hours, 3))}${pad(num(p.usd_total, 2))}` +
        `${pad(p.peak_replicas === null ? '-' : `${p.peak_replicas} / ${num(p.mean_replicas, 1)}`)}`,
    ),
  ];
}

/** Traffic decisions, one line each. */
function faultLines(f: Summary['faults']): string[] {
  if (f === undefined) return [];
  const t = f.time_to_recover_s;
  const back = f.recovered === 0 ? '' : `; capacity back ${num(t.mean, 1)} s after a failure (max ${num(t.max, 1)} s)`;
  const skipped = f.skipped === 0 ? '' : ` (${f.skipped} scripted skipped: no such replica up)`;
  const failures = `${f.failures} replica failure${f.failures === 1 ? '' : 's'}`;
  return [`faults       ${failures}${skipped}: ${f.requests_held} requests on ${f.failures === 1 ? 'it' : 'them'}, ${f.retried} resent, ${f.failed} failed${back}`];
}

/** Prefill/decode hand-offs: the link, what crossed it, how long hand-offs waited and transfers took, each role's busy share. */
function disaggLines(d: Summary['disaggregation']): string[] {
  if (d === undefined) return [];
  const t = d.transfer;
  const ms = (x: number | null) => (x === null ? '-' : (x * 1000).toFixed(2));
  const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)} %`);
  const cached = d.tokens_cached_at_decode === 0 ? '' : `, ${d.tokens_cached_at_decode.toLocaleString('en-US')} prompt tokens already cached at decode`;
  return [
    `KV transfer  ${d.transfers} over ${t.link} (${t.bandwidth_gbps} Gb/s per GPU, ${t.latency_us} µs${t.layerwise ? ', layerwise' : ''}): ${(d.bytes / 1e9).toFixed(2)} GB${cached}`,
    `             transfer ms p50 ${ms(d.kv_transfer_s.p50)} p99 ${ms(d.kv_transfer_s.p99)}; wait for decode blocks ms p50 ${ms(d.kv_wait_s.p50)} p99 ${ms(d.kv_wait_s.p99)}; busy prefill ${pct(d.busy_fraction.prefill)}, decode ${pct(d.busy_fraction.decode)}`,
  ];
}

function eventLines(events: Summary['events']): string[] {
  return events.map((e) => `event        ${num(e.time_s as number, 1)} s  ${String(e.kind)}  ${String(e.pool)}: ${String(e.detail)}`);
}

function perPriorityLines(classes: Summary['per_priority']): string[] {
  if (classes.length <= 1) return [];
  return [
    `per priority ${pad('requests')}${pad('TTFT p50')}${pad('TTFT p99')}${pad('SLO')}`,
    ...classes.map((g) => `  ${String(g.priority).padEnd(11)}${pad(String(g.requests.total))}${pad(ms(g.ttft_s.p50))}${pad(ms(g.ttft_s.p99))}${pad(pct(g.slo.attainment))}`),
  ];
}

function num(x: number | null, digits: number): string {
  return x === null ? '-' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ms(seconds: number | null): string {
  return seconds === null ? '-' : num(seconds * 1000, seconds < 0.1 ? 2 : 1);
}

function pct(fraction: number | null): string {
  return fraction === null ? '-' : `${(fraction * 100).toFixed(1)} %`;
}

function signedPct(fraction: number): string {
  return `${fraction < 0 ? '−' : '+'}${(Math.abs(fraction) * 100).toFixed(1)} %`;
}

function pad(text: string): string {
  return text.padStart(10);
}
