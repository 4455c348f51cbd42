/**
 * genai-perf's profile export (`artifacts/<run>/profile_export.json`, written by perf_analyzer).
 *
 * Format source: triton-inference-server/client (later triton-inference-server/perf_analyzer),
 * genai-perf/genai_perf/profile_data_parser/llm_profile_data_parser.py and its tests
 * (tests/test_llm_profile_data_parser.py): `experiments[]`, each `experiment: { mode: concurrency |
 * request_rate, value }` and `requests[]` with `timestamp` (ns, when sent), `request_inputs`
 * (`payload`: the OpenAI request body as a JSON string; Triton: `text_input`), `response_timestamps[]`
 * (ns, one per response) and `response_outputs[]` (`response`: the SSE text `data: {...}`; Triton:
 * `text_output`); top-level `service_kind` (openai | triton) and `endpoint`.
 *
 * genai-perf drops responses without content (`[DONE]`, a role-only first chunk) before timing, and
 * counts tokens by running its tokenizer over the texts. infersim has no tokenizer: it takes the
 * server's own counts (`usage.prompt_tokens`, `usage.completion_tokens` in a chunk, sent with
 * stream_options.include_usage) and otherwise estimates them (one token per content chunk; prompt
 * characters ÷ 4), saying so in the notes.
 */
import type { JsonReader } from './json.js';
import { minOf } from './json.js';
import type { ArrivalPlan, RealRun, TimedRequest } from './types.js';

export function looksLikeGenaiPerf(doc: Record<string, unknown>): boolean {
  const e = Array.isArray(doc.experiments) ? (doc.experiments[0] as Record<string, unknown> | undefined) : undefined;
  return e !== undefined && e !== null && typeof e === 'object' && Array.isArray(e.requests);
}

interface Parsed {
  content: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** One response's SSE text → the content it carries and any usage (several events may arrive as one response). */
function parseResponse(text: string): Parsed[] {
  return text
    .split('\n\n')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((e) => (e.startsWith('data:') ? e.slice(5).trim() : e))
    .filter((e) => e !== '[DONE]')
    .map((e) => {
      const data = JSON.parse(e) as { choices?: { delta?: { content?: string }; text?: string; message?: { content?: string } }[]; usage?: Parsed['usage'] };
      const c = data.choices?.[0];
      return { content: c?.delta?.content ?? c?.text ?? c?.message?.content ?? '', ...(data.usage && { usage: data.usage }) };
    });
}

interface Estimates {
  input: number;
  output: number;
}

function genaiRequest(r: JsonReader, value: unknown, path: string, triton: boolean, est: Estimates): TimedRequest | undefined {
  const q = r.object(value, path);
  const sent_ns = r.number(q.timestamp, `${path}.timestamp`);
  const stamps = r.array(q.response_timestamps, `${path}.response_timestamps`).map((t, k) => r.number(t, `${path}.response_timestamps[${k}]`));
  const outputs = r.array(q.response_outputs, `${path}.response_outputs`, stamps.length).map((o, k) => r.object(o, `${path}.response_outputs[${k}]`));
  const times: number[] = [];
  let chunks = 0;
  let usage: Parsed['usage'];
  outputs.forEach((o, k) => {
    let parts: Parsed[];
    if (triton) parts = [{ content: r.string(o.text_output, `${path}.response_outputs[${k}].text_output`) }];
    else {
      const text = r.string(o.response, `${path}.response_outputs[${k}].response`);
      try {
        parts = parseResponse(text);
      } catch {
        throw r.fail(`${path}.response_outputs[${k}].response`, 'must be SSE events whose data is JSON (or [DONE])', text);
      }
    }
    for (const p of parts) if (p.usage) usage = p.usage;
    const carrying = parts.filter((p) => p.content !== '').length;
    if (carrying > 0) {
      times.push(stamps[k]);
      chunks += carrying;
    }
  });
  if (times.length === 0) return undefined; // genai-perf skips a request with no content
  const inputs = r.object(q.request_inputs, `${path}.request_inputs`);
  const input_tokens = usage?.prompt_tokens ?? (est.input++, estimatePrompt(r, inputs, `${path}.request_inputs`, triton));
  const output_tokens = usage?.completion_tokens ?? (est.output++, chunks);
  // Still nanoseconds here: rebased before they become seconds, so epoch-sized stamps keep their precision.
  return { input_tokens, output_tokens, start_s: sent_ns, first_s: times[0], last_s: times[times.length - 1], end_s: times[times.length - 1] };
}

/** The prompt's characters ÷ 4 (at least 1): the usual rule of thumb for English BPE text. */
function estimatePrompt(r: JsonReader, inputs: Record<string, unknown>, path: string, triton: boolean): number {
  let text: string;
  if (triton) text = String(inputs.text_input ?? '');
  else {
    const raw = r.string(inputs.payload, `${path}.payload`);
    let payload: { messages?: { content?: unknown }[]; prompt?: unknown };
    try {
      payload = JSON.parse(raw) as typeof payload;
    } catch {
      throw r.fail(`${path}.payload`, 'must be the request body as a JSON string', raw);
    }
    const content = payload.messages?.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''))).join('') ?? payload.prompt;
    text = typeof content === 'string' ? content : JSON.stringify(content ?? '');
  }
  return Math.max(1, Math.round(text.length / 4));
}

