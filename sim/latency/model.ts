import type { BatchShape } from './batch.js';

export interface OperatorTime {
  name: string;
  time_s: number;
  /** `measured` when a profile table supplied the time, `modelled` when a roofline did. */
  source: 'measured' | 'modelled';
}

/** What the engine asks of a latency model: how long one iteration of this batch takes. */
export interface LatencyModel {
  iterationTime_s(batch: BatchShape): number;
  breakdown(batch: BatchShape): OperatorTime[];
  /** One line naming the model and its settings, for summaries. */
  readonly description: string;
}
