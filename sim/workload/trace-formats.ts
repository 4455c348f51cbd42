import { fieldError, rowError, unknownNameError } from '../errors.js';
import type { BurstGptOptions, TraceFormat, TraceSpec } from '../scenario/types.js';
import { parseAzureTimestamp, type SplitTime } from './azure-time.js';
import { toCount, toNonNegative } from './fields.js';
import { readCsvTrace } from './trace-csv.js';
import { readJsonlTrace } from './trace-jsonl.js';
import type { TraceTable } from './types.js';

const FORMATS: readonly TraceFormat[] = ['azure-2023', 'azure-2024', 'vidur', 'mooncake', 'burstgpt', 'splitwise', 'arrow', 'csv', 'jsonl'];

/** Formats whose columns the scenario names (`workload.trace.columns`); the others have fixed columns. */
export function namesColumns(format: TraceFormat): boolean {
  return format === 'csv' || format === 'jsonl' || format === 'arrow';
}
const UNIT_DIVISOR = { s: 1, ms: 1e3, us: 1e6 } as const;

/** Parses `text` as the trace's format; times are as in the file (Azure: seconds after row 1), unsorted. */
export function readTraceFormat(spec: TraceSpec, text: string): TraceTable {
  const file = spec.path;
  const named = (): string => `workload.trace.path (format ${spec.format})`;
  refuseLabels(spec);
  switch (spec.format) {
    case 'azure-2023':
      return readCsvTrace(text, file, {
        input: 'ContextTokens',
        output: 'GeneratedTokens',
        arrival: {
          column: 'TIMESTAMP',
          optional: false,
          toSeconds: azureSecondsAfterFirstRow(),
          problem: 'must be a date-time like "2023-11-16 18:15:46.6805900"',
        },
        field: named,
      });
    case 'vidur':
      return readCsvTrace(text, file, {
        input: 'num_prefill_tokens',
        output: 'num_decode_tokens',
        arrival: { column: 'arrived_at', optional: true, toSeconds: toNonNegative, problem: 'must be a non-negative number of seconds' },
        field: named,
      });
    case 'mooncake':
      return readJsonlTrace(text, file, {
        input: 'input_length',
        output: 'output_length',
        arrival: 'timestamp',
        arrivalDivisor: 1e3,
        hashIds: 'hash_ids',
        field: named,
      });
    case 'burstgpt':
      return readBurstGpt(spec, text);
    case 'splitwise':
      return readCsvTrace(text, file, {
        input: 'prompt_size',
        output: 'token_size',
        arrival: { column: 'arrival_timestamp', optional: false, toSeconds: toNonNegative, problem: 'must be a non-negative number of seconds' },
        field: named,
        // splitwise-sim's generators write batch_size 1; a row standing for several requests is not guessed at.
        filters: [
          {
            column: 'batch_size',
            keep: (raw, line) => {
              if (raw?.trim() !== '1') throw rowError(file, line, 'batch_size must be 1 (infersim replays one request per row)', raw ?? '');
              return true;
            },
          },
        ],
      });
    case 'csv':
    case 'jsonl':
      return readGeneric(spec, text);
    case 'arrow':
    case 'azure-2024':
      // Binary (trace-arrow.ts) or streamed (trace-stream.ts): loadTrace reads these itself.
      throw new Error(`format ${spec.format} is not read from text; call loadTrace`);
    default:
      throw unknownNameError('workload.trace.format', String(spec.format), FORMATS);
  }
}

const LOG_TYPES = { conversation: 'Conversation log', api: 'API log' } as const;

/**
 * BurstGPT (HPMLL/BurstGPT data/BurstGPT_*.csv): Timestamp (s from the first day's midnight, kept
 * as the origin like the other non-Azure formats), Model, Request tokens, Response tokens, Total
 * tokens, Log Type. Rows with Response tokens 0 are the trace's failed requests: dropped by default
 * (their cost on the server is unknown), or with `failed: keep` replayed as prefill + 1 token.
 */
