/**
 * How a run's records cross to its sink thread (sinkRing.ts): each as float64 words, decoded there
 * into the same values (doubles travel bit for bit; strings by their number in the ring's table).
 */
import { CLUSTER_COLUMNS, ITERATION_COLUMNS, type ColumnDef } from './columns.js';
import type { ClusterRow, IterationRecord, RequestOutcome } from './records.js';
import type { StepStamps } from './stepStamps.js';
import { TAG, type RingReader, type RingWriter } from './sinkRing.js';

/** A row of a column table as float64 words; a nullable column takes two (null flag, value). */
export interface RowCodec<R> {
  readonly words: number;
  /** The dictionary columns, in order: their values' string numbers are resolved before `encode` (`ids`). */
  readonly dicts: readonly string[];
  encode(row: R, d: Float64Array, at: number, ids: readonly number[]): void;
  decode(d: Float64Array, at: number, row: R, str: (id: number) => string): void;
}

/** Generated per table, like rowWriter: a row's fields are read by name, once each, without a loop over names. */
export function rowCodec<R>(table: readonly ColumnDef[]): RowCodec<R> {
  const enc: string[] = [];
  const dec: string[] = [];
  const dicts: string[] = [];
  let i = 0;
  for (const c of table) {
    if (!/^[a-z_][a-z0-9_]*$/.test(c.name)) throw new Error(`column name ${JSON.stringify(c.name)} is not an identifier`);
    const f = `row.${c.name}`;
    if (c.kind === 'dict') {
      enc.push(`d[at + ${i}] = ids[${dicts.length}];`);
      dec.push(`${f} = str(d[at + ${i}]);`);
      dicts.push(c.name);
    } else if (c.kind === 'bool') {
      enc.push(`d[at + ${i}] = ${f} ? 1 : 0;`);
      dec.push(`${f} = d[at + ${i}] !== 0;`);
    } else if (c.null_when !== undefined) {
      enc.push(`d[at + ${i}] = ${f} === null ? 1 : 0; d[at + ${i + 1}] = ${f} ?? 0;`);
      dec.push(`${f} = d[at + ${i}] === 1 ? null : d[at + ${i + 1}];`);
      i++;
    } else {
      enc.push(`d[at + ${i}] = ${f};`);
      dec.push(`${f} = d[at + ${i}];`);
    }
    i++;
  }
  return {
    words: i,
    dicts,
    encode: new Function('row', 'd', 'at', 'ids', enc.join('\n')) as RowCodec<R>['encode'],
    decode: new Function('d', 'at', 'row', 'str', dec.join('\n')) as RowCodec<R>['decode'],
  };
}

export const ITERATION_CODEC = rowCodec<IterationRecord>(ITERATION_COLUMNS);
export const CLUSTER_CODEC = rowCodec<ClusterRow>(CLUSTER_COLUMNS);

/** Optional fields present (bits of a request record's flag word). */
const HAS = { LOOKUPS: 1, MODEL: 2, POOL: 4, SHADOW: 8, REJECT: 16, RETRIES: 32, HANDOFF: 64, STEPS: 128, LONG: 256 } as const;
/** Words before a request's token times. */
const HEAD = 28;

/**
 * Where a request's times and steps too long for one record (over half the ring: ~500 k tokens
 * with their steps) are gathered from LONG records before its REQUEST record.
 */
export class LongValues {
  times = new Float64Array(0);
  steps = new Float64Array(0);

  /** Takes the LONG record at `at`; returns where it ends. */
  read(d: Float64Array, at: number): number {
    const [kind, offset, count] = [d[at + 1], d[at + 2], d[at + 3]];
    let into = kind === 0 ? this.times : this.steps;
    if (into.length < offset + count) {
      const grown = new Float64Array(Math.max(offset + count, 2 * into.length));
      grown.set(into);
      into = grown;
      if (kind === 0) this.times = grown;
      else this.steps = grown;
    }
    into.set(d.subarray(at + 4, at + 4 + count), offset);
    return at + 4 + count;
  }
}

/** Sends `values[0..n)` as LONG records of `kind` (0 times, 1 steps), each within the ring's limit. */
function writeLong(ring: RingWriter, kind: number, values: ArrayLike<number>, n: number): void {
  const chunk = ring.record_max_words - 4;
  for (let offset = 0; offset < n; offset += chunk) {
    const count = Math.min(chunk, n - offset);
    const at = ring.reserve(4 + count);
    const d = ring.data;
    d[at] = TAG.LONG;
    d[at + 1] = kind;
    d[at + 2] = offset;
    d[at + 3] = count;
    for (let i = 0; i < count; i++) d[at + 4 + i] = values[offset + i];
    ring.commit(at + 4 + count);
  }
}

/**
 * Sends `o`. A request whose tokens are a stretch of its replica's steps (token_stretch_step ≥ 0)
 * sends no times: the sink thread's copy of the stamps has them. Times too long for one record go
 * ahead of it (LongValues).
 */
