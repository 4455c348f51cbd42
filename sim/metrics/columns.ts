import type { ColumnSpec } from './arrowFile.js';
import { DOUBLE_ZERO } from '../engine/doubles.js';

/**
 * The output contract of the Arrow files, written once: one table per file, in column order.
 * The Arrow schema (ArrowFileWriter), the row writers (rowWriter.ts: each column gets the record
 * field of its name), the record types (RowOf: RequestRow, IterationRecord, TokenRow) and the
 * README's column tables (columnsMarkdown, kept equal by test/metrics/columns.test.ts) all come
 * from these tables, so a column added, moved or renamed here moves everywhere at once.
 * Extend by appending: readers select columns by name, but a new column in the middle would
 * still change every later column's position for readers that use positions.
 */
export type ColumnDef = ColumnSpec & {
  /** Unit of the value ('' for ids, indices and categories). */
  readonly unit: 's' | 'tokens' | 'sequences' | 'blocks' | 'slots' | 'count' | '';
  /** What the value is and how it is obtained (README wording). */
  readonly meaning: string;
  /** Present when the value can be null: when it is (the record field is then `number | null`). */
  readonly null_when?: string;
};

const STATUSES = ['finished', 'rejected', 'timed_out', 'failed'] as const;
const REJECT_REASONS = ['none', 'no_ready_replica', 'too_long', 'queue_full', 'unknown_model'] as const;
/** A dictionary whose values each run names (its pools, its models): see withDictionaries. */
const PER_RUN: readonly string[] = [];

// Integer columns are int32, not uint32: analysts subtract them (pandas/numpy wrap unsigned).
export const REQUEST_COLUMNS = [
  { name: 'request_id', kind: 'i32', unit: '', meaning: 'The request\'s id in the workload (tokens.arrow rows refer to it)' },
  { name: 'replica', kind: 'i32', unit: '', meaning: 'Replica that served it, from 0; −1 when rejected before routing' },
  { name: 'arrival_s', kind: 'f64', unit: 's', meaning: 'When the client sent it (the workload\'s arrival time)' },
  { name: 'input_tokens', kind: 'i32', unit: 'tokens', meaning: 'Prompt length' },
  { name: 'output_tokens', kind: 'i32', unit: 'tokens', meaning: 'Tokens of one sample produced (fewer than asked for when timed out); the client receives output_tokens × samples' },
  { name: 'cached_tokens', kind: 'i32', unit: 'tokens', meaning: 'Prompt tokens found in the prefix cache, summed over the request\'s sequences (each looks its prompt up)' },
  { name: 'first_scheduled_s', kind: 'f64', unit: 's', meaning: 'When its first sequence was first scheduled (queueing delay = this − arrival_s)', null_when: 'never scheduled' },
  { name: 'first_token_s', kind: 'f64', unit: 's', meaning: 'When its first output token reached the client', null_when: 'no token was produced' },
  { name: 'finish_s', kind: 'f64', unit: 's', meaning: 'When it left: completion, rejection or time-out' },
  { name: 'ttft_s', kind: 'f64', unit: 's', meaning: 'Time to first token: first_token_s − arrival_s', null_when: 'no token was produced' },
  { name: 'e2e_s', kind: 'f64', unit: 's', meaning: 'End-to-end latency: finish_s − arrival_s', null_when: 'not finished (a cut-off response has no end-to-end latency)' },
  { name: 'tpot_s', kind: 'f64', unit: 's', meaning: 'Time per output token of a sample stream: (e2e_s − ttft_s) ÷ (output_tokens − 1)', null_when: 'not finished, or one token' },
  { name: 'itl_mean_s', kind: 'f64', unit: 's', meaning: 'Mean gap between consecutive token times', null_when: 'fewer than 2 tokens' },
  { name: 'itl_p50_s', kind: 'f64', unit: 's', meaning: 'Median of those gaps (linear between closest ranks, numpy\'s default)', null_when: 'fewer than 2 tokens' },
  { name: 'itl_p99_s', kind: 'f64', unit: 's', meaning: '99th percentile of those gaps', null_when: 'fewer than 2 tokens' },
  { name: 'itl_max_s', kind: 'f64', unit: 's', meaning: 'Largest of those gaps', null_when: 'fewer than 2 tokens' },
  { name: 'preemptions', kind: 'i32', unit: 'count', meaning: 'Times its sequences were preempted' },
  { name: 'status', kind: 'dict', values: STATUSES, unit: '', meaning: 'finished, rejected, timed_out, or failed (its replica failed under it more often than cluster.max_retries allows resends); dictionary-encoded: a categorical column' },
  { name: 'priority', kind: 'i32', unit: '', meaning: 'Scheduling priority; lower is more important, 0 by default' },
  { name: 'samples', kind: 'i32', unit: 'sequences', meaning: 'Samples returned to the client (n)' },
  { name: 'sequences', kind: 'i32', unit: 'sequences', meaning: 'Sequences generated (best_of, ≥ samples): the prompt lookups cached_tokens sums over' },
  { name: 'pool', kind: 'dict', values: PER_RUN, unit: '', meaning: 'Pool of the replica that served it (`default` without `pools:`); empty when rejected before a pool was chosen' },
  { name: 'model', kind: 'dict', values: PER_RUN, unit: '', meaning: 'Model the request asked for (the top-level model unless the workload names one)' },
  { name: 'shadow', kind: 'bool', unit: '', meaning: 'A mirrored copy (traffic.shadow): no client waits for it and it counts in no client metric' },
  { name: 'reject_reason', kind: 'dict', values: REJECT_REASONS, unit: '', meaning: 'Why it was rejected: no_ready_replica, too_long (prompt + output > max_model_len), queue_full (max_queue_len), unknown_model (no pool serves it); none otherwise' },
  { name: 'retries', kind: 'i32', unit: 'count', meaning: 'Times the gateway resent it after its replica failed under it (each resend starts over: its KV and tokens were lost)' },
  { name: 'prefill_replica', kind: 'i32', unit: '', meaning: 'Disaggregated serving: the prefill replica that ran its prompt and emitted its first token; −1 when one replica served it whole' },
  { name: 'decode_replica', kind: 'i32', unit: '', meaning: 'Disaggregated serving: the decode replica that continued it (= replica); −1 when one replica served it whole' },
  { name: 'kv_transfer_tokens', kind: 'i32', unit: 'tokens', meaning: 'Prompt tokens whose KV crossed the link to the decode replica (those it had cached stayed); 0 when not handed off' },
  { name: 'kv_wait_s', kind: 'f64', unit: 's', meaning: 'From the hand-off (prefill done) to the decode replica giving it blocks (admission wait)', null_when: 'not handed off' },
  { name: 'kv_transfer_s', kind: 'f64', unit: 's', meaning: 'From those blocks being given to the KV landing in them: the link\'s latency plus the bytes over its share of the bandwidth', null_when: 'not handed off' },
] as const satisfies readonly ColumnDef[];

