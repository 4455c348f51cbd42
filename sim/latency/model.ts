import type { BatchShape } from './batch.js';

export interface OperatorTime {
  name: string;
  time_s: number;
  /** `measured` when a profile table supplied the time, `modelled` when a roofline did. */
  source: 'measured' | 'modelled';
}

/**
 * How far off an iteration time may be, as relative errors: the truth lies within
 * [time × (1 + low), time × (1 + high)] for most iterations (low ≤ 0 ≤ high). It comes from the
 * profile's validation residuals; `basis` says which.
 */
export interface LatencyBand {
  low: number;
  high: number;
  basis: string;
}

/** What the engine asks of a latency model: how long one iteration of this batch takes. */
export interface LatencyModel {
  iterationTime_s(batch: BatchShape): number;
  breakdown(batch: BatchShape): OperatorTime[];
  /** One line naming the model and its settings, for summaries. */
  readonly description: string;
  /** The error band of this model's iteration times, where its profile states one. */
  readonly uncertainty?: LatencyBand;
  /** The coefficients the model runs with (its profile's, merged over the defaults), for summaries. */
  readonly parameters?: unknown;
}
