import type { GpuSpec } from '../hardware/gpu.js';
import type { ModelArchitecture } from '../model/architecture.js';
import type { KvDtype, WeightDtype } from '../scenario/types.js';
import type { LatencyEfficiency } from './efficiency.js';
import type { LatencyBand } from './model.js';
import type { ProfileTables } from './profile/tables.js';

/* The roofline model's configuration and its one-line description, apart from the model itself (roofline.ts). */

export interface RooflineConfig {
  arch: ModelArchitecture;
  gpu: GpuSpec;
  tensor_parallel: number;
  weights: WeightDtype;
  kv_cache: KvDtype;
  block_size: number;
  cuda_graphs: boolean;
  /** Which batches replay a graph: `v1` (default) any up to the largest captured size; `v0` pure-decode ones only, at V0's sizes. */
  graphs?: 'v1' | 'v0';
  max_num_seqs: number;
  efficiency: LatencyEfficiency;
  /** Every operator time is multiplied by this (1 by default): runs at an uncertainty band's edges use it. */
  time_scale?: number;
  /** Measured operator tables; operators they cover are looked up instead of modelled. */
  tables?: ProfileTables;
  /** The CPU terms (cpu_step_s, cpu_per_seq_s in the efficiency) were measured, not modelled. */
  cpu_measured?: boolean;
  /** The profile's name or path, for the description. */
  profile_ref?: string;
  /** The model's error band, from the profile (carried through for the engine's summary). */
  uncertainty?: LatencyBand;
}

/** The model's description line: profile, GPU, TP, dtypes, MoE, block size, graphs. */
export function describe(cfg: RooflineConfig, weightMode: string, experts: number, topK: number): string {
  const tables = cfg.tables;
  const covered = tables ? ` + ${tables.measured ? 'measured' : 'tabulated'} tables where they cover a shape` : '';
  return (
    `${cfg.profile_ref ? `profile ${cfg.profile_ref}: ` : ''}roofline${covered}; ${cfg.gpu.name}, TP${cfg.tensor_parallel}, weights ${weightMode}, kv ${cfg.kv_cache}, ` +
    (experts > 1 ? `MoE top-${topK} of ${experts}, ` : '') +
    `block ${cfg.block_size}, CUDA graphs ${cfg.cuda_graphs ? 'on' : 'off'}`
  );
}
