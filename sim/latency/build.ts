import { DEFAULT_EFFICIENCY, type LatencyEfficiency } from './efficiency.js';
import type { LatencyModel } from './model.js';
import { defaultProfileFor, loadProfile } from './profile/load.js';
import { RooflineLatencyModel, type RooflineConfig } from './roofline.js';

/** Everything that picks and configures a latency model for one engine (a TP group). */
export interface LatencyOptions extends Omit<RooflineConfig, 'efficiency'> {
  /**
   * Profile name (in profiles/, without .json) or path to a profile file; undefined: the best
   * shipped profile for the GPU; null: none (the built-in roofline defaults).
   */
  profile?: string | null;
  /** Efficiency knobs that override the profile's (calibration studies, tests). */
  efficiency?: Partial<LatencyEfficiency>;
  /** Multiplies every operator time (default 1): re-runs at the edges of the uncertainty band use 1 + low and 1 + high. */
  time_scale?: number;
}

/** The latency model for these options: one entry point for `run`, `predict` and probe validation. */
export function buildLatencyModel(opts: LatencyOptions): LatencyModel {
  const gpu = opts.gpu.name;
  const loaded = opts.profile === null ? undefined : opts.profile === undefined ? defaultProfileFor(gpu) : loadProfile(opts.profile, gpu);
  const efficiency = { ...DEFAULT_EFFICIENCY, ...(loaded?.profile.efficiency as Partial<LatencyEfficiency> | undefined), ...opts.efficiency };
  return new RooflineLatencyModel({ ...opts, efficiency });
}
