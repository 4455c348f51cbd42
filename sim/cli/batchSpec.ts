import { fieldError } from '../errors.js';
import { addDecode, addPrefillChunk, emptyBatch, type BatchShape } from '../latency/batch.js';

/** `2048,512` → [2048, 512]: prompt lengths, one prefill sequence each (whole prompts, nothing cached). */
export function parsePrefill(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((part) => {
    const n = Number(part.trim());
    if (part.trim() === '' || !Number.isSafeInteger(n) || n < 1) {
      throw fieldError('--prefill', 'must be prompt lengths as positive integers separated by commas (e.g. 2048,512)', raw);
    }
    return n;
  });
}

/** `1024x32,512` → 32 sequences at context 1024 and one at 512 (context including the new token). */
export function parseDecode(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [];
  const contexts: number[] = [];
  for (const part of raw.split(',')) {
    const m = /^\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*$/.exec(part);
    const context = m === null ? NaN : Number(m[1]);
    const count = m === null ? NaN : m[2] === undefined ? 1 : Number(m[2]);
    if (!(Number.isSafeInteger(context) && context >= 1 && Number.isSafeInteger(count) && count >= 1)) {
      throw fieldError('--decode', 'must be contexts, each optionally ×count, separated by commas (e.g. 1024x32,512)', raw);
    }
    for (let i = 0; i < count; i++) contexts.push(context);
  }
  return contexts;
}

/** The batch shape of whole prompts plus decoding sequences. */
export function batchOf(prompts: readonly number[], decodeContexts: readonly number[]): BatchShape {
  const batch = emptyBatch();
  for (const p of prompts) addPrefillChunk(batch, p, 0, true);
  for (const c of decodeContexts) addDecode(batch, c);
  return batch;
}
