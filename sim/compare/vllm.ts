/**
 * `vllm bench serve --save-result --save-detailed` JSON: read it, and write simulated requests in it.
 *
 * Format source: vllm-project/vllm, vllm/benchmarks/serve.py (`benchmark()` builds `result`,
 * `main()` adds the traffic keys and drops the per-request lists unless --save-detailed), and
 * vllm/benchmarks/lib/endpoint_request_func.py (how each request is timed). Field by field:
 * - `input_lens[i]` prompt tokens, `output_lens[i]` output tokens (the server's usage count; 0 when failed);
 * - `ttfts[i]` seconds from sending to the first streamed chunk; `itls[i]` the gaps between the
 *   following chunks (one per chunk after the first, seconds); `latencies[i]` seconds from sending to
 *   the last chunk (newer releases; older ones have none: ttft + Σ itls, as serve.py's timeline plot does);
 * - `start_times[i]` `time.perf_counter()` when the request was sent (after the --max-concurrency
 *   semaphore; newer releases); `errors[i]` "" when the request succeeded;
 * - `request_rate` a number or "inf", `burstiness` (gamma shape; 1 = Poisson), `max_concurrency`
 *   (null: none), `ramp_up_strategy` when the rate ramped; `duration` the benchmark's wall time (s).
 * The lists are in the order the requests were issued (asyncio.gather keeps it).
 */
import type { JsonReader } from './json.js';
import { minOf } from './json.js';
import type { ArrivalPlan, RealRun, TimedRequest } from './types.js';

const LISTS = ['input_lens', 'output_lens', 'ttfts', 'itls'] as const;

/** True when an object looks like vLLM's result JSON (the detailed lists present). */
export function looksLikeVllm(doc: Record<string, unknown>): boolean {
  return Array.isArray(doc.input_lens) && Array.isArray(doc.ttfts) && Array.isArray(doc.itls);
}

export function readVllm(doc: Record<string, unknown>, r: JsonReader): RealRun {
  const n = r.array(doc.input_lens, 'input_lens').length;
  for (const key of LISTS) r.array(doc[key], key, n);
  const latencies = doc.latencies === undefined ? undefined : r.array(doc.latencies, 'latencies', n);
  const starts = doc.start_times === undefined ? undefined : r.array(doc.start_times, 'start_times', n);
  const errors = doc.errors === undefined ? undefined : r.array(doc.errors, 'errors', n);
  const notes: string[] = [];
  const rows: { start?: number; req: Omit<TimedRequest, 'start_s' | 'first_s' | 'last_s' | 'end_s'> & { ttft: number; latency: number } }[] = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const error = errors?.[i];
    if (typeof error === 'string' && error !== '') {
      failed++;
      continue;
    }
    const output_tokens = r.count((doc.output_lens as unknown[])[i], `output_lens[${i}]`);
    if (output_tokens === 0) {
      failed++;
      continue;
    }
    const input_tokens = r.count((doc.input_lens as unknown[])[i], `input_lens[${i}]`, 1);
    const ttft = r.number((doc.ttfts as unknown[])[i], `ttfts[${i}]`);
    const gaps = r.array((doc.itls as unknown[])[i], `itls[${i}]`).map((g, k) => r.number(g, `itls[${i}][${k}]`));
    const latency = latencies === undefined ? ttft + gaps.reduce((a, b) => a + b, 0) : r.number(latencies[i], `latencies[${i}]`);
    if (latency < ttft) throw r.fail(`latencies[${i}]`, `must be ≥ ttfts[${i}] (${ttft}): it runs to the last chunk`, latency);
    const start = starts === undefined ? undefined : r.number(starts[i], `start_times[${i}]`, -Infinity);
    rows.push({ start, req: { input_tokens, output_tokens, gaps_s: gaps, ttft, latency } });
  }
  if (rows.length === 0) throw r.fail('errors', `every one of the ${n} requests failed: nothing to compare`);
  if (latencies === undefined) notes.push('vllm: no latencies list (an older release): each latency is ttft + Σ itls');
  const t0 = starts === undefined ? 0 : minOf(rows.map((x) => x.start as number));
  const requests = rows.map(({ start, req }): TimedRequest => {
    const start_s = start === undefined ? 0 : start - t0;
    const { ttft, latency, ...rest } = req;
    return { ...rest, start_s, first_s: start_s + ttft, last_s: start_s + latency, end_s: start_s + latency };
  });
  const configured = vllmTraffic(doc, r);
  const recorded: RealRun['recorded'] = starts === undefined ? undefined : { kind: 'recorded', times_s: requests.map((q) => q.start_s) };
  if (starts === undefined) notes.push('vllm: no start_times (an older release): output throughput uses the file\'s duration');
  const duration = r.optionalNumber(doc.duration, 'duration');
  return {
    format: 'vllm',
    file: r.file,
    requests,
    failed,
    ...(configured.plan && { configured: configured.plan }),
    ...(recorded && { recorded }),
    ...(starts === undefined && duration !== undefined && { duration_s: duration }),
    traffic: configured.text,
    notes,
    ...(configured.plan?.kind === 'process' && configured.plan.rate_per_s !== undefined && { rate_field: 'request_rate' }),
  };
}

