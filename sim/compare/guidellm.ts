/**
 * GuideLLM's benchmarks report (`guidellm benchmark … --output-path benchmarks.json`).
 *
 * Format source: vllm-project/guidellm, its pydantic models serialized with their computed fields:
 * - the report: `benchmarks[]` (GenerativeBenchmarksReport);
 * - a benchmark: `requests.successful[]` (StatusBreakdown of GenerativeRequestStats, possibly a
 *   sample: config.sample_requests) and its strategy, `config.strategy` (src/guidellm/benchmark/
 *   schemas/base.py, BenchmarkConfig; releases ≥ 0.4) or `args.strategy` (0.2–0.3, BenchmarkArgs);
 * - a strategy (src/guidellm/scheduler/strategies.py): `type_` synchronous | concurrent (`streams`) |
 *   throughput (`max_concurrency`) | constant (`rate`) | poisson (`rate`), each with an optional `max_concurrency`;
 * - a request (src/guidellm/schemas/request_stats.py, info.py): `prompt_tokens`, `output_tokens`
 *   (computed fields), and its times in seconds since the epoch: ≥ 0.4 `info.timings.request_start`,
 *   `first_token_iteration`, `last_token_iteration`, `request_end`; 0.2–0.3 `start_time`,
 *   `first_token_time`, `last_token_time`, `end_time` (GenerativeTextResponseStats). The layout read
 *   is recorded (RealRun.layout): the two define TPOT differently (metrics.ts).
 */
import type { JsonReader } from './json.js';
import { minOf } from './json.js';
import type { ArrivalPlan, GuidellmLayout, RealRun, TimedRequest } from './types.js';

export function looksLikeGuidellm(doc: Record<string, unknown>): boolean {
  const b = Array.isArray(doc.benchmarks) ? (doc.benchmarks[0] as Record<string, unknown> | undefined) : undefined;
  return b !== undefined && b !== null && typeof b === 'object' && typeof b.requests === 'object' && b.requests !== null && 'successful' in b.requests;
}

export function readGuidellm(doc: Record<string, unknown>, r: JsonReader, index = 0): RealRun {
  const benchmarks = r.array(doc.benchmarks, 'benchmarks');
  if (index >= benchmarks.length) throw r.fail('benchmarks', `has ${benchmarks.length} benchmark(s); --benchmark ${index} is past the last (counted from 0)`);
  const path = `benchmarks[${index}]`;
  const b = r.object(benchmarks[index], path);
  const requestsObj = r.object(b.requests, `${path}.requests`);
  const list = r.array(requestsObj.successful, `${path}.requests.successful`);
  if (list.length === 0) throw r.fail(`${path}.requests.successful`, 'is empty: nothing to compare');
  // One layout per file (the first request's): metrics.ts applies that layout's definitions to every request.
  const first = list[0];
  const layout: GuidellmLayout = first !== null && typeof first === 'object' && 'info' in first ? 'GenerativeRequestStats' : 'GenerativeTextResponseStats';
  const raw = list.map((x, i) => guidellmRequest(r, x, `${path}.requests.successful[${i}]`, layout));
  // The list is in completion order; the workload is in send order.
  raw.sort((a, c) => a.start_s - c.start_s);
  const t0 = minOf(raw.map((q) => q.start_s));
  const requests = raw.map((q) => ({ ...q, start_s: q.start_s - t0, first_s: q.first_s - t0, last_s: q.last_s - t0, end_s: q.end_s - t0 }));
  const strategyAt = b.config !== undefined ? `${path}.config.strategy` : `${path}.args.strategy`;
  const strategy = r.object(b.config !== undefined ? r.object(b.config, `${path}.config`).strategy : r.object(b.args, `${path}.args`).strategy, strategyAt);
  const traffic = guidellmTraffic(strategy, strategyAt, r);
  const rateField = traffic.plan?.kind === 'process' && traffic.plan.rate_per_s !== undefined ? `${strategyAt}.rate` : undefined;
  const notes: string[] = [];
  if (benchmarks.length > 1) notes.push(`guidellm: benchmark ${index} of ${benchmarks.length} (${traffic.text}); choose another with --benchmark N`);
  const errored = Array.isArray(requestsObj.errored) ? requestsObj.errored.length : 0;
  const incomplete = Array.isArray(requestsObj.incomplete) ? requestsObj.incomplete.length : 0;
  if (incomplete > 0) notes.push(`guidellm: ${incomplete} incomplete request(s) left out`);
  return {
    format: 'guidellm',
    file: r.file,
    requests,
    failed: errored,
    ...(traffic.plan && { configured: traffic.plan }),
    recorded: { kind: 'recorded', times_s: requests.map((q) => q.start_s) },
    traffic: traffic.text,
    notes,
    layout,
    ...(rateField && { rate_field: rateField }),
  };
}