export const ITERATION_COLUMNS = [
  { name: 'replica', kind: 'i32', unit: '', meaning: 'Replica that ran the step, from 0' },
  { name: 'start_s', kind: 'f64', unit: 's', meaning: 'When the step was scheduled and started' },
  { name: 'end_s', kind: 'f64', unit: 's', meaning: 'When it ended: start_s + the step\'s time (its tokens reach clients a frontend latency later)' },
  { name: 'prefill_seqs', kind: 'i32', unit: 'sequences', meaning: 'Sequences computing prompt tokens in this step (a chunk of a prompt counts)' },
  { name: 'decode_seqs', kind: 'i32', unit: 'sequences', meaning: 'Sequences decoding in this step (padding rows of a static batch left out)' },
  { name: 'prefill_tokens', kind: 'i32', unit: 'tokens', meaning: 'Prompt tokens computed in this step' },
  { name: 'decode_tokens', kind: 'i32', unit: 'tokens', meaning: 'Tokens decoded in this step (padding rows left out)' },
  { name: 'kv_blocks_used', kind: 'i32', unit: 'blocks', meaning: 'GPU KV blocks referenced once the step is scheduled' },
  { name: 'kv_blocks_total', kind: 'i32', unit: 'blocks', meaning: 'GPU KV blocks in the replica\'s pool' },
  { name: 'waiting', kind: 'i32', unit: 'sequences', meaning: 'Sequences left waiting in the scheduler\'s queue' },
  { name: 'running', kind: 'i32', unit: 'sequences', meaning: 'Sequences in the running batch' },
  { name: 'swapped', kind: 'i32', unit: 'sequences', meaning: 'Sequences swapped out to CPU memory' },
  { name: 'preempted', kind: 'i32', unit: 'sequences', meaning: 'Sequences preempted to schedule this step; those of a pass that only preempted are counted with the step that follows it' },
  { name: 'kv_blocks_cached', kind: 'i32', unit: 'blocks', meaning: 'Free GPU blocks still holding a prefix-cache entry (reusable on a hit)' },
  { name: 'kv_blocks_swapped', kind: 'i32', unit: 'blocks', meaning: 'Blocks held in the CPU swap pool' },
  { name: 'kv_slots_unused', kind: 'i32', unit: 'slots', meaning: 'Token slots of referenced GPU blocks that hold no token (internal fragmentation)' },
  { name: 'swap_in_blocks', kind: 'i32', unit: 'blocks', meaning: 'Blocks moved CPU → GPU for this step' },
  { name: 'swap_out_blocks', kind: 'i32', unit: 'blocks', meaning: 'Blocks moved GPU → CPU for this step; those of a pass that only preempted are counted with the step that follows it' },
  { name: 'kv_blocks_evicted', kind: 'i32', unit: 'blocks', meaning: 'Prefix-cache entries evicted while scheduling this step' },
] as const satisfies readonly ColumnDef[];

