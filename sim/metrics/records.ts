import { ITERATION_COLUMNS, newRow, REQUEST_COLUMNS, type CLUSTER_COLUMNS, type RejectReason, type RequestStatus, type RowOf, type TOKEN_COLUMNS } from './columns.js';
import type { GapPool } from './gapPool.js';
import type { StepStamps } from './stepStamps.js';
import { gapStats, type GapStats } from './gapStats.js';
import { DOUBLE_ZERO } from '../engine/doubles.js';

/** What the engine reports when a request leaves the system. */
export interface RequestOutcome {
  request_id: number;
  /** 0-based; −1 when rejected before routing. */
  replica: number;
  arrival_s: number;
  input_tokens: number;
  /**
   * Tokens of one sample actually produced (fewer than requested when timed out): a request
   * with `samples` > 1 returns `output_tokens × samples` tokens to the client.
   */
  output_tokens: number;
  /** Prompt tokens found in the prefix cache, summed over the request's `sequences` (each generated sequence's prompt is one lookup). */
  cached_tokens: number;
  /** NaN if never scheduled. */
  first_scheduled_s: number;
  /** The request's token times, one per output token index (not one per sample), ascending. */
  token_times_s: Float64Array | readonly number[];
  /**
   * The replica step that stamped each token (see MetricsSink.recordStepStamp; −1 where unknown):
   * lets the sink count a gap between consecutive steps instead of keeping its value.
   */
  token_steps?: Float64Array | Int32Array | readonly number[];
  /**
   * When ≥ 0, token k was stamped by the replica's step token_stretch_step + k, every k: its times
   * are those steps' stamps, which the sink reads from its own copy (hot, shared by the requests of
   * those steps) instead of `token_times_s` (cold by the request's end). Absent or −1: unknown.
   */
  token_stretch_step?: number;
  preemptions: number;
  status: RequestStatus;
  /** When the request left: completion, rejection or time-out. */
  finish_s: number;
  /** Scheduling priority; lower is more important, 0 by default. */
  priority: number;
  /** Samples returned to the client (n), ≥ 1. */
  samples: number;
  /**
   * Sequences that looked the prompt up in the prefix cache: `sequences` when samples run
   * separately (V1), 1 when they fork from one prompt pass (V0). Default: `sequences`.
   */
  prompt_lookups?: number;
  /** Sequences generated (best_of), ≥ `samples`. */
  sequences: number;
  /** The model it asked for; absent: its replica's pool's (or, rejected before routing, the run's first model). */
  model?: string;
  /** The pool chosen for it when it was rejected before reaching a replica (a routed request's pool is its replica's). */
  pool?: string;
  /** A mirrored copy (traffic.shadow). */
  shadow?: boolean;
  /** Why it was rejected (rejected requests only). */
  reject_reason?: RejectReason;
  /** Times the gateway resent it after a replica failure (absent: 0). */
  retries?: number;
  /** Disaggregated serving: where its prompt ran and what its hand-off took (absent: one replica served it). */
  handoff?: { prefill_replica: number; kv_transfer_tokens: number; kv_wait_s: number; kv_transfer_s: number };
}

/**
 * One requests.arrow row (a field per column of REQUEST_COLUMNS, which defines each). Definitions
 * (DESIGN.md "Output contract"): ttft and e2e from arrival; tpot per sample stream (output_tokens
 * is one sample's length); ITL statistics over the gaps between consecutive token times, type-7
 * percentiles (see stats.ts).
 */
export type RequestRow = RowOf<typeof REQUEST_COLUMNS>;

/** One engine iteration (iterations.arrow row; ITERATION_COLUMNS defines each field). */
export type IterationRecord = RowOf<typeof ITERATION_COLUMNS>;

/** One cluster.arrow row (CLUSTER_COLUMNS defines each field). */
export type ClusterRow = RowOf<typeof CLUSTER_COLUMNS>;

/** One tokens.arrow row. */
export type TokenRow = RowOf<typeof TOKEN_COLUMNS>;

/** A record to fill and reuse: the engine records one per step, so it must not allocate one each time. */
export function newIterationRecord(): IterationRecord {
  return newRow(ITERATION_COLUMNS);
}

const itl: GapStats = { mean_s: DOUBLE_ZERO, p50_s: DOUBLE_ZERO, p99_s: DOUBLE_ZERO, max_s: DOUBLE_ZERO };