/** The traffic `vllm bench serve` was asked for: --request-rate, --burstiness, --max-concurrency (a ramp-up has no single plan). */
function vllmTraffic(doc: Record<string, unknown>, r: JsonReader): { plan?: ArrivalPlan; text: string } {
  const rate = doc.request_rate === 'inf' || doc.request_rate === undefined ? Infinity : r.number(doc.request_rate, 'request_rate', Number.MIN_VALUE);
  const burstiness = doc.burstiness === undefined || doc.burstiness === null ? 1 : r.number(doc.burstiness, 'burstiness', Number.MIN_VALUE);
  const cap = doc.max_concurrency === undefined || doc.max_concurrency === null ? undefined : r.count(doc.max_concurrency, 'max_concurrency', 1);
  if (typeof doc.ramp_up_strategy === 'string') return { text: `rate ramp-up (${doc.ramp_up_strategy})${cap ? `, max_concurrency ${cap}` : ''}` };
  const capText = cap === undefined ? '' : `, max_concurrency ${cap}`;
  if (rate === Infinity) {
    return cap === undefined ? { plan: { kind: 'process', process: 'burst' }, text: 'request_rate inf (all at once)' } : { plan: { kind: 'closed', concurrency: cap }, text: `request_rate inf${capText} (closed loop)` };
  }
  const process = burstiness === 1 ? 'poisson' : 'gamma';
  return {
    plan: { kind: 'process', process, rate_per_s: rate, burstiness, normalize_to_rate: true, ...(cap !== undefined && { concurrency: cap }) },
    text: `request_rate ${rate}/s, burstiness ${burstiness} (${process === 'poisson' ? 'Poisson' : 'gamma'})${capText}`,
  };
}

export interface VllmMeta {
  request_rate: number | 'inf';
  burstiness?: number;
  max_concurrency?: number | null;
  model_id?: string;
}

/**
 * Requests written as `vllm bench serve --save-result --save-detailed` writes them (the per-request
 * lists and the traffic keys; the summary figures computed as serve.py's calculate_metrics does).
 * Start times are the requests' own (a perf_counter origin is arbitrary).
 */
export function toVllmResult(requests: readonly TimedRequest[], meta: VllmMeta): Record<string, unknown> {
  const start = minOf(requests.map((q) => q.start_s));
  const end = -minOf(requests.map((q) => -q.last_s));
  const duration = end - start;
  const total_input = requests.reduce((a, q) => a + q.input_tokens, 0);
  const total_output = requests.reduce((a, q) => a + q.output_tokens, 0);
  return {
    date: '19700101-000000',
    endpoint_type: 'vllm',
    backend: 'vllm',
    label: null,
    model_id: meta.model_id ?? 'infersim',
    tokenizer_id: meta.model_id ?? 'infersim',
    num_prompts: requests.length,
    request_rate: meta.request_rate,
    burstiness: meta.burstiness ?? 1,
    max_concurrency: meta.max_concurrency ?? null,
    duration,
    completed: requests.length,
    failed: 0,
    total_input_tokens: total_input,
    total_output_tokens: total_output,
    request_throughput: requests.length / duration,
    request_goodput: null,
    output_throughput: total_output / duration,
    total_token_throughput: (total_input + total_output) / duration,
    input_lens: requests.map((q) => q.input_tokens),
    output_lens: requests.map((q) => q.output_tokens),
    ttfts: requests.map((q) => q.first_s - q.start_s),
    itls: requests.map((q) => q.gaps_s ?? []),
    latencies: requests.map((q) => q.last_s - q.start_s),
    start_times: requests.map((q) => q.start_s),
    generated_texts: requests.map(() => ''),
    errors: requests.map(() => ''),
  };
}