function guidellmRequest(r: JsonReader, value: unknown, path: string, layout: GuidellmLayout): TimedRequest {
  const q = r.object(value, path);
  const input_tokens = r.count(q.prompt_tokens, `${path}.prompt_tokens`, 1);
  const output_tokens = r.count(q.output_tokens, `${path}.output_tokens`, 1);
  if (layout === 'GenerativeRequestStats') {
    const t = r.object(r.object(q.info, `${path}.info`).timings, `${path}.info.timings`);
    const at = `${path}.info.timings`;
    const start_s = r.number(t.request_start, `${at}.request_start`);
    const first_s = r.number(t.first_token_iteration, `${at}.first_token_iteration`, start_s);
    const last_s = r.number(t.last_token_iteration, `${at}.last_token_iteration`, first_s);
    const end_s = r.number(t.request_end, `${at}.request_end`, last_s);
    return { input_tokens, output_tokens, start_s, first_s, last_s, end_s };
  }
  if (q.info !== undefined) throw r.fail(`${path}.info`, 'is the GenerativeRequestStats layout, but the first request has the older one (start_time, first_token_time…): one layout per file');
  const start_s = r.number(q.start_time, `${path}.start_time`);
  const first_s = r.number(q.first_token_time, `${path}.first_token_time`, start_s);
  const last_s = r.number(q.last_token_time, `${path}.last_token_time`, first_s);
  const end_s = r.number(q.end_time, `${path}.end_time`, last_s);
  return { input_tokens, output_tokens, start_s, first_s, last_s, end_s };
}

function guidellmTraffic(s: Record<string, unknown>, at: string, r: JsonReader): { plan?: ArrivalPlan; text: string } {
  const type = r.string(s.type_, `${at}.type_`);
  const cap = s.max_concurrency === undefined || s.max_concurrency === null ? undefined : r.count(s.max_concurrency, `${at}.max_concurrency`, 1);
  const capped = cap === undefined ? {} : { concurrency: cap };
  const capText = cap === undefined ? '' : `, max_concurrency ${cap}`;
  switch (type) {
    case 'synchronous':
      return { plan: { kind: 'closed', concurrency: 1 }, text: 'synchronous (one request at a time)' };
    case 'concurrent': {
      const streams = r.count(s.streams, `${at}.streams`, 1);
      return { plan: { kind: 'closed', concurrency: streams }, text: `concurrent, ${streams} streams (closed loop)` };
    }
    case 'throughput':
      return { plan: { kind: 'process', process: 'burst', ...capped }, text: `throughput (all at once${capText})` };
    case 'constant':
    case 'poisson': {
      const rate = r.number(s.rate, `${at}.rate`, Number.MIN_VALUE);
      return { plan: { kind: 'process', process: type, rate_per_s: rate, ...capped }, text: `${type} ${rate}/s${capText}` };
    }
    default:
      return { text: `strategy ${type} (replayed at the recorded send times)` };
  }
}