/**
 * Fills `into` (by default a new row) with the requests.arrow row of an outcome; pools its
 * inter-token gaps in `gapsOut` if given. The sink passes one reused row: nothing it feeds the
 * row to keeps it. Without `perRequestItl` the row's own ITL statistics are left null: a run that
 * writes no requests.arrow (a band re-run, a sweep point) has no reader for them, and selecting
 * each request's percentiles was ~4 % of its time.
 */
export function requestRow(o: RequestOutcome, gapsOut?: GapPool, into: RequestRow = newRow(REQUEST_COLUMNS), perRequestItl = true, stamps?: StepStamps): RequestRow {
  const tokens = o.token_times_s.length;
  const stretch = o.token_stretch_step ?? -1;
  // A stretch's times are read from its replica's step stamps, at `at` (see token_stretch_step).
  const at = stretch >= 0 && stamps !== undefined ? heldStretchAt(o, stamps, stretch, tokens) : -1;
  const times = at >= 0 ? (stamps as StepStamps).kept() : o.token_times_s;
  const from = at >= 0 ? at : 0;
  const finished = o.status === 'finished';
  const firstToken = tokens > 0 ? times[from] : null;
  const ttft = firstToken === null ? null : firstToken - o.arrival_s;
  const e2e = finished ? o.finish_s - o.arrival_s : null;
  const tpot = finished && ttft !== null && o.output_tokens > 1 ? ((e2e as number) - ttft) / (o.output_tokens - 1) : null;
  let itlMean: number | null = null;
  let itlP50: number | null = null;
  let itlP99: number | null = null;
  let itlMax: number | null = null;
  if (tokens >= 2) gapsOut?.addTokens(o.token_times_s, o.token_steps, tokens, stretch);
  if (tokens >= 2 && perRequestItl) {
    const g = gapStats(times, tokens, itl, from);
    itlMean = g.mean_s;
    itlP50 = g.p50_s;
    itlP99 = g.p99_s;
    itlMax = g.max_s;
  }
  const row = into;
  row.request_id = o.request_id;
  row.replica = o.replica;
  row.arrival_s = o.arrival_s;
  row.input_tokens = o.input_tokens;
  row.output_tokens = o.output_tokens;
  row.cached_tokens = o.cached_tokens;
  row.first_scheduled_s = Number.isFinite(o.first_scheduled_s) ? o.first_scheduled_s : null;
  row.first_token_s = firstToken;
  row.finish_s = o.finish_s;
  row.ttft_s = ttft;
  row.e2e_s = e2e;
  row.tpot_s = tpot;
  row.itl_mean_s = itlMean;
  row.itl_p50_s = itlP50;
  row.itl_p99_s = itlP99;
  row.itl_max_s = itlMax;
  row.preemptions = o.preemptions;
  row.status = o.status;
  row.priority = o.priority;
  row.samples = o.samples;
  row.sequences = o.sequences;
  row.shadow = o.shadow === true;
  row.reject_reason = o.status === 'rejected' ? (o.reject_reason ?? 'no_ready_replica') : 'none';
  row.retries = o.retries ?? 0;
  const h = o.handoff;
  row.prefill_replica = h === undefined ? -1 : h.prefill_replica;
  row.decode_replica = h === undefined ? -1 : o.replica;
  row.kv_transfer_tokens = h === undefined ? 0 : h.kv_transfer_tokens;
  row.kv_wait_s = h === undefined ? null : h.kv_wait_s;
  row.kv_transfer_s = h === undefined ? null : h.kv_transfer_s;
  return row;
}

/**
 * Where the times of a request stamped by steps `step` .. `step` + tokens − 1 lie in the replica's
 * kept stamps (−1: not all held). Its own first and last times must be those stamps: a cheap check
 * that the steps it names are the ones that stamped it.
 */
function heldStretchAt(o: RequestOutcome, stamps: StepStamps, step: number, tokens: number): number {
  const at = stamps.stretchAt(step, tokens);
  if (at < 0 || tokens === 0) return -1;
  const kept = stamps.kept();
  const own = o.token_times_s;
  if (kept[at] !== own[0] || kept[at + tokens - 1] !== own[tokens - 1]) {
    throw new Error(`request ${o.request_id}: token times ${own[0]} .. ${own[tokens - 1]} are not the stamps of steps ${step} .. ${step + tokens - 1}`);
  }
  return at;
}
