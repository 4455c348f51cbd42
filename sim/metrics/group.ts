import type { RequestOutcome, RequestRow } from './records.js';
import { F64List } from './f64list.js';
import { GapPool } from './gapPool.js';
import { StepStamps } from './stepStamps.js';
import type { SpillFile } from './spill.js';
import { summarize, summarizeSame, type Stats } from './stats.js';

export interface SloTargets {
  ttft_ms?: number;
  tpot_ms?: number;
  e2e_ms?: number;
}

/**
 * A request meets the SLOs when it finished and every given target holds (≤). A request with
 * one output token has no TPOT and meets a TPOT target; a finished request without any token has
 * no TTFT and misses a TTFT target. With no targets, every finished request meets them.
 */
export function meetsSlo(row: RequestRow, slo: SloTargets): boolean {
  if (row.status !== 'finished') return false;
  if (slo.ttft_ms !== undefined && (row.ttft_s === null || row.ttft_s > slo.ttft_ms / 1000)) return false;
  if (slo.tpot_ms !== undefined && row.tpot_s !== null && row.tpot_s > slo.tpot_ms / 1000) return false;
  if (slo.e2e_ms !== undefined && (row.e2e_s === null || row.e2e_s > slo.e2e_ms / 1000)) return false;
  return true;
}

/**
 * Running totals and latency samples of one set of requests (a replica, those rejected before
 * routing, or a priority class). Latency samples hold only *measured* finished requests: those
 * arriving at or after warmup that completed (timed-out and rejected ones are counted apart, as
 * SLO misses). `itl_s` is filled by `requestRow`, which computes the gaps anyway; see
 * `pooledGaps` (a priority class's stays empty: PriorityClasses pools its gaps per replica).
 */
export class GroupAccumulator {
  requests = 0;
  finished = 0;
  rejected = 0;
  timed_out = 0;
  failed = 0;
  preemptions = 0;
  finished_input_tokens = 0;
  /** Tokens the client received: output_tokens × samples. */
  finished_output_tokens = 0;
  /** Prefix-cache lookups over requests scheduled at least once: input_tokens × prompt_lookups. */
  scheduled_input_tokens = 0;
  cached_tokens = 0;
  measured = 0;
  slo_met = 0;
  /** Rows of mirrored copies (traffic.shadow) among `requests`. */
  mirrored = 0;
  readonly ttft_s: F64List;
  readonly tpot_s: F64List;
  readonly e2e_s: F64List;
  readonly queueing_delay_s: F64List;
  readonly itl_s: GapPool;

  /**
   * `stamps`: the replica's step stamps, against which its ITL gaps are pooled (none: a group that
   * pools none). `spill`: where its latency samples go past ~0.5 MB each (none: all in memory).
   */
  constructor(stamps: StepStamps = new StepStamps(), spill?: SpillFile) {
    this.itl_s = new GapPool(stamps);
    this.ttft_s = new F64List(1024, undefined, spill);
    this.tpot_s = new F64List(1024, undefined, spill);
    this.e2e_s = new F64List(1024, undefined, spill);
    this.queueing_delay_s = new F64List(1024, undefined, spill);
  }

  /** Where `requestRow` should pool this request's gaps, if they belong in the ITL pool. */
  pooledGaps(o: RequestOutcome, measured: boolean): GapPool | undefined {
    return measured && o.status === 'finished' ? this.itl_s : undefined;
  }

  add(o: RequestOutcome, row: RequestRow, measured: boolean, slo: SloTargets): void {
    this.requests++;
    if (o.shadow === true) this.mirrored++;
    this.preemptions += o.preemptions;
    if (o.status === 'finished') {
      this.finished++;
      this.finished_input_tokens += o.input_tokens;
      this.finished_output_tokens += o.output_tokens * o.samples;
    } else if (o.status === 'rejected') this.rejected++;
    else if (o.status === 'timed_out') this.timed_out++;
    else this.failed++;
    if (row.first_scheduled_s !== null) {
      // Every generated sequence's prompt is looked up in the prefix cache.
      this.scheduled_input_tokens += o.input_tokens * (o.prompt_lookups ?? o.sequences);
      this.cached_tokens += o.cached_tokens;
    }
    if (!measured) return;
    this.measured++;
    if (meetsSlo(row, slo)) this.slo_met++;
    if (o.status !== 'finished') return;
    if (row.ttft_s !== null) this.ttft_s.push(row.ttft_s);
    if (row.tpot_s !== null) this.tpot_s.push(row.tpot_s);
    this.e2e_s.push(row.e2e_s as number);
    if (row.first_scheduled_s !== null) this.queueing_delay_s.push(row.first_scheduled_s - row.arrival_s);
  }
}

export interface GroupSummary {
  /** `failed`: their replica failed under them more often than cluster.max_retries allows resends. */
  requests: { total: number; finished: number; rejected: number; timed_out: number; failed: number; measured: number };
  /**
   * Tokens of finished requests: input once per request (prefix-cache hits included), output as
   * received by the client (one sample's output_tokens × samples).
   */
  tokens: { input: number; output: number };
  throughput: { requests_per_s: number | null; output_tokens_per_s: number | null; total_tokens_per_s: number | null };
  ttft_s: Stats;
  tpot_s: Stats;
  itl_s: Stats;
  e2e_s: Stats;
  queueing_delay_s: Stats;
  slo: { met: number; attainment: number | null; goodput_req_per_s: number | null };
  preemptions: number;
  /**
   * Over requests scheduled at least once: `input_tokens` = prompt tokens looked up, input_tokens
   * × prompt_lookups (each sequence that looked its prompt up: every sample under V1, the one prompt
   * pass when samples fork); `cached_tokens` = those found;
   * hit_rate = cached_tokens ÷ input_tokens.
   */
  prefix_cache: { hit_rate: number | null; cached_tokens: number; input_tokens: number };
}

