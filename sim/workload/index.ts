import { rngStream } from '../engine/rng.js';
import { fieldError } from '../errors.js';
import { MAX_REQUESTS, MAX_TIME_S, shown } from '../scenario/bounds.js';
import type { TraceSpec, WorkloadSpec } from '../scenario/types.js';
import { arrivalClock, type ArrivalClock } from './arrivals.js';
import { closedLoopStream } from './closed-loop.js';
import { lengthSampler } from './lengths.js';
import { requestLimiter } from './limits.js';
import { openLoopStream } from './open-loop.js';
import { sessionStream } from './sessions.js';
import { loadTrace } from './trace.js';
import { isStreamedFormat, openAzure2024 } from './trace-stream.js';
import { markTraits, priorityClasses, traitSampler, type Traits } from './traits.js';
import type { TraceRequest, TraceTable, WorkloadInfo, WorkloadStream } from './types.js';
import { validateWorkload } from './validate.js';

export type { TraceRequest, TraceTable, WorkloadInfo, WorkloadStream } from './types.js';
export { loadTrace, type TraceLimits } from './trace.js';
export { arrivalClock, type ArrivalClock } from './arrivals.js';
export { lengthSampler, type LengthSampler } from './lengths.js';
export { validateWorkload } from './validate.js';

type MakeRequest = (id: number, arrival_s: number) => TraceRequest;

/** What the stream needs from a source of lengths (a trace or two samplers). */
interface Source {
  make: MakeRequest;
  /** Arrival times the source itself dictates (a timestamped trace in open loop). */
  ownArrivals?: () => number;
  /** A streamed trace whose length is unknown until read: the arrival process's clock, ending (Infinity) with the file. */
  endingClock?: (clock: ArrivalClock) => ArrivalClock;
  /** Bound on the requests when info.max_requests promises none (a streamed trace: num_requests). */
  count_bound?: number;
  /** Receives the stream's info, for counts a streamed trace keeps up to date as it reads. */
  bind?: (info: WorkloadInfo) => void;
  info: Omit<WorkloadInfo, 'loop'>;
}

/**
 * The workload as a lazy request stream. Random draws come from one seeded stream per purpose
 * ('arrivals', 'arrival_thinning', 'input_tokens', 'output_tokens', 'turns', 'prefix', 'priority', 'models', 'users', 'lora'),
 * so changing one setting leaves the others' draws unchanged. With a trace, `workload.arrival` (or
 * `concurrency`) replaces the file's timestamps and the trace gives only the lengths (and model and
 * user columns), in arrival order.
 */
export function createRequestStream(spec: WorkloadSpec, seed: number): WorkloadStream {
  validateWorkload(spec);
  const built = spec.trace === undefined ? syntheticSource(spec, seed) : isStreamedFormat(spec.trace.format) ? streamedTraceSource(spec) : traceSource(spec);
  const source = { ...built, make: capped(built.make, spec) };
  const max_requests = source.info.max_requests ?? source.count_bound ?? Infinity;
  const duration_s = spec.duration_s ?? Infinity;
  const loop = spec.concurrency !== undefined ? 'closed' : 'open';
  const priority_classes = priorityClasses(spec);
  // A rate schedule's end can stop the stream short of its bound: then the bound promises no count.
  const rate = spec.arrival !== undefined && spec.arrival.process !== 'burst' ? spec.arrival.rate_per_s : undefined;
  const scheduleEnds = Array.isArray(rate) && source.ownArrivals === undefined;
  const info: WorkloadInfo = {
    ...source.info,
    ...(scheduleEnds && { max_requests: undefined }),
    loop,
    ...(priority_classes && { priority_classes }),
    ...(spec.lora !== undefined && { adapters: spec.lora.adapters }),
  };
  source.bind?.(info);
  const traits = traitSampler(spec, seed);
  const limit = requestLimiter(spec, info);
  const processClock = (): ArrivalClock =>
    spec.arrival !== undefined ? arrivalClock(spec.arrival, rngStream(seed, 'arrivals'), rngStream(seed, 'arrival_thinning')) : () => 0;
  const startClock = (): ArrivalClock => source.ownArrivals ?? (source.endingClock ? source.endingClock(processClock()) : processClock());

  if (spec.sessions !== undefined) {
    const stream = sessionStream({
      max_requests,
      duration_s,
      think_time_s: spec.sessions.think_time_s,
      nextStart: loop === 'open' ? startClock() : undefined,
      concurrency: spec.concurrency,
      turns: lengthSampler(spec.sessions.turns, rngStream(seed, 'turns'), 'workload.sessions.turns'),
      make: source.make,
      traits,
      limit,
    });
    return { ...stream, info };
  }
  const make = decorated(source.make, traits, limit);
  if (loop === 'closed') return { ...closedLoopStream({ concurrency: spec.concurrency!, max_requests, duration_s, make }), info };
  return { ...openLoopStream({ max_requests, duration_s, nextArrival: startClock(), make }), info };
}

/** Without sessions every request is its own client: it draws its own traits. */
function decorated(make: MakeRequest, traits: (() => Traits) | undefined, limit: ((r: TraceRequest) => void) | undefined): MakeRequest {
  if (traits === undefined && limit === undefined) return make;
  return (id, arrival_s) => {
    const request = make(id, arrival_s);
    if (traits !== undefined) {
      const drawn = traits();
      request.input_tokens += drawn.prefix_tokens ?? 0;
      markTraits(request, drawn);
    }
    limit?.(request);
    return request;
  };
}