export function readGenaiPerf(doc: Record<string, unknown>, r: JsonReader, index = 0): RealRun {
  const experiments = r.array(doc.experiments, 'experiments');
  if (index >= experiments.length) throw r.fail('experiments', `has ${experiments.length} experiment(s); --benchmark ${index} is past the last (counted from 0)`);
  const path = `experiments[${index}]`;
  const e = r.object(experiments[index], path);
  const triton = doc.service_kind === 'triton';
  const est: Estimates = { input: 0, output: 0 };
  const list = r.array(e.requests, `${path}.requests`);
  const raw = list.map((x, i) => genaiRequest(r, x, `${path}.requests[${i}]`, triton, est));
  const kept = raw.filter((q): q is TimedRequest => q !== undefined).sort((a, b) => a.start_s - b.start_s);
  if (kept.length === 0) throw r.fail(`${path}.requests`, 'holds no request with a response carrying content: nothing to compare');
  const t0 = minOf(kept.map((q) => q.start_s));
  const s = (ns: number): number => (ns - t0) / 1e9;
  const requests = kept.map((q) => ({ ...q, start_s: s(q.start_s), first_s: s(q.first_s), last_s: s(q.last_s), end_s: s(q.end_s) }));
  const traffic = genaiTraffic(r.object(e.experiment, `${path}.experiment`), `${path}.experiment`, r);
  const rateField = traffic.plan?.kind === 'process' ? `${path}.experiment.value` : undefined;
  const notes: string[] = [];
  if (est.input > 0) notes.push(`genai-perf: ${est.input} prompt length(s) estimated as characters ÷ 4 (no usage.prompt_tokens in the responses)`);
  if (est.output > 0) notes.push(`genai-perf: ${est.output} output length(s) counted as content chunks (no usage.completion_tokens in the responses)`);
  if (experiments.length > 1) notes.push(`genai-perf: experiment ${index} of ${experiments.length} (${traffic.text}); choose another with --benchmark N`);
  return {
    format: 'genai-perf',
    file: r.file,
    requests,
    failed: list.length - kept.length,
    ...(traffic.plan && { configured: traffic.plan }),
    recorded: { kind: 'recorded', times_s: requests.map((q) => q.start_s) },
    traffic: traffic.text,
    notes,
    ...(rateField && { rate_field: rateField }),
  };
}

function genaiTraffic(x: Record<string, unknown>, at: string, r: JsonReader): { plan?: ArrivalPlan; text: string } {
  const mode = r.string(x.mode, `${at}.mode`);
  const value = r.number(x.value, `${at}.value`, Number.MIN_VALUE);
  if (mode === 'concurrency') return { plan: { kind: 'closed', concurrency: Math.round(value) }, text: `concurrency ${value} (closed loop)` };
  if (mode === 'request_rate') return { plan: { kind: 'process', process: 'constant', rate_per_s: value }, text: `request_rate ${value}/s` };
  return { text: `mode ${mode} (replayed at the recorded send times)` };
}
