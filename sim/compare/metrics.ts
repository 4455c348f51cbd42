/**
 * Each tool's own metric definitions, applied alike to its real requests and to the simulated ones.
 *
 * - vLLM (vllm/benchmarks/serve.py, calculate_metrics): TTFT = first chunk − send; TPOT = (latency −
 *   TTFT) ÷ (output − 1), requests with more than one token; ITL = every gap between chunks of every
 *   request, pooled; E2E = latency (send → last chunk).
 * - GuideLLM, by the file's request layout (guidellm.ts records which):
 *   - GenerativeRequestStats (vllm-project/guidellm src/guidellm/schemas/request_stats.py, read at
 *     commit 06cef29): TTFT = first_token_iteration − request_start; ITL = (last − first token) ÷
 *     (output − 1) per request (None for output ≤ 1); TPOT = (last_token_iteration − request_start) ÷
 *     output, first token included; E2E = request_latency = request_end − request_start.
 *   - GenerativeTextResponseStats, the older layout (neuralmagic/guidellm
 *     src/guidellm/benchmark/benchmark.py, read at tags v0.2.0 and v0.2.1 and commit af89787):
 *     TTFT = first_token_time − start_time; TPOT = time_per_output_token_ms = (last_token_time −
 *     first_token_time) ÷ output_tokens; ITL = inter_token_latency_ms = (last_token_time −
 *     first_token_time) ÷ (output − 1), a field that is 0 for output ≤ 1 but whose summary
 *     (GenerativeBenchmark.from_stats, `total_with_output_multi`) takes only requests with output > 1,
 *     as here; E2E = request_latency = end_time − start_time.
 *   GuideLLM's summaries weight TPOT by output tokens and ITL by output − 1 (from_stats `weights`);
 *   the figures here weight every request alike.
 * - genai-perf (genai_perf/profile_data_parser/llm_profile_data_parser.py): TTFT = first response −
 *   timestamp; ITL = (request latency − TTFT) ÷ (output − 1) per request (output > 1); E2E = request
 *   latency = last response − timestamp; no TPOT.
 * Output throughput = Σ output tokens ÷ (last end − first send), as vLLM's benchmark duration and
 * genai-perf's (max response − min request) measure it.
 * Percentiles interpolate linearly between order statistics (numpy.percentile's default, which vLLM
 * and genai-perf use).
 */
import type { GuidellmLayout, RealFormat, TimedRequest } from './types.js';

export const METRICS = ['ttft', 'tpot', 'itl', 'e2e'] as const;
export type MetricName = (typeof METRICS)[number];
export const STATS = ['mean', 'p50', 'p90', 'p99'] as const;
export type StatName = (typeof STATS)[number];

export interface ToolMetrics {
  /** Per metric, its sample (seconds); absent where the tool defines no such metric. */
  values: Partial<Record<MetricName, number[]>>;
  output_throughput: number;
}

/** What each metric means for one tool, in words (printed under the table and in compare.json). */
export const DEFINITIONS: Record<RealFormat, Partial<Record<MetricName, string>>> = {
  vllm: {
    ttft: 'send → first chunk',
    tpot: '(latency − TTFT) ÷ (output − 1), per request with output > 1',
    itl: 'every gap between consecutive chunks, pooled over requests',
    e2e: 'send → last chunk',
  },
  guidellm: {
    ttft: 'request_start → first token',
    tpot: '(last token − request_start) ÷ output, per request (first token included)',
    itl: '(last token − first token) ÷ (output − 1), per request with output > 1',
    e2e: 'request_start → request_end',
  },
  'genai-perf': {
    ttft: 'timestamp → first response',
    itl: '(latency − TTFT) ÷ (output − 1), per request with output > 1',
    e2e: 'timestamp → last response',
  },
};

/** GuideLLM's older request layout (GenerativeTextResponseStats): TPOT runs from the first token, not from the start. */
const GUIDELLM_TEXT_RESPONSE: Partial<Record<MetricName, string>> = {
  ttft: 'start_time → first_token_time',
  tpot: '(last_token_time − first_token_time) ÷ output, per request',
  itl: '(last_token_time − first_token_time) ÷ (output − 1), per request with output > 1',
  e2e: 'start_time → end_time',
};

/** The definitions that apply to a file: its tool's, and for GuideLLM those of the layout read. */
export function definitionsOf(format: RealFormat, layout?: GuidellmLayout): Partial<Record<MetricName, string>> {
  return format === 'guidellm' && layout === 'GenerativeTextResponseStats' ? GUIDELLM_TEXT_RESPONSE : DEFINITIONS[format];
}

export function toolMetrics(format: RealFormat, requests: readonly TimedRequest[], duration_s?: number, layout?: GuidellmLayout): ToolMetrics {
  const ttft = requests.map((q) => q.first_s - q.start_s);
  const several = requests.filter((q) => q.output_tokens > 1);
  const perToken = several.map((q) => (q.last_s - q.first_s) / (q.output_tokens - 1));
  const values: ToolMetrics['values'] = {};
  if (format === 'vllm') {
    values.ttft = ttft;
    values.tpot = perToken;
    values.itl = requests.flatMap((q) => q.gaps_s ?? []);
    values.e2e = requests.map((q) => q.last_s - q.start_s);
  } else if (format === 'guidellm') {
    values.ttft = ttft;
    const from = layout === 'GenerativeTextResponseStats' ? (q: TimedRequest) => q.first_s : (q: TimedRequest) => q.start_s;
    values.tpot = requests.map((q) => (q.last_s - from(q)) / q.output_tokens);
    values.itl = perToken;
    values.e2e = requests.map((q) => q.end_s - q.start_s);
  } else {
    values.ttft = ttft;
    values.itl = perToken;
    values.e2e = requests.map((q) => q.last_s - q.start_s);
  }
  let first = Infinity;
  let last = -Infinity;
  let tokens = 0;
  for (const q of requests) {
    first = Math.min(first, q.start_s);
    last = Math.max(last, q.end_s);
    tokens += q.output_tokens;
  }
  const span = duration_s ?? last - first;
  return { values, output_throughput: span > 0 ? tokens / span : NaN };
}

/** Linear-interpolation percentile (numpy's default) of a sorted sample; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function statsOf(values: readonly number[]): Record<StatName, number> {
  const sorted = Float64Array.from(values).sort();
  const arr = Array.from(sorted);
  const mean = arr.length === 0 ? NaN : arr.reduce((a, b) => a + b, 0) / arr.length;
  return { mean, p50: percentile(arr, 50), p90: percentile(arr, 90), p99: percentile(arr, 99) };
}
