import { fieldError } from '../errors.js';
import { MAX_REQUESTS, shown } from '../scenario/bounds.js';
import type { WorkloadSpec } from '../scenario/types.js';
import { rateProfile } from './rate-profile.js';
import { namesColumns, refuseLabels } from './trace-formats.js';
import { isStreamedFormat } from './trace-stream.js';
import { validateLora } from './adapters.js';

/**
 * Combinations the schema cannot see. Parameter ranges of each distribution and arrival process are
 * checked where they are built (lengths.ts, arrivals.ts), next to the code that relies on them.
 */
export function validateWorkload(spec: WorkloadSpec): void {
  const { trace, arrival, concurrency, input_tokens, output_tokens, num_requests, duration_s } = spec;
  if (trace !== undefined) {
    if (input_tokens !== undefined) throw fieldError('workload.input_tokens', 'cannot be combined with workload.trace, which gives the lengths');
    if (output_tokens !== undefined) throw fieldError('workload.output_tokens', 'cannot be combined with workload.trace, which gives the lengths');
  } else {
    if (input_tokens === undefined && output_tokens === undefined) {
      throw fieldError('workload', 'needs a trace, or input_tokens and output_tokens for a synthetic workload');
    }
    if (input_tokens === undefined) throw fieldError('workload.input_tokens', 'required with workload.output_tokens');
    if (output_tokens === undefined) throw fieldError('workload.output_tokens', 'required with workload.input_tokens');
  }
  if (concurrency !== undefined) {
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw fieldError('workload.concurrency', 'must be an integer ≥ 1', concurrency);
    if (arrival !== undefined) {
      throw fieldError('workload.concurrency', 'cannot be combined with workload.arrival: a closed loop sends each request when an earlier one finishes');
    }
  }
  if (num_requests !== undefined && !(Number.isInteger(num_requests) && num_requests >= 1)) {
    throw fieldError('workload.num_requests', 'must be an integer ≥ 1', num_requests);
  }
  if (duration_s !== undefined && !(Number.isFinite(duration_s) && duration_s > 0)) {
    throw fieldError('workload.duration_s', 'must be a number > 0', duration_s);
  }
  if (trace === undefined) {
    if (num_requests === undefined && duration_s === undefined) {
      throw fieldError('workload.num_requests', 'a synthetic workload needs num_requests or duration_s (or both)');
    }
    if (arrival === undefined && concurrency === undefined) {
      throw fieldError('workload.arrival', 'a synthetic workload needs an arrival process, or workload.concurrency for a closed loop');
    }
    if (num_requests === undefined && duration_s !== undefined) checkExpectedCount(spec, duration_s);
    if (arrival?.process === 'burst' && num_requests === undefined) {
      throw fieldError('workload.num_requests', 'required with arrival process "burst": every request arrives at t = 0, so duration_s cannot bound it');
    }
  } else {
    validateTrace(spec);
  }
  validateClients(spec);
  validatePopulation(spec);
  if (spec.lora !== undefined) validateLora(spec.lora, spec.trace);
}

/** A run bounded by duration alone must not expect more requests than it can hold. */
function checkExpectedCount({ arrival }: WorkloadSpec, duration_s: number): void {
  if (arrival === undefined || arrival.process === 'burst') return;
  const rate = arrival.rate_per_s;
  const expected = typeof rate === 'number' ? rate * duration_s : rateProfile(rate).cumulative(duration_s);
  if (!(expected > MAX_REQUESTS)) return;
  const source = typeof rate === 'number' ? `at rate_per_s ${rate} it` : 'the varying rate_per_s';
  throw fieldError(
    'workload.duration_s',
    `${source} brings about ${Math.round(expected).toLocaleString('en-US')} requests, more than the ${shown(MAX_REQUESTS)} a run can hold ` +
      '(the summary keeps every request\'s latencies); set workload.num_requests or a shorter duration',
    duration_s,
  );
}