export function writeOutcome(ring: RingWriter, o: RequestOutcome): void {
  const status = ring.string(o.status);
  const model = o.model === undefined ? -1 : ring.string(o.model);
  const pool = o.pool === undefined ? -1 : ring.string(o.pool);
  const reject = o.reject_reason === undefined ? -1 : ring.string(o.reject_reason);
  const stretch = o.token_stretch_step ?? -1;
  const times = o.token_times_s;
  const n = times.length;
  const steps = o.token_steps;
  const sent = stretch >= 0 ? 0 : n;
  const stepWords = steps === undefined ? 0 : steps.length;
  const long = HEAD + sent + stepWords > ring.record_max_words;
  if (long) {
    writeLong(ring, 0, times, sent);
    if (steps !== undefined) writeLong(ring, 1, steps, stepWords);
  }
  const inline = long ? 0 : sent + stepWords;
  const at = ring.reserve(HEAD + inline);
  const d = ring.data;
  const h = o.handoff;
  let flags = 0;
  if (o.prompt_lookups !== undefined) flags |= HAS.LOOKUPS;
  if (model >= 0) flags |= HAS.MODEL;
  if (pool >= 0) flags |= HAS.POOL;
  if (o.shadow !== undefined) flags |= HAS.SHADOW;
  if (reject >= 0) flags |= HAS.REJECT;
  if (o.retries !== undefined) flags |= HAS.RETRIES;
  if (h !== undefined) flags |= HAS.HANDOFF;
  if (steps !== undefined) flags |= HAS.STEPS;
  if (long) flags |= HAS.LONG;
  d[at] = TAG.REQUEST;
  d[at + 1] = flags;
  d[at + 2] = o.request_id;
  d[at + 3] = o.replica;
  d[at + 4] = o.arrival_s;
  d[at + 5] = o.input_tokens;
  d[at + 6] = o.output_tokens;
  d[at + 7] = o.cached_tokens;
  d[at + 8] = o.first_scheduled_s;
  d[at + 9] = o.preemptions;
  d[at + 10] = status;
  d[at + 11] = o.finish_s;
  d[at + 12] = o.priority;
  d[at + 13] = o.samples;
  d[at + 14] = o.sequences;
  d[at + 15] = o.prompt_lookups ?? 0;
  d[at + 16] = model;
  d[at + 17] = pool;
  d[at + 18] = o.shadow === true ? 1 : 0;
  d[at + 19] = reject;
  d[at + 20] = o.retries ?? 0;
  d[at + 21] = h?.prefill_replica ?? 0;
  d[at + 22] = h?.kv_transfer_tokens ?? 0;
  d[at + 23] = h?.kv_wait_s ?? 0;
  d[at + 24] = h?.kv_transfer_s ?? 0;
  d[at + 25] = stretch;
  d[at + 26] = n;
  d[at + 27] = stepWords;
  if (!long) {
    for (let i = 0; i < sent; i++) d[at + HEAD + i] = times[i];
    for (let i = 0; i < stepWords; i++) d[at + HEAD + sent + i] = steps![i];
  }
  ring.commit(at + HEAD + inline);
}

/**
 * The request at `at` (a REQUEST record), as `writeOutcome` was given it: its times are a view of
 * the ring (or of `stamps`, a stretch, or of `long`), valid until the reader moves on. Returns
 * where it ends.
 */
export function readOutcome(ring: RingReader, at: number, stampsOf: (replica: number) => StepStamps, long?: LongValues): { o: RequestOutcome; end: number } {
  const d = ring.data;
  const flags = d[at + 1];
  const replica = d[at + 3];
  const stretch = d[at + 25];
  const n = d[at + 26];
  const stepWords = d[at + 27];
  const inLong = (flags & HAS.LONG) !== 0;
  if (inLong && long === undefined) throw new Error('sink thread: a long request without its LongValues');
  const sent = stretch >= 0 || inLong ? 0 : n;
  const times = stretch >= 0 ? stampsOf(replica).view(stretch, n) : inLong ? long!.times.subarray(0, n) : d.subarray(at + HEAD, at + HEAD + n);
  const stepsAt = at + HEAD + sent;
  const stepValues = flags & HAS.STEPS ? (inLong ? long!.steps.subarray(0, stepWords) : d.subarray(stepsAt, stepsAt + stepWords)) : undefined;
  const o: RequestOutcome = {
    request_id: d[at + 2],
    replica,
    arrival_s: d[at + 4],
    input_tokens: d[at + 5],
    output_tokens: d[at + 6],
    cached_tokens: d[at + 7],
    first_scheduled_s: d[at + 8],
    token_times_s: times,
    token_steps: stepValues,
    token_stretch_step: stretch,
    preemptions: d[at + 9],
    status: ring.string(d[at + 10]) as RequestOutcome['status'],
    finish_s: d[at + 11],
    priority: d[at + 12],
    samples: d[at + 13],
    prompt_lookups: flags & HAS.LOOKUPS ? d[at + 15] : undefined,
    sequences: d[at + 14],
    model: flags & HAS.MODEL ? ring.string(d[at + 16]) : undefined,
    pool: flags & HAS.POOL ? ring.string(d[at + 17]) : undefined,
    shadow: flags & HAS.SHADOW ? d[at + 18] === 1 : undefined,
    reject_reason: flags & HAS.REJECT ? (ring.string(d[at + 19]) as RequestOutcome['reject_reason']) : undefined,
    retries: flags & HAS.RETRIES ? d[at + 20] : undefined,
    handoff: flags & HAS.HANDOFF ? { prefill_replica: d[at + 21], kv_transfer_tokens: d[at + 22], kv_wait_s: d[at + 23], kv_transfer_s: d[at + 24] } : undefined,
  };
  return { o, end: at + HEAD + (inLong ? 0 : sent + stepWords) };
}
