/**
 * What `infersim compare` reads from a real benchmark and what it simulates: one shape for every
 * tool, so each tool's metric definitions (metrics.ts) apply to both sides alike.
 */

export type RealFormat = 'vllm' | 'guidellm' | 'genai-perf';

/**
 * GuideLLM's two request layouts, named by their pydantic model; their TPOT definitions differ
 * (metrics.ts): `GenerativeRequestStats` has `info.timings.{request_start, first_token_iteration, …}`,
 * the older `GenerativeTextResponseStats` has `start_time`, `first_token_time`, `last_token_time`, `end_time`.
 */
export type GuidellmLayout = 'GenerativeRequestStats' | 'GenerativeTextResponseStats';

/**
 * One request as a client saw it. Times in seconds on one clock per run (the real file's, rebased so
 * the earliest start is 0; the simulation's own for simulated requests).
 */
export interface TimedRequest {
  input_tokens: number;
  output_tokens: number;
  /** When the client sent it. */
  start_s: number;
  /** The first chunk carrying output. */
  first_s: number;
  /** The last chunk carrying output. */
  last_s: number;
  /** When the response ended (the stream closed); ≥ last_s. */
  end_s: number;
  /** Gaps between consecutive output chunks, where the tool recorded them (vLLM's `itls`). */
  gaps_s?: number[];
}

/** How the real requests were sent, as the tool recorded it. */
export type ArrivalPlan =
  /** Open loop at the recorded send times (rebased to start at 0). */
  | { kind: 'recorded'; times_s: number[] }
  /**
   * An arrival process at a mean rate: `gamma` with shape `burstiness` (vLLM: 1 = Poisson),
   * `constant`, or `burst` (every request at once); `concurrency` caps requests in flight (a client
   * semaphore) when set.
   */
  | { kind: 'process'; process: 'poisson' | 'gamma' | 'constant' | 'burst'; rate_per_s?: number; burstiness?: number; concurrency?: number; normalize_to_rate?: boolean }
  /** Closed loop: `concurrency` clients, each sending its next request when its previous one ends. */
  | { kind: 'closed'; concurrency: number };

export interface RealRun {
  format: RealFormat;
  file: string;
  /** The successful requests, in the order the tool sent them. */
  requests: TimedRequest[];
  /** Requests the tool recorded as failed (left out of the workload and of the figures). */
  failed: number;
  /** The tool's configured traffic (rate, concurrency…), when it records one. */
  configured?: ArrivalPlan;
  /** The recorded send times, when the file has them. */
  recorded?: ArrivalPlan & { kind: 'recorded' };
  /** The tool's own wall time of the run, used for throughput where requests carry no send times. */
  duration_s?: number;
  /** Human-readable description of the traffic the tool was asked for. */
  traffic: string;
  /** Approximations made while reading (a token count estimated, a field missing). */
  notes: string[];
  /** GuideLLM: the request layout read, which decides its metric definitions. */
  layout?: GuidellmLayout;
  /** The JSON path of the configured rate (`request_rate`…), named by errors about replaying it. */
  rate_field?: string;
}
