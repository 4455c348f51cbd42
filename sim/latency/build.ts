import { DEFAULT_EFFICIENCY, type LatencyEfficiency } from './efficiency.js';
import type { LatencyBand, LatencyModel } from './model.js';
import { defaultProfileFor, loadProfile, type LoadedProfile } from './profile/load.js';
import type { Profile } from './profile/schema.js';
import { ProfileTables } from './profile/tables.js';
import { RooflineLatencyModel, type RooflineConfig } from './roofline.js';

/** Everything that picks and configures a latency model for one engine (a TP group). */
export interface LatencyOptions extends Omit<RooflineConfig, 'efficiency' | 'tables' | 'uncertainty' | 'profile_ref' | 'cpu_measured'> {
  /**
   * Profile name (in profiles/, without .json) or path to a profile file, or one already loaded
   * (a run's setup loads it once); undefined: the best shipped profile for the GPU; null: none
   * (the built-in roofline defaults).
   */
  profile?: string | LoadedProfile | null;
  /** The input fields the profile and the GPU came from, for error messages (default hardware.profile, hardware.gpu). */
  profile_field?: string;
  gpu_field?: string;
  /** Efficiency knobs that override the profile's (calibration studies, tests). */
  efficiency?: Partial<LatencyEfficiency>;
  /** Multiplies every operator time (default 1): re-runs at the edges of the uncertainty band use 1 + low and 1 + high. */
  time_scale?: number;
}

export function resolveProfile(profile: string | LoadedProfile | null | undefined, gpu: string, field?: string, gpuField?: string): LoadedProfile | undefined {
  if (profile === null) return undefined;
  if (typeof profile === 'object') return profile;
  return profile === undefined ? defaultProfileFor(gpu) : loadProfile(profile, gpu, field, gpuField);
}

/** The iteration-level band a profile states, with its provenance. */
export function profileBand(loaded: LoadedProfile | undefined): LatencyBand | undefined {
  const band = loaded?.profile.uncertainty?.iteration;
  if (!band) return undefined;
  return { low: band.low, high: band.high, basis: `${loaded!.ref}: ${band.basis ?? 'validation residuals'}` };
}

/** The latency model for these options: one entry point for `run`, `predict` and probe validation. */
export function buildLatencyModel(opts: LatencyOptions): LatencyModel {
  const loaded = resolveProfile(opts.profile, opts.gpu.name, opts.profile_field, opts.gpu_field);
  const profile = loaded?.profile;
  const efficiency = profileEfficiency(profile, opts.efficiency);
  const tables = profile?.tables ? new ProfileTables(profile) : undefined;
  const cpu_measured = profile?.source === 'measured' && profile.scalars?.cpu_step_s !== undefined && opts.efficiency?.cpu_step_s === undefined;
  return new RooflineLatencyModel({ ...opts, efficiency, tables, cpu_measured, uncertainty: profileBand(loaded), profile_ref: loaded?.ref });
}

/**
 * The coefficients a profile runs with: the defaults, then its own (base merged in), then its
 * measured CPU scalars, then explicit overrides.
 */
export function profileEfficiency(profile: Profile | undefined, overrides?: Partial<LatencyEfficiency>): LatencyEfficiency {
  const scalars = profile?.scalars;
  return {
    ...DEFAULT_EFFICIENCY,
    ...(profile?.efficiency as Partial<LatencyEfficiency> | undefined),
    ...(scalars?.cpu_step_s !== undefined ? { cpu_step_s: scalars.cpu_step_s } : {}),
    ...(scalars?.cpu_per_seq_s !== undefined ? { cpu_per_seq_s: scalars.cpu_per_seq_s } : {}),
    ...overrides,
  };
}
