import { DEFAULT_EFFICIENCY } from './efficiency.js';
import type { LatencyModel } from './model.js';
import { RooflineLatencyModel, type RooflineConfig } from './roofline.js';

/** Everything that picks and configures a latency model for one engine (a TP group). */
export interface LatencyOptions extends Omit<RooflineConfig, 'efficiency'> {
  /** Profile name (in profiles/, without .json) or path to a profile file; absent: the best shipped profile for the GPU. */
  profile?: string;
  /** Multiplies every operator time (default 1): re-runs at the edges of the uncertainty band use 1 + low and 1 + high. */
  time_scale?: number;
}

/** The latency model for these options: one entry point for `run`, `predict` and probe validation. */
export function buildLatencyModel(opts: LatencyOptions): LatencyModel {
  return new RooflineLatencyModel({ ...opts, efficiency: DEFAULT_EFFICIENCY });
}
