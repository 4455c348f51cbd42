import { fieldError, InfersimError } from '../errors.js';
import type { LengthDist } from '../scenario/types.js';
import type { PlanSlo } from './deploymentSchema.js';

/**
 * `infersim plan --template NAME`: a workload shape and an SLO from published figures, so that a
 * plan needs only the model, the rate and the GPUs to search. Lengths are lognormal (`mean` the
 * mean token count, `sigma` the std of its log: sim/workload/lengths.ts) fitted to the source's
 * mean and log-spread, bounded so the engine's max_model_len is set from them (deployment.ts).
 * SLO targets are per request with attainment 0.99: MLPerf states its bounds as 99th percentiles
 * of TTFT and TPOT, and 99 % of requests meeting both is that, a little stricter (one joint test).
 */
export interface PlanTemplate {
  describe: string;
  workload: { input_tokens: LengthDist; output_tokens: LengthDist };
  slo: PlanSlo;
}

// MLPerf Inference (MLCommons) latency constraints, 99th percentiles:
// - Llama-2-70B Server (v4.0 on): TTFT ≤ 2 s, TPOT ≤ 200 ms;
// - Llama-2-70B Interactive (v5.0): TTFT ≤ 450 ms, TPOT ≤ 40 ms, "for chatbot-like" use, about
//   25 tokens/s, faster than reading;
// - Llama-3.1-405B Server (v5.0, long-context tasks up to 128k tokens): TTFT ≤ 6 s, TPOT ≤ 175 ms.
const MLPERF_INTERACTIVE: PlanSlo = { ttft_ms: 450, tpot_ms: 40, attainment: 0.99 };
const MLPERF_SERVER: PlanSlo = { ttft_ms: 2000, tpot_ms: 200, attainment: 0.99 };
const MLPERF_LONG_CONTEXT: PlanSlo = { ttft_ms: 6000, tpot_ms: 175, attainment: 0.99 };

// Azure LLM inference trace 2023, conversation (AzureLLMInferenceTrace_conv.csv, 19,366 requests;
// Patel et al., "Splitwise", ISCA 2024, which reports medians of 1020 prompt / 129 output tokens):
// prompt mean 1155, log-std 0.99, max 14,050; output mean 211, log-std 0.86, max 1000 (measured
// on the trace in ../shared/data/traces).
const CHAT_ANSWER: LengthDist = { dist: 'lognormal', mean: 211, sigma: 0.86, min: 1, max: 1000 };

