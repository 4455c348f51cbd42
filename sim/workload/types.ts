import type { Request, RequestStream } from './request.js';

/**
 * A request read from a workload. Kept as a name for the workload's side, but nothing more than a
 * Request: trace prompt prefixes (Mooncake `hash_ids`) are a Request field, so the scheduler reads
 * them without a cast.
 */
export type TraceRequest = Request;

/** A parsed trace held as columns, in arrival order once `loadTrace` returns it. */
export interface TraceTable {
  /** The file the rows came from, for messages. */
  file: string;
  length: number;
  /** Undefined when the trace has no timestamps. */
  arrival_s: Float64Array | undefined;
  input_tokens: Int32Array;
  output_tokens: Int32Array;
  hash_ids: number[][] | undefined;
  /** With a model column: each row's model, as an index into `model_names` (names in order of first appearance). */
  model?: Int32Array;
  model_names?: string[];
  /** With a user column: each row's user id, numbered 0, 1, 2, … in order of first appearance in the file. */
  user?: Int32Array;
  /** With an adapter column: each row's LoRA adapter id (−1: the base model), numbered in order of first appearance of its name in `adapter_names`. */
  adapter?: Int32Array;
  adapter_names?: string[];
  /** Rows whose output count was 0 and was raised to 1 (vLLM always emits at least one token). */
  zero_output_rows: number;
  /** Rows a named format's options left out (BurstGPT: failed requests, the other log type); absent: none can be. */
  dropped_rows?: number;
}

export interface WorkloadInfo {
  source: 'trace' | 'synthetic';
  loop: 'open' | 'closed';
  /**
   * Upper bound on the requests the stream yields; exact unless `duration_s` also bounds it; undefined when only
   * time bounds it, or when a rate schedule's last `until_s` may end the stream first (num_requests still caps it).
   */
  max_requests: number | undefined;
  /** Trace rows whose output token count was 0, raised to 1. */
  zero_output_rows: number;
  /** Trace rows left out by the format's options (BurstGPT's failed requests or other log type), of the whole file. */
  dropped_rows?: number;
  /** The classes of `workload.priority`, when set; `name` defaults to `p<priority>`. */
  priority_classes?: { priority: number; weight: number; name: string }[];
  /** With `workload.max_tokens`: requests yielded so far whose output was cut to it (read it after the run). */
  max_tokens_cut_rows?: number;
  /** Every model a request may name (a trace's model column, `workload.models`); absent: requests name none. */
  models?: readonly string[];
  /** How many LoRA adapters requests may name (workload.lora's adapters; a trace's distinct adapter names); absent: none. */
  adapters?: number;
}

export interface WorkloadStream extends RequestStream {
  next(): TraceRequest | undefined;
  readonly info: WorkloadInfo;
}