const METRICS = ['ttft_s', 'tpot_s', 'itl_s', 'e2e_s', 'queueing_delay_s'] as const;
type Metric = (typeof METRICS)[number];

/**
 * Latency statistics already computed, by metric and by the list of groups whose samples they
 * cover (in order), for the figures of a summary that cover the very same groups: the overall
 * figures with one busy replica are that replica's, a lone pool's are the overall ones, a model
 * served by one pool has that pool's. `summarize` reads the samples without reordering them, so
 * the same groups in the same order give the same numbers to the bit, mean included. Sections of
 * a summary may thus hold the same Stats object: nothing may edit one in place.
 */
export class LatencyMemo {
  /** By the first group covered (undefined: none), so that a run of thousands of replicas looks up a handful each. */
  private readonly done = new Map<GroupAccumulator | undefined, { metric: Metric; groups: readonly GroupAccumulator[]; stats: Stats }[]>();

  /** The statistics of `metric` over the samples of `groups` that hold any, in order. */
  of(metric: Metric, groups: readonly GroupAccumulator[]): Stats {
    const busy = groups.filter((g) => g[metric].length > 0);
    let known = this.done.get(busy[0]);
    if (known === undefined) this.done.set(busy[0], (known = []));
    const same = known.find((d) => d.metric === metric && sameGroups(d.groups, busy));
    if (same !== undefined) return same.stats;
    const stats = summarize(busy.flatMap((g) => g[metric].samples()));
    known.push({ metric, groups: busy, stats });
    return stats;
  }
}

function sameGroups(a: readonly GroupAccumulator[], b: readonly GroupAccumulator[]): boolean {
  return a.length === b.length && a.every((g, i) => g === b[i]);
}

/**
 * Summaries overall and per replica. Statistics read each list's chunks where they lie: the
 * overall ones take every group's chunks in turn, so nothing is joined or copied (a million
 * requests pool ~1.3 GB of ITL gaps, which a joined copy would double). `overall`: the groups the
 * overall figures cover (the replicas' and the unrouted, shadow pools' left out), in replica order.
 */
export function summarizeRun(
  replicas: readonly GroupAccumulator[],
  overall: readonly GroupAccumulator[],
  makespan_s: number | null,
  window_s: number | null,
  memo = new LatencyMemo(),
): { overall: GroupSummary; per_replica: GroupSummary[] } {
  const per_replica = replicas.map((g) => summarizeUnion([g], makespan_s, window_s, memo));
  return { overall: summarizeUnion(overall, makespan_s, window_s, memo), per_replica };
}

/** Several groups as one (a pool's replicas, a model's pools): counts summed, latency statistics over their pooled samples. */
export function summarizeUnion(groups: readonly GroupAccumulator[], makespan_s: number | null, window_s: number | null, memo = new LatencyMemo()): GroupSummary {
  const latency = METRICS.map((m) => memo.of(m, groups));
  return summarizeGroups(groups, latency, makespan_s, window_s);
}

/**
 * A priority class: its own TTFT/TPOT/E2E/queueing samples and the ITL gaps gathered for it from
 * the replicas' pools. `same`: statistics of the same requests' samples (the run's overall
 * figures when every client request is in the one class), whose order statistics it reuses.
 */
export function summarizeClass(g: GroupAccumulator, itl_s: Stats, makespan_s: number | null, window_s: number | null, same?: GroupSummary): GroupSummary {
  const latency = METRICS.map((m) => {
    if (m === 'itl_s') return itl_s;
    const sources = g[m].samples();
    return (same !== undefined ? summarizeSame(sources, same[m]) : null) ?? summarize(sources);
  });
  return summarizeGroups([g], latency, makespan_s, window_s);
}

/** Counts of `groups` summed; latency statistics given (ordered as METRICS). */
function summarizeGroups(groups: readonly GroupAccumulator[], latency: readonly Stats[], makespan_s: number | null, window_s: number | null): GroupSummary {
  const sum = (f: (g: GroupAccumulator) => number) => groups.reduce((acc, g) => acc + f(g), 0);
  const finished = sum((g) => g.finished);
  const outputTokens = sum((g) => g.finished_output_tokens);
  const inputTokens = sum((g) => g.finished_input_tokens);
  const totalTokens = outputTokens + inputTokens;
  const measured = sum((g) => g.measured);
  const met = sum((g) => g.slo_met);
  const scheduledInput = sum((g) => g.scheduled_input_tokens);
  const cached = sum((g) => g.cached_tokens);
  const [ttft_s, tpot_s, itl_s, e2e_s, queueing_delay_s] = latency;
  return {
    requests: { total: sum((g) => g.requests), finished, rejected: sum((g) => g.rejected), timed_out: sum((g) => g.timed_out), failed: sum((g) => g.failed), measured },
    tokens: { input: inputTokens, output: outputTokens },
    throughput: {
      requests_per_s: rate(finished, makespan_s),
      output_tokens_per_s: rate(outputTokens, makespan_s),
      total_tokens_per_s: rate(totalTokens, makespan_s),
    },
    ttft_s,
    tpot_s,
    itl_s,
    e2e_s,
    queueing_delay_s,
    slo: { met, attainment: measured > 0 ? met / measured : null, goodput_req_per_s: rate(met, window_s) },
    preemptions: sum((g) => g.preemptions),
    prefix_cache: { hit_rate: scheduledInput > 0 ? cached / scheduledInput : null, cached_tokens: cached, input_tokens: scheduledInput },
  };
}

export function rate(count: number, seconds: number | null): number | null {
  return seconds !== null && seconds > 0 ? count / seconds : null;
}
