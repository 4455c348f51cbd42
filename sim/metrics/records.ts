import type { ColumnSpec } from './arrowFile.js';
import type { GapPool } from './gapPool.js';
import { quantilesInPlace } from './select.js';

export type RequestStatus = 'finished' | 'rejected' | 'timed_out';
export const REQUEST_STATUSES: readonly RequestStatus[] = ['finished', 'rejected', 'timed_out'];

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
  token_steps?: Int32Array | readonly number[];
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
}

/**
 * One requests.arrow row. Definitions (DESIGN.md "Output contract"): ttft and e2e from arrival;
 * tpot = (e2e − ttft) ÷ (output_tokens − 1), per sample stream (output_tokens is one sample's
 * length); ITL statistics over the gaps between consecutive token times, type-7 percentiles (see stats.ts).
 * Null rules: first_token_s/ttft_s without a token; e2e_s and tpot_s unless finished (a cut-off
 * response has no end-to-end latency); tpot_s with ≤ 1 token; ITL fields with < 2 tokens.
 */
export interface RequestRow {
  request_id: number;
  replica: number;
  arrival_s: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  first_scheduled_s: number | null;
  first_token_s: number | null;
  finish_s: number;
  ttft_s: number | null;
  e2e_s: number | null;
  tpot_s: number | null;
  itl_mean_s: number | null;
  itl_p50_s: number | null;
  itl_p99_s: number | null;
  itl_max_s: number | null;
  preemptions: number;
  status: RequestStatus;
  priority: number;
  samples: number;
  /** Sequences generated (best_of): the prompt lookups `cached_tokens` sums over. */
  sequences: number;
}

/** One engine iteration (iterations.arrow row). */
export interface IterationRecord {
  replica: number;
  start_s: number;
  end_s: number;
  prefill_seqs: number;
  decode_seqs: number;
  prefill_tokens: number;
  decode_tokens: number;
  kv_blocks_used: number;
  kv_blocks_total: number;
  waiting: number;
  running: number;
  swapped: number;
  preempted: number;
  /** GPU blocks holding a prefix-cache entry and no reference: free, but reusable on a hit. */
  kv_blocks_cached: number;
  /** Blocks held in the CPU swap pool. */
  kv_blocks_swapped: number;
  /** Internal fragmentation: token slots of allocated GPU blocks that hold no token. */
  kv_slots_unused: number;
  /** Blocks moved CPU → GPU by this iteration. */
  swap_in_blocks: number;
  /** Blocks moved GPU → CPU by this iteration. */
  swap_out_blocks: number;
  /** Prefix-cache entries evicted by this iteration. */
  kv_blocks_evicted: number;
}

// Integer columns are int32, not uint32: analysts subtract them (pandas/numpy wrap unsigned).
export const REQUEST_COLUMNS: readonly ColumnSpec[] = [
  { name: 'request_id', kind: 'i32' },
  { name: 'replica', kind: 'i32' },
  { name: 'arrival_s', kind: 'f64' },
  { name: 'input_tokens', kind: 'i32' },
  { name: 'output_tokens', kind: 'i32' },
  { name: 'cached_tokens', kind: 'i32' },
  { name: 'first_scheduled_s', kind: 'f64' },
  { name: 'first_token_s', kind: 'f64' },
  { name: 'finish_s', kind: 'f64' },
  { name: 'ttft_s', kind: 'f64' },
  { name: 'e2e_s', kind: 'f64' },
  { name: 'tpot_s', kind: 'f64' },
  { name: 'itl_mean_s', kind: 'f64' },
  { name: 'itl_p50_s', kind: 'f64' },
  { name: 'itl_p99_s', kind: 'f64' },
  { name: 'itl_max_s', kind: 'f64' },
  { name: 'preemptions', kind: 'i32' },
  { name: 'status', kind: 'dict', values: REQUEST_STATUSES },
  { name: 'priority', kind: 'i32' },
  { name: 'samples', kind: 'i32' },
  { name: 'sequences', kind: 'i32' },
];

export const ITERATION_COLUMNS: readonly ColumnSpec[] = [
  { name: 'replica', kind: 'i32' },
  { name: 'start_s', kind: 'f64' },
  { name: 'end_s', kind: 'f64' },
  ...[
    'prefill_seqs', 'decode_seqs', 'prefill_tokens', 'decode_tokens', 'kv_blocks_used', 'kv_blocks_total', 'waiting', 'running', 'swapped', 'preempted',
    'kv_blocks_cached', 'kv_blocks_swapped', 'kv_slots_unused', 'swap_in_blocks', 'swap_out_blocks', 'kv_blocks_evicted',
  ].map((name) => ({ name, kind: 'i32' }) as const),
];

export const TOKEN_COLUMNS: readonly ColumnSpec[] = [
  { name: 'request_id', kind: 'i32' },
  { name: 'index', kind: 'i32' },
  { name: 'time_s', kind: 'f64' },
];

let gapScratch = new Float64Array(1024);
const ITL_PS = [0.5, 0.99];
const itlQuantiles = [0, 0];

/** Builds the requests.arrow row for an outcome; pools its inter-token gaps in `gapsOut` if given. */
export function requestRow(o: RequestOutcome, gapsOut?: GapPool): RequestRow {
  const times = o.token_times_s;
  const tokens = times.length;
  const finished = o.status === 'finished';
  const firstToken = tokens > 0 ? times[0] : null;
  const ttft = firstToken === null ? null : firstToken - o.arrival_s;
  const e2e = finished ? o.finish_s - o.arrival_s : null;
  const tpot = finished && ttft !== null && o.output_tokens > 1 ? ((e2e as number) - ttft) / (o.output_tokens - 1) : null;
  let itlMean: number | null = null;
  let itlP50: number | null = null;
  let itlP99: number | null = null;
  let itlMax: number | null = null;
  if (tokens >= 2) {
    const gaps = tokens - 1;
    if (gapScratch.length < gaps) gapScratch = new Float64Array(Math.max(gaps, gapScratch.length * 2));
    let sum = 0;
    let max = -Infinity;
    for (let i = 0; i < gaps; i++) {
      const g = times[i + 1] - times[i];
      gapScratch[i] = g;
      sum += g;
      if (g > max) max = g;
    }
    gapsOut?.add(times, o.token_steps, tokens);
    quantilesInPlace(gapScratch, gaps, ITL_PS, itlQuantiles);
    itlMean = sum / gaps;
    itlP50 = itlQuantiles[0];
    itlP99 = itlQuantiles[1];
    itlMax = max;
  }
  return {
    request_id: o.request_id,
    replica: o.replica,
    arrival_s: o.arrival_s,
    input_tokens: o.input_tokens,
    output_tokens: o.output_tokens,
    cached_tokens: o.cached_tokens,
    first_scheduled_s: Number.isFinite(o.first_scheduled_s) ? o.first_scheduled_s : null,
    first_token_s: firstToken,
    finish_s: o.finish_s,
    ttft_s: ttft,
    e2e_s: e2e,
    tpot_s: tpot,
    itl_mean_s: itlMean,
    itl_p50_s: itlP50,
    itl_p99_s: itlP99,
    itl_max_s: itlMax,
    preemptions: o.preemptions,
    status: o.status,
    priority: o.priority,
    samples: o.samples,
    sequences: o.sequences,
  };
}
