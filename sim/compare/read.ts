import { InfersimError } from '../errors.js';
import { basename } from 'node:path';
import { readGenaiPerf, looksLikeGenaiPerf } from './genaiPerf.js';
import { readGuidellm, looksLikeGuidellm } from './guidellm.js';
import { JsonReader, readJsonFile } from './json.js';
import type { RealFormat, RealRun } from './types.js';
import { looksLikeVllm, readVllm } from './vllm.js';

export const FORMATS: readonly RealFormat[] = ['vllm', 'guidellm', 'genai-perf'];

/** Which tool wrote this JSON, from the keys only that tool writes. */
export function detectFormat(doc: Record<string, unknown>): RealFormat | undefined {
  if (looksLikeVllm(doc)) return 'vllm';
  if (looksLikeGuidellm(doc)) return 'guidellm';
  if (looksLikeGenaiPerf(doc)) return 'genai-perf';
  return undefined;
}

/** A real benchmark's output, read as its tool wrote it (format given, or detected). `index` picks a GuideLLM benchmark or genai-perf experiment. */
export function readReal(file: string, format?: RealFormat, index = 0): RealRun {
  const r = new JsonReader(file);
  const doc = r.object(readJsonFile(file), '(top level)');
  const f = format ?? detectFormat(doc);
  if (f === undefined) {
    throw new InfersimError(
      `${basename(file)}: (top level): is none of the formats compare reads: vllm (input_lens, ttfts, itls: vllm bench serve --save-result --save-detailed), ` +
        'guidellm (benchmarks[].requests.successful) or genai-perf (experiments[].requests: profile_export.json); give --format if the keys are there',
    );
  }
  if (f === 'vllm') return readVllm(doc, r);
  if (f === 'guidellm') return readGuidellm(doc, r, index);
  return readGenaiPerf(doc, r, index);
}