export const TEMPLATES = {
  chatbot: {
    describe: 'a chat assistant: Azure conversation trace lengths, MLPerf Interactive SLO (TTFT 450 ms, TPOT 40 ms)',
    workload: { input_tokens: { dist: 'lognormal', mean: 1155, sigma: 0.99, min: 1, max: 14050 }, output_tokens: CHAT_ANSWER },
    slo: MLPERF_INTERACTIVE,
  },
  // A prompt of retrieved chunks plus the question: LlamaIndex's defaults retrieve the top 2 chunks
  // (DEFAULT_SIMILARITY_TOP_K = 2) of 1024 tokens (DEFAULT_CHUNK_SIZE), llama_index/core/constants.py;
  // with instructions and the question about 2,300 tokens. Answers are chat answers (Azure
  // conversation outputs); TTFT is the MLPerf Server bound, as the prompt is twice a chat turn's.
  rag: {
    describe: 'retrieval-augmented answers: 2 × 1024-token chunks + question (LlamaIndex defaults), chat-length answers, MLPerf Server SLO (TTFT 2 s, TPOT 200 ms)',
    workload: { input_tokens: { dist: 'normal', mean: 2300, std: 150, min: 2048, max: 3072 }, output_tokens: CHAT_ANSWER },
    slo: MLPERF_SERVER,
  },
  // Azure LLM inference trace 2023, code (AzureLLMInferenceTrace_code.csv, 8,819 requests; Splitwise
  // reports medians of 1500 prompt / 13 output tokens): prompt mean 2048, log-std 1.36, max 7437;
  // output mean 28, log-std 0.85, max 1899. Completions appear as the user types: the Interactive bound.
  'code-completion': {
    describe: 'code completion in an editor: Azure code trace lengths, MLPerf Interactive SLO (TTFT 450 ms, TPOT 40 ms)',
    workload: {
      input_tokens: { dist: 'lognormal', mean: 2048, sigma: 1.36, min: 1, max: 7437 },
      output_tokens: { dist: 'lognormal', mean: 28, sigma: 0.85, min: 1, max: 1899 },
    },
    slo: MLPERF_INTERACTIVE,
  },
  // arXiv summarization (arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv, 28,257 papers;
  // Sarathi-Serve, Agrawal et al. OSDI 2024, and Vidur): prompt mean 2588, log-std 0.75, max 4054;
  // summary mean 291, log-std 0.8, max 4056. MLPerf's Offline scenario bounds no latency, but a
  // plan at a rate needs a bound that a growing queue breaks: the loosest MLPerf Server one.
  'batch-summarize': {
    describe: 'summarizing documents in bulk: arXiv summarization lengths, the loosest MLPerf Server SLO (TTFT 6 s, TPOT 175 ms) as a keeps-up bound',
    workload: {
      input_tokens: { dist: 'lognormal', mean: 2588, sigma: 0.75, min: 1, max: 4054 },
      output_tokens: { dist: 'lognormal', mean: 291, sigma: 0.8, min: 1, max: 4056 },
    },
    slo: MLPERF_LONG_CONTEXT,
  },
  // Agent steps carry the conversation, tool results included, in every prompt: long contexts and
  // short-to-medium outputs. Mooncake's conversation trace (Kimi; Qin et al., FAST 2025;
  // conversation_trace.jsonl, 12,031 requests) stands in for its tool&agent trace, which
  // ../shared does not hold: prompt mean 12,035, log-std 1.2, max 126,195 (bounded at 126,000 so
  // that with the output it fits a 128k context); output mean 343, log-std 1.36, max 2000.
  // The SLO is MLPerf's long-context Server bound.
  agent: {
    describe: 'an agent loop: long accumulated contexts (Mooncake conversation trace), MLPerf long-context Server SLO (TTFT 6 s, TPOT 175 ms)',
    workload: {
      input_tokens: { dist: 'lognormal', mean: 12035, sigma: 1.2, min: 1, max: 126000 },
      output_tokens: { dist: 'lognormal', mean: 343, sigma: 1.36, min: 1, max: 2000 },
    },
    slo: MLPERF_LONG_CONTEXT,
  },
} as const satisfies Record<string, PlanTemplate>;

export type TemplateName = keyof typeof TEMPLATES;
export const TEMPLATE_NAMES = Object.keys(TEMPLATES) as TemplateName[];

/** What a template leaves to the user: without them there is nothing to size. */
export const TEMPLATE_NEEDS = [
  ['model', '--model'],
  ['workload.rate_per_s', '--rate'],
  ['search.gpus', '--gpus'],
] as const;

type Raw = Record<string, unknown>;
const isMap = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The template's plan under `data` (a plan file's raw keys, possibly partial): each top-level key
 * of `data` wins, and inside workload, slo, search and cost each of its keys wins, so a file that
 * sets only `slo: { ttft_ms: 800 }` keeps the template's TPOT target.
 */
export function withTemplate(name: string, data: Raw): Raw {
  if (!(name in TEMPLATES)) throw fieldError('--template', `must be one of ${TEMPLATE_NAMES.join(', ')}`, name);
  const t = TEMPLATES[name as TemplateName];
  const base: Raw = { workload: { ...t.workload }, slo: { ...t.slo } };
  const merged: Raw = { ...base };
  for (const [k, v] of Object.entries(data)) merged[k] = isMap(v) && isMap(base[k]) ? { ...(base[k] as Raw), ...v } : v;
  const missing = TEMPLATE_NEEDS.filter(([path]) => valueAt(merged, path) === undefined).map(([, flag]) => flag);
  if (missing.length > 0) {
    const keys = TEMPLATE_NEEDS.map(([p]) => p).join(', ');
    throw new InfersimError(`--template ${name} fills the workload shape and the SLO; give ${missing.join(', ')} (or a plan file with ${keys})`);
  }
  return merged;
}

const valueAt = (data: Raw, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (isMap(v) ? v[k] : undefined), data);