export const TOKEN_COLUMNS = [
  { name: 'request_id', kind: 'i32', unit: '', meaning: 'The request, as in requests.arrow' },
  { name: 'index', kind: 'i32', unit: '', meaning: 'Output token index from 0 (one row per token of a sample stream)' },
  { name: 'time_s', kind: 'f64', unit: 's', meaning: 'When the token reached the client (step end + frontend output latency)' },
] as const satisfies readonly ColumnDef[];

const EVENT_KINDS = ['canary_step', 'canary_hold', 'canary_rollback', 'scale_up', 'scale_down', 'replica_failed', 'replica_recovered', 'fault_skipped'] as const;

export const EVENT_COLUMNS = [
  { name: 'time_s', kind: 'f64', unit: 's', meaning: 'When the decision was taken (or the failure happened)' },
  { name: 'kind', kind: 'dict', values: EVENT_KINDS, unit: '', meaning: 'canary_step (traffic moved up a step), canary_hold (too few requests to judge, or within at its last step), canary_rollback (the canary regressed: 0 % for the rest of the run), scale_up and scale_down (an autoscaler changed a pool\'s replica count), replica_failed (a fault or a random failure; detail: the requests it held, resent and failed), replica_recovered (its replacement became ready), fault_skipped (a scripted fault named a replica the pool did not have up)' },
  { name: 'pool', kind: 'dict', values: PER_RUN, unit: '', meaning: 'The pool the decision is about' },
  { name: 'detail', kind: 'dict', values: PER_RUN, unit: '', meaning: 'The rule that fired, with the figures it compared (summary.json `events` has them as numbers)' },
] as const satisfies readonly ColumnDef[];

export type EventKind = (typeof EVENT_KINDS)[number];

export const CLUSTER_COLUMNS = [
  { name: 'time_s', kind: 'f64', unit: 's', meaning: 'End of the interval (metrics.interval_s; the last row ends with the run)' },
  { name: 'pool', kind: 'dict', values: PER_RUN, unit: '', meaning: 'The pool' },
  { name: 'starting', kind: 'i32', unit: 'count', meaning: 'Replicas starting (cold start under way) at time_s' },
  { name: 'ready', kind: 'i32', unit: 'count', meaning: 'Replicas taking requests at time_s' },
  { name: 'draining', kind: 'i32', unit: 'count', meaning: 'Replicas finishing their requests before stopping, at time_s' },
  { name: 'stopped', kind: 'i32', unit: 'count', meaning: 'Replicas stopped by time_s' },
  { name: 'failed', kind: 'i32', unit: 'count', meaning: 'Replicas failed by time_s' },
  { name: 'arrivals', kind: 'i32', unit: 'count', meaning: 'Requests that reached the pool during the interval (mirrored copies included)' },
  { name: 'completions', kind: 'i32', unit: 'count', meaning: 'Requests the pool finished during the interval' },
  { name: 'waiting', kind: 'i32', unit: 'count', meaning: 'Requests routed to the pool and not started, at time_s (held for a pool at zero included)' },
  { name: 'running', kind: 'i32', unit: 'count', meaning: 'Requests started and not finished, at time_s' },
  { name: 'kv_used_fraction', kind: 'f64', unit: '', meaning: 'Mean KV-cache use over the ready replicas at time_s', null_when: 'no replica is ready' },
  { name: 'gpu_busy_fraction', kind: 'f64', unit: '', meaning: 'Step time over the interval ÷ (interval × replicas ready at its end)', null_when: 'no replica is ready' },
  { name: 'usd_per_hour', kind: 'f64', unit: '', meaning: 'What the pool costs per hour at time_s: its starting, ready and draining replicas\' GPUs × the GPU\'s price' },
] as const satisfies readonly ColumnDef[];