function readBurstGpt(spec: TraceSpec, text: string): TraceTable {
  const file = spec.path;
  const options: BurstGptOptions = spec.burstgpt ?? {};
  const filters: { column: string; keep: (raw: string | undefined, line: number) => boolean }[] = [];
  if ((options.failed ?? 'drop') === 'drop') filters.push({ column: 'Response tokens', keep: (raw) => toCount(raw) !== 0 });
  if (options.log_type !== undefined) {
    const wanted = LOG_TYPES[options.log_type];
    filters.push({ column: 'Log Type', keep: (raw) => raw?.trim() === wanted });
  }
  const models = options.models;
  return readCsvTrace(text, file, {
    input: 'Request tokens',
    output: 'Response tokens',
    arrival: { column: 'Timestamp', optional: false, toSeconds: toNonNegative, problem: 'must be a non-negative number of seconds' },
    field: (role) => (role === 'model' ? 'workload.trace.burstgpt.models' : `workload.trace.path (format burstgpt)`),
    filters,
    ...(models !== undefined && {
      model: 'Model',
      modelOf: (raw, line) => {
        const name = raw?.trim() ?? '';
        const model = Object.prototype.hasOwnProperty.call(models, name) ? models[name] : undefined;
        if (model === undefined) {
          throw rowError(file, line, `Model ${JSON.stringify(name)} is not mapped by workload.trace.burstgpt.models (maps ${Object.keys(models).map((m) => JSON.stringify(m)).join(', ') || 'nothing'})`);
        }
        return model;
      },
    }),
  });
}

function readGeneric(spec: TraceSpec, text: string): TraceTable {
  const columns = spec.columns;
  if (columns === undefined) {
    throw fieldError('workload.trace.columns', `required for format "${spec.format}": name the input_tokens and output_tokens columns (and arrival, if any)`);
  }
  const field = (role: string): string => `workload.trace.columns.${role === 'input' ? 'input_tokens' : role === 'output' ? 'output_tokens' : role}`;
  const divisor = UNIT_DIVISOR[columns.arrival_unit ?? 's'];
  if (spec.format === 'jsonl') {
    return readJsonlTrace(text, spec.path, {
      input: columns.input_tokens,
      output: columns.output_tokens,
      arrival: columns.arrival,
      arrivalDivisor: divisor,
      model: columns.model,
      user: columns.user,
      adapter: columns.adapter,
      field,
    });
  }
  const arrival = columns.arrival;
  return readCsvTrace(text, spec.path, {
    input: columns.input_tokens,
    output: columns.output_tokens,
    arrival:
      arrival === undefined
        ? undefined
        : {
            column: arrival,
            optional: false,
            toSeconds: (raw) => toNonNegative(raw) / divisor,
            problem: `must be a non-negative number (${columns.arrival_unit ?? 's'})`,
          },
    model: columns.model,
    user: columns.user,
    adapter: columns.adapter,
    field,
  });
}

/**
 * The named formats have fixed columns and none for a model or user; loadTrace is called without
 * validateWorkload too (tools, tests), so the reader refuses them rather than quietly dropping them.
 */
export function refuseLabels(spec: TraceSpec): void {
  if (namesColumns(spec.format)) return;
  for (const label of ['model', 'user', 'adapter'] as const) {
    const column = spec.columns?.[label];
    if (column !== undefined) {
      throw fieldError(`workload.trace.columns.${label}`, `only format csv, jsonl or arrow can name ${label === 'adapter' ? 'an' : 'a'} ${label} column; format "${spec.format}" has fixed columns and no ${label}`, column);
    }
  }
}

/** Differences whole seconds and fractions apart (see SplitTime) against the first row's time. */
function azureSecondsAfterFirstRow(): (raw: string) => number {
  let first: SplitTime | undefined;
  const time: SplitTime = { whole_s: 0, fraction_s: 0 };
  return (raw) => {
    if (!parseAzureTimestamp(raw, time)) return NaN;
    first ??= { ...time };
    return time.whole_s - first.whole_s + (time.fraction_s - first.fraction_s);
  };
}
