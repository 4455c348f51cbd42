import type { GemmExecution } from './dtypeRates.js';
import type { ProfileTables, TimedLookup } from './profile/tables.js';
import { twinDtype } from './rooflineTerms.js';

export type PrefillLookup = (q: number, context: number, pairs: number) => TimedLookup;
export type DecodeLookup = (seqs: number, context: number) => TimedLookup;

/** What the attention lookups need of one model on one parallel layout (the roofline model's own figures). */
export interface AttentionShape {
  heads: number;
  kvHeads: number;
  headDim: number;
  blockSize: number;
  /** Bytes per KV element of the run's cache (2 for a 16-bit one). */
  kvBytes: number;
  kvBytesPerTokenPerLayer: number;
  decodeAttentionBandwidth: number;
  attentionKernelFloor_s: number;
  /** Modelled prefill attention of one layer for `pairs` query-key pairs over `contextTokens` KV tokens. */
  prefillRoofline(pairs: number, contextTokens: number): number;
}

/** Attention lookups in the profile's tables of `dtype` (or its bf16/fp16 twin); none without a table dtype. */
export function attentionLookups(tables: ProfileTables, dtype: GemmExecution['table_dtype'], a: AttentionShape): { prefill?: PrefillLookup; decode?: DecodeLookup } {
  if (!dtype) return {};
  const prefillRoofline = (q: number, context: number): number => a.prefillRoofline(q * (context - q + (q + 1) / 2), context);
  // Tables are measured with a 16-bit cache; the roofline here reads that cache too.
  const kv16 = a.kvBytesPerTokenPerLayer * (2 / a.kvBytes);
  const decodeRoofline = (seqs: number, context: number): number => (seqs * context * kv16) / a.decodeAttentionBandwidth + a.attentionKernelFloor_s;
  const { heads, kvHeads, headDim: d } = a;
  const prefill =
    tables.prefillAttention(dtype, heads, kvHeads, d, prefillRoofline) ?? tables.prefillAttention(twinDtype(dtype)!, heads, kvHeads, d, prefillRoofline);
  const decode =
    tables.decodeAttention(dtype, heads, kvHeads, d, a.blockSize, decodeRoofline) ?? tables.decodeAttention(twinDtype(dtype)!, heads, kvHeads, d, a.blockSize, decodeRoofline);
  // An fp8 cache reads half the bytes of the 16-bit cache the table was measured with.
  const kvScale = a.kvBytes / 2;
  if (!decode || kvScale === 1) return { prefill, decode };
  return {
    prefill,
    decode: (seqs, context) => {
      const r = decode(seqs, context);
      return { time_s: r.time_s * kvScale, measured: r.measured };
    },
  };
}