type ValueOf<C> = C extends { readonly kind: 'dict'; readonly values: readonly (infer V)[] }
  ? V
  : C extends { readonly kind: 'bool' }
    ? boolean
    : C extends { readonly null_when: string }
      ? number | null
      : number;

/** One row of a table as a record: a field per column, same name; nullable columns take null, dictionary columns their string. */
export type RowOf<T extends readonly ColumnDef[]> = { -readonly [C in T[number] as C['name']]: ValueOf<C> };

export type RequestStatus = (typeof STATUSES)[number];
export type RejectReason = (typeof REJECT_REASONS)[number];

/** `table` with the per-run dictionaries filled (a pool's and a model's names are known only once a scenario is read). */
export function withDictionaries<T extends readonly ColumnDef[]>(table: T, values: Readonly<Record<string, readonly string[]>>): T {
  return table.map((c) => (c.kind === 'dict' && c.values === PER_RUN ? { ...c, values: values[c.name] ?? [] } : c)) as unknown as T;
}
export const REQUEST_STATUSES: readonly RequestStatus[] = STATUSES;

const ARROW_TYPE: Record<ColumnDef['kind'], string> = { f64: 'float64', i32: 'int32', u32: 'uint32', dict: 'dictionary<int32, utf8>', bool: 'bool' };

/** The README's table of a file's columns: `column | type | unit | meaning` (test/metrics/columns.test.ts keeps them equal). */
export function columnsMarkdown(table: readonly ColumnDef[]): string[] {
  return [
    '| column | type | unit | meaning |',
    '|---|---|---|---|',
    ...table.map((c) => {
      const meaning = c.null_when === undefined ? c.meaning : `${c.meaning}; null when ${c.null_when}`;
      return `| \`${c.name}\` | ${ARROW_TYPE[c.kind]} | ${c.unit || '–'} | ${meaning} |`;
    }),
  ];
}

/**
 * Rejects a column that code generated from the table (newRow, rowWriter) would mishandle: a name
 * that is not an identifier would be spliced into the generated source as code, and a nullable
 * column that is not f64 has no null in its buffer (only f64 carries one, as NaN), so the null
 * RowOf lets a caller write would land as a silent 0.
 */
export function checkGeneratable(c: ColumnDef): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(c.name)) throw new Error(`column name ${JSON.stringify(c.name)} is not an identifier`);
  if (c.null_when !== undefined && c.kind !== 'f64') {
    throw new Error(`column ${c.name}: only f64 columns can be null (null_when is set on a ${c.kind} column, whose nulls would be written as 0)`);
  }
}

/**
 * A record with every field of `table` present from the start, in column order (0, or a dictionary
 * column's first value): filled and reused, it keeps one hidden class for its life.
 * Made by an object literal: adding 21 fields one by one (`rec[name] = …`) turns the object into a
 * slow dictionary-mode object in V8, and the engine writes these fields on every step.
 */
export function newRow<T extends readonly ColumnDef[]>(table: T): RowOf<T> {
  const fields = table.map((c) => {
    checkGeneratable(c);
    return `${c.name}: ${c.kind === 'dict' ? JSON.stringify(c.values[0] ?? '') : c.kind === 'bool' ? 'false' : c.kind === 'f64' ? 'z' : '0'}`;
  });
  // f64 fields start as doubles (engine/doubles.ts).
  return new Function('z', `return { ${fields.join(', ')} };`)(DOUBLE_ZERO) as RowOf<T>;
}