/** Keys that shape each client's requests: sessions, shared prefixes, priorities, sampling parameters. */
function validateClients(spec: WorkloadSpec): void {
  const { sessions, prefix, priority, n, best_of, max_tokens, timeout_s } = spec;
  if (sessions !== undefined) {
    if (spec.trace !== undefined) {
      throw fieldError(
        'workload.sessions',
        'needs a synthetic workload (input_tokens and output_tokens): a trace gives whole requests, not the turns of a conversation',
      );
    }
    if (!(Number.isFinite(sessions.think_time_s) && sessions.think_time_s >= 0)) {
      throw fieldError('workload.sessions.think_time_s', 'must be a number ≥ 0', sessions.think_time_s);
    }
  }
  if (prefix !== undefined) {
    positiveInt(prefix.groups, 'workload.prefix.groups');
    positiveInt(prefix.tokens, 'workload.prefix.tokens');
    if (!(prefix.fraction > 0 && prefix.fraction <= 1)) throw fieldError('workload.prefix.fraction', 'must be in (0, 1]', prefix.fraction);
  }
  if (priority !== undefined) {
    const { classes } = priority;
    if (classes.length === 0) throw fieldError('workload.priority.classes', 'must list at least one class');
    const seen = new Map<number, number>();
    classes.forEach((c, i) => {
      const field = `workload.priority.classes[${i}]`;
      if (!Number.isInteger(c.priority)) throw fieldError(`${field}.priority`, 'must be an integer', c.priority);
      if (!(Number.isFinite(c.weight) && c.weight > 0)) throw fieldError(`${field}.weight`, 'must be a number > 0', c.weight);
      const first = seen.get(c.priority);
      if (first !== undefined) throw fieldError(`${field}.priority`, `duplicates workload.priority.classes[${first}].priority`, c.priority);
      seen.set(c.priority, i);
    });
    // Classes are drawn from the cumulative weights: a sum that overflows would put every request in one class.
    const total = classes.reduce((sum, c) => sum + c.weight, 0);
    if (!Number.isFinite(total)) {
      throw fieldError('workload.priority.classes', 'the weights must sum to a finite number (they are relative: e.g. 1 and 3 for 25 % and 75 %)', classes.map((c) => c.weight));
    }
  }
  if (n !== undefined) positiveInt(n, 'workload.n');
  if (best_of !== undefined) {
    positiveInt(best_of, 'workload.best_of');
    if (best_of < (n ?? 1)) throw fieldError('workload.best_of', `must be ≥ workload.n (${n})`, best_of);
  }
  if (max_tokens !== undefined) positiveInt(max_tokens, 'workload.max_tokens');
  if (timeout_s !== undefined && !(Number.isFinite(timeout_s) && timeout_s > 0)) {
    throw fieldError('workload.timeout_s', 'must be a number > 0', timeout_s);
  }
}

/** Who sends the generated requests: the models they ask for and how many users there are. */
function validatePopulation(spec: WorkloadSpec): void {
  const { models, users, trace } = spec;
  if (models !== undefined) {
    if (trace !== undefined) {
      throw fieldError('workload.models', 'is for generated requests; a trace names each request’s model in a column (workload.trace.columns.model)', models.map((m) => m.name));
    }
    if (models.length === 0) throw fieldError('workload.models', 'must list at least one model');
    const seen = new Map<string, number>();
    models.forEach((m, i) => {
      const field = `workload.models[${i}]`;
      if (!(typeof m.name === 'string' && m.name.trim() !== '')) throw fieldError(`${field}.name`, 'must be a non-empty string', m.name);
      if (!(Number.isFinite(m.weight) && m.weight > 0)) throw fieldError(`${field}.weight`, 'must be a number > 0', m.weight);
      const first = seen.get(m.name);
      if (first !== undefined) throw fieldError(`${field}.name`, `duplicates workload.models[${first}].name`, m.name);
      seen.set(m.name, i);
    });
    // Models are drawn from the cumulative weights: a sum that overflows would send every request to one model.
    if (!Number.isFinite(models.reduce((sum, m) => sum + m.weight, 0))) {
      throw fieldError('workload.models', 'the weights must sum to a finite number (they are relative: e.g. 9 and 1 for 90 % and 10 %)', models.map((m) => m.weight));
    }
  }
  if (users !== undefined) {
    if (trace !== undefined) {
      throw fieldError('workload.users', 'is for generated requests; a trace names each request’s user in a column (workload.trace.columns.user)', users);
    }
    if (!(Number.isInteger(users) && users >= 1 && users <= MAX_REQUESTS)) {
      throw fieldError('workload.users', `must be an integer ≥ 1 and ≤ ${shown(MAX_REQUESTS)} (at most one user per request)`, users);
    }
  }
}

function positiveInt(value: number, field: string): void {
  if (!(Number.isInteger(value) && value >= 1)) throw fieldError(field, 'must be an integer ≥ 1', value);
}

function validateTrace(spec: WorkloadSpec): void {
  const trace = spec.trace!;
  const { speedup, columns, format } = trace;
  if (speedup !== undefined) {
    if (!(Number.isFinite(speedup) && speedup > 0)) throw fieldError('workload.trace.speedup', 'must be a number > 0', speedup);
    if (spec.arrival !== undefined || spec.concurrency !== undefined) {
      throw fieldError('workload.trace.speedup', 'has no effect when workload.arrival or workload.concurrency sets the arrival times');
    }
  }
  const generic = namesColumns(format);
  // A model or user column is named first: the user most likely wants the label, not other columns.
  refuseLabels(trace);
  if (columns !== undefined && !generic) {
    throw fieldError('workload.trace.columns', `only used with format csv, jsonl or arrow; format "${format}" has fixed columns`);
  }
  if (trace.burstgpt !== undefined && format !== 'burstgpt') {
    throw fieldError('workload.trace.burstgpt', `only used with format burstgpt, not "${format}"`);
  }
  if (isStreamedFormat(format) && spec.concurrency !== undefined) {
    throw fieldError(
      'workload.concurrency',
      `cannot be combined with format ${format}: that trace is streamed, so its length is unknown until read; use workload.arrival, or format csv with its columns`,
    );
  }
  if (columns?.arrival_unit !== undefined && columns.arrival === undefined) {
    throw fieldError('workload.trace.columns.arrival_unit', 'needs workload.trace.columns.arrival');
  }
}
