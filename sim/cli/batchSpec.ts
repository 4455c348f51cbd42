import { fieldError } from '../errors.js';
import { addDecode, addPrefillChunk, emptyBatch, type BatchShape } from '../latency/batch.js';

/**
 * Largest batch a spec may describe: far past any engine's max_num_seqs, and small enough that
 * the per-sequence arrays stay a few megabytes (`1x10000000000` once made V8 abort).
 */
export const MAX_BATCH_SEQS = 100_000;
/** Per sequence: token counts are int32 everywhere else in the simulator. */
export const MAX_SEQ_TOKENS = 2 ** 31 - 1;

const PREFILL_FORMAT = 'must be prompt lengths as positive integers separated by commas (e.g. 2048,512)';
const DECODE_FORMAT = 'must be contexts, each optionally ×count, separated by commas (e.g. 1024x32,512)';

/** `2048,512` → [2048, 512]: prompt lengths, one prefill sequence each (whole prompts, nothing cached). */
export function parsePrefill(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [];
  const parts = raw.split(',');
  if (parts.length > MAX_BATCH_SEQS) throw fieldError('--prefill', `lists ${parts.length} prompts; at most ${MAX_BATCH_SEQS} sequences fit a batch`, raw);
  return parts.map((part) => tokenCount('--prefill', part, PREFILL_FORMAT, raw));
}

/** `1024x32,512` → 32 sequences at context 1024 and one at 512 (context including the new token). */
export function parseDecode(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [];
  const groups = raw.split(',').map((part) => {
    const m = /^\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*$/.exec(part);
    if (m === null) throw fieldError('--decode', DECODE_FORMAT, raw);
    const count = m[2] === undefined ? 1 : Number(m[2]);
    if (count < 1) throw fieldError('--decode', DECODE_FORMAT, raw);
    return { context: tokenCount('--decode', m[1], DECODE_FORMAT, raw), count };
  });
  const total = groups.reduce((sum, g) => sum + g.count, 0);
  if (total > MAX_BATCH_SEQS) {
    throw fieldError('--decode', `describes ${total.toLocaleString('en-US')} sequences; at most ${MAX_BATCH_SEQS.toLocaleString('en-US')} fit a batch`, raw);
  }
  return groups.flatMap(({ context, count }) => new Array<number>(count).fill(context));
}

/** Plain decimal digits only: Number() would also take "0x10" and "1e3". */
function tokenCount(flag: string, part: string, format: string, raw: string): number {
  const text = part.trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1)) throw fieldError(flag, format, raw);
  if (n > MAX_SEQ_TOKENS) throw fieldError(flag, `a sequence of ${text} tokens is more than ${MAX_SEQ_TOKENS}`, raw);
  return n;
}

/** The batch shape of whole prompts plus decoding sequences. */
export function batchOf(prompts: readonly number[], decodeContexts: readonly number[]): BatchShape {
  const batch = emptyBatch();
  for (const p of prompts) addPrefillChunk(batch, p, 0, true);
  for (const c of decodeContexts) addDecode(batch, c);
  return batch;
}