function traceSource(spec: WorkloadSpec): Source {
  const fileTimes = spec.arrival === undefined && spec.concurrency === undefined;
  const table = loadTrace(spec.trace!, { num_requests: spec.num_requests, duration_s: fileTimes ? spec.duration_s : undefined });
  const { input_tokens, output_tokens, hash_ids, arrival_s } = table;
  const plain =
    hash_ids === undefined
      ? (id: number, t: number): TraceRequest => ({ id, arrival_s: t, input_tokens: input_tokens[id], output_tokens: output_tokens[id] })
      : (id: number, t: number): TraceRequest => ({
          id,
          arrival_s: t,
          input_tokens: input_tokens[id],
          output_tokens: output_tokens[id],
          hash_ids: hash_ids[id],
        });
  const make = labelled(plain, table);
  let row = 0;
  const ownArrivals = fileTimes && arrival_s !== undefined ? () => checkedTraceTime(arrival_s[row++], row, spec.trace!) : undefined;
  const models = table.model_names === undefined ? {} : { models: table.model_names };
  const adapters = table.adapter_names === undefined ? {} : { adapters: table.adapter_names.length };
  const dropped = table.dropped_rows === undefined ? {} : { dropped_rows: table.dropped_rows };
  return { make, ownArrivals, info: { source: 'trace', max_requests: table.length, zero_output_rows: table.zero_output_rows, ...dropped, ...models, ...adapters } };
}

/**
 * A trace read row by row as requests are pulled (format azure-2024): memory holds one chunk of the
 * file, not the week. `next()` of the open loop peeks the upcoming row for its time (the file's, or
 * the arrival process's while rows remain) and `make` takes it. Closed loops are refused in
 * validation: their bound must be known before the file is read.
 */
function streamedTraceSource(spec: WorkloadSpec): Source {
  const trace = spec.trace!;
  const rows = openAzure2024(trace);
  const fileTimes = spec.arrival === undefined && spec.concurrency === undefined;
  let k = 0;
  let bound: WorkloadInfo | undefined;
  const make: MakeRequest = (id, arrival_s) => {
    const row = rows.next();
    if (row === undefined) throw new Error(`streamed trace ended before request ${id}: the stream must peek before it makes`);
    if (bound !== undefined) bound.zero_output_rows = rows.zero_output_rows;
    return { id, arrival_s, input_tokens: row.input_tokens, output_tokens: row.output_tokens };
  };
  // zero_output_rows counts the rows read so far (the whole file is never read up front).
  const info: Source['info'] = { source: 'trace', max_requests: undefined, zero_output_rows: 0 };
  const bind = (full: WorkloadInfo): void => {
    bound = full;
  };
  if (fileTimes) {
    const ownArrivals = (): number => {
      const row = rows.peek();
      if (row === undefined) return Infinity;
      return checkedTraceTime(row.arrival_s, ++k, trace);
    };
    return { make, ownArrivals, count_bound: spec.num_requests, info, bind };
  }
  return { make, endingClock: (clock) => () => (rows.peek() === undefined ? Infinity : clock()), count_bound: spec.num_requests, info, bind };
}

/** Adds the trace's model, user and adapter columns, when it names them; other traces' requests keep their shape. */
function labelled(make: MakeRequest, table: TraceTable): MakeRequest {
  const { model, model_names, user, adapter } = table;
  if (model === undefined && user === undefined && adapter === undefined) return make;
  return (id, arrival_s) => {
    const request = make(id, arrival_s);
    if (model !== undefined) request.model = model_names![model[id]];
    if (user !== undefined) request.user = user[id];
    if (adapter !== undefined && adapter[id] >= 0) request.adapter = adapter[id];
    return request;
  };
}

/**
 * Refuses request MAX_REQUESTS + 1: num_requests is bounded by the schema, but a duration (with a
 * closed loop, or sessions) or a long trace can bring more than a run can hold.
 */
function capped(make: MakeRequest, spec: WorkloadSpec): MakeRequest {
  return (id, arrival_s) => {
    if (id >= MAX_REQUESTS) {
      throw spec.trace !== undefined
        ? fieldError('workload.num_requests', `the trace holds more than the ${shown(MAX_REQUESTS)} requests a run can; set workload.num_requests to replay its first ones`)
        : fieldError('workload.duration_s', `the workload passed the ${shown(MAX_REQUESTS)} requests a run can hold before duration_s; set workload.num_requests or a shorter duration`, spec.duration_s);
    }
    return make(id, arrival_s);
  };
}

/** A trace's k-th arrival (1-based, in time order): a large timestamp or a tiny speedup can put it past the time limit. */
function checkedTraceTime(t: number, k: number, trace: TraceSpec): number {
  if (t <= MAX_TIME_S) return t;
  const field = trace.speedup !== undefined ? 'workload.trace.speedup' : 'workload.trace.path';
  throw fieldError(
    field,
    `arrival ${k} in time order comes at ${t.toPrecision(3)} s (after rebasing${trace.speedup !== undefined ? ` and ÷ speedup ${trace.speedup}` : ''}), ` +
      `past the simulation's ${shown(MAX_TIME_S)} s time limit; use a larger speedup or fewer rows (workload.num_requests, workload.duration_s)`,
  );
}

function syntheticSource(spec: WorkloadSpec, seed: number): Source {
  const input = lengthSampler(spec.input_tokens!, rngStream(seed, 'input_tokens'), 'workload.input_tokens');
  const output = lengthSampler(spec.output_tokens!, rngStream(seed, 'output_tokens'), 'workload.output_tokens');
  return {
    make: (id, arrival_s) => ({ id, arrival_s, input_tokens: input(), output_tokens: output() }),
    info: { source: 'synthetic', max_requests: spec.num_requests, zero_output_rows: 0 },
  };
}
