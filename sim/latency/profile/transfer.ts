import { fieldError, InfersimError } from '../../errors.js';
import { getGpu } from '../../hardware/catalog.js';
import type { GpuSpec } from '../../hardware/gpu.js';
import type { LatencyEfficiency } from '../efficiency.js';
import { loadProfile } from './load.js';
import { PROFILE_FORMAT, UNCERTAINTY_KEYS, type Profile, type UncertaintyBand, type UncertaintyKey } from './schema.js';

/*
 * Profiles for GPUs without a fit of their own, carried over from a fitted sibling of the same
 * silicon: same die, SM count, clocks and NVLink generation, different memory (HBM3e vs HBM3,
 * 80 vs 40 GB). The coefficients of a profile are fractions of datasheet peaks and fixed costs, so
 * the transfer keeps them as they are and lets the target's datasheet figures do the rest:
 *
 * - compute-bound terms (gemm_compute, attention_prefill_compute, kernel floors): unchanged; the
 *   tensor peak is the same, so these times are the sibling's;
 * - memory-bound terms (gemm_memory, elementwise_memory, decode attention): the same fraction of
 *   the target's datasheet HBM bandwidth, so these times scale with the bandwidth ratio;
 * - all-reduce (all_reduce_link, all_reduce_latency_*): unchanged; the same per-GPU NVLink
 *   bandwidth and NVSwitch generation give the sibling's times;
 * - CPU (cpu_step_s, cpu_per_seq_s and scalars): unchanged; host software does not see the GPU's memory.
 * - capacity: the target's (the GPU catalog's memory_bytes and runtime_memory_bytes size the KV cache).
 *
 * The error band widens where the bandwidth scaling enters (see widen()); the rest keep the
 * sibling's bands. sameSilicon() refuses a pair whose compute or link figures differ.
 */

export interface TransferRule {
  /** The shipped fitted profile of the sibling GPU. */
  from: string;
  /** Why the two GPUs share silicon, for the provenance. */
  silicon: string;
  /** The datasheets the facts come from. */
  references: string[];
}

/** GPUs whose default profile is transferred from a fitted sibling, by catalog name. */
export const TRANSFER_RULES: Readonly<Record<string, TransferRule>> = {
  // NVIDIA H200 Tensor Core GPU datasheet (H200 SXM column) and NVIDIA H100 Tensor Core GPU
  // datasheet (H100 SXM column): the same tensor peaks (FP8 3,958 / BF16 1,979 TFLOPS with
  // sparsity, i.e. 989.5 dense), the same NVLink (900 GB/s) and the same max TDP (700 W); memory
  // 141 GB HBM3e at 4.8 TB/s vs 80 GB HBM3 at 3.35 TB/s. The datasheets state no clocks: equal
  // tensor peaks on the same 132-SM GH100 configuration mean the same tensor clock
  // (989.4 TFLOPS = 132 SMs × 4,096 FLOP/clock × 1.83 GHz).
  'h200-sxm': {
    from: 'h100-sxm.fitted',
    silicon:
      'same GH100 die and 132-SM configuration as the H100 SXM (equal datasheet tensor peaks, hence the same tensor clock), ' +
      'same NVLink 4 at 900 GB/s per GPU on an NVSwitch HGX board, same 700 W max TDP; memory 141 GB HBM3e at 4.8 TB/s vs 80 GB HBM3 at 3.35 TB/s',
    references: ['NVIDIA H200 Tensor Core GPU datasheet (H200 SXM column)', 'NVIDIA H100 Tensor Core GPU datasheet (H100 SXM column)'],
  },
  // NVIDIA A100 Tensor Core GPU datasheet (A100 40GB SXM and A100 80GB SXM columns): the same
  // tensor peaks (BF16 312 TFLOPS dense = 108 SMs × 2,048 FLOP/clock × 1.41 GHz), NVLink 600 GB/s
  // and max TDP 400 W on both; memory 40 GB HBM2 at 1,555 GB/s vs 80 GB HBM2e at 2,039 GB/s.
  'a100-sxm-40gb': {
    from: 'a100-sxm-80gb.fitted',
    silicon:
      'same GA100 die and 108-SM configuration as the A100 80GB SXM (equal datasheet tensor peaks, hence the same 1.41 GHz boost clock), ' +
      'same NVLink 3 at 600 GB/s per GPU on an NVSwitch HGX board, same 400 W max TDP; memory 40 GB HBM2 at 1,555 GB/s vs 80 GB HBM2e at 2,039 GB/s',
    references: ['NVIDIA A100 Tensor Core GPU datasheet (A100 40GB SXM and A100 80GB SXM columns)'],
  },
};

/**
 * Fitted profiles of GPUs with different memory systems (HBM3 on H100, HBM2e on A100): how far
 * their fitted fractions of datasheet bandwidth differ bounds how far a fraction may move when it
 * is carried to another memory system.
 */
export const BANDWIDTH_EVIDENCE: readonly string[] = ['h100-sxm.fitted', 'a100-sxm-80gb.fitted'];

/** The memory-bound coefficient behind each band the bandwidth scaling touches. */
const MEMORY_KNOB: Partial<Record<UncertaintyKey, keyof LatencyEfficiency>> = {
  gemm: 'gemm_memory',
  elementwise: 'elementwise_memory',
};
/** Bands of operators that are memory-bound at some shape, widened by the largest spread. */
const WIDEN_BY_LARGEST: readonly UncertaintyKey[] = ['attention_decode', 'iteration'];

const round4 = (x: number): number => Number(x.toFixed(4));

/**
 * The error of carrying a fraction of datasheet bandwidth from one memory system to another, per
 * memory-bound coefficient: the ratio of the largest to the smallest fitted value over the evidence
 * profiles, less 1. Between H100 (HBM3) and A100 (HBM2e): gemm_memory 0.8805 vs 0.7831 (12.4 %),
 * elementwise_memory 0.498 vs 0.4581 (8.7 %). Those GPUs differ in die and memory generation; two
 * GPUs with the same die and memory controllers differ in less, so this bounds the transfer's error.
 */
export function bandwidthScalingError(evidence: readonly string[] = BANDWIDTH_EVIDENCE): Record<string, number> {
  const spreads: Record<string, number> = {};
  for (const [key, knob] of Object.entries(MEMORY_KNOB)) {
    const values = evidence.map((ref) => {
      const value = loadProfile(ref, ref.split('.')[0], 'bandwidth evidence').profile.efficiency?.[knob!];
      if (typeof value !== 'number') throw new InfersimError(`bandwidth evidence: ${ref} states no ${knob}`);
      return value;
    });
    spreads[key] = round4(Math.max(...values) / Math.min(...values) - 1);
  }
  return spreads;
}

/** The compute and link figures that must match for a transfer: the target's memory is all that may differ. */
export function sameSilicon(target: GpuSpec, sibling: GpuSpec): string[] {
  const differences: string[] = [];
  const check = (field: string, a: unknown, b: unknown): void => {
    if (a !== b) differences.push(`${field} ${String(a)} vs ${String(b)}`);
  };
  const dtypes = new Set([...Object.keys(target.tensor_flops_per_s), ...Object.keys(sibling.tensor_flops_per_s)]);
  for (const dtype of [...dtypes].sort()) {
    const key = dtype as keyof GpuSpec['tensor_flops_per_s'];
    check(`tensor_flops_per_s.${dtype}`, target.tensor_flops_per_s[key], sibling.tensor_flops_per_s[key]);
  }
  check('fp32_flops_per_s', target.fp32_flops_per_s, sibling.fp32_flops_per_s);
  check('compute_capability', target.compute_capability, sibling.compute_capability);
  check('nvlink_bandwidth_bytes_per_s', target.nvlink_bandwidth_bytes_per_s, sibling.nvlink_bandwidth_bytes_per_s);
  check('nvlink_group_size', target.nvlink_group_size, sibling.nvlink_group_size);
  check('pcie_bandwidth_bytes_per_s', target.pcie_bandwidth_bytes_per_s, sibling.pcie_bandwidth_bytes_per_s);
  return differences;
}

/**
 * A band widened by a relative error δ of unknown sign: every time may be off by a further factor
 * between 1/(1 + δ) and 1 + δ, so low → (1 + low)/(1 + δ) − 1 and high → (1 + high)(1 + δ) − 1.
 * The sibling's validation counts (n, median, p90) are not measurements of the target: left out.
 */
function widen(band: UncertaintyBand, delta: number, from: string, knob: string): UncertaintyBand {
  return {
    low: round4((1 + band.low) / (1 + delta) - 1),
    high: round4((1 + band.high) * (1 + delta) - 1),
    basis:
      `${from}'s band [${band.low}, +${band.high}] widened by a factor 1 ± ${delta} for the bandwidth scaling ` +
      `(${knob} fitted on ${BANDWIDTH_EVIDENCE.join(' and ')} differs by ${(delta * 100).toFixed(1)} % across memory systems); ` +
      `${from}: ${band.basis ?? 'validation residuals'}`,
  };
}

function carried(band: UncertaintyBand, from: string, why: string): UncertaintyBand {
  return { low: band.low, high: band.high, basis: `${from}'s band, carried over (${why}): ${band.basis ?? 'validation residuals'}` };
}

/**
 * The transferred profile of `gpu` from the shipped fitted profile `from` (default: the rule's).
 * Deterministic: dated with the sibling's date, so the shipped file can be checked against it.
 */
export function transferProfile(gpu: string, from?: string, field = '--from'): Profile {
  const target = getGpu(gpu, '--gpu');
  const rule = TRANSFER_RULES[target.name];
  const ref = from ?? rule?.from;
  if (ref === undefined) {
    throw fieldError(
      '--from',
      `name the fitted profile of a GPU with the same silicon as ${target.name} (rules exist for ${Object.keys(TRANSFER_RULES).join(', ')})`,
    );
  }
  const siblingGpu = ref.split('.')[0];
  if (siblingGpu === target.name) throw fieldError(field, `must be a profile of another GPU than ${target.name}`, ref);
  const sibling = loadProfile(ref, siblingGpu, field).profile;
  if (sibling.source !== 'fitted') throw fieldError(field, `must be a fitted profile (its coefficients are what carries over), got a ${sibling.source} one`, ref);
  if (sibling.tables !== undefined) throw fieldError(field, "must hold coefficients only (a table's times are the sibling's own)", ref);
  const siblingSpec = getGpu(siblingGpu, field);
  const differences = sameSilicon(target, siblingSpec);
  if (differences.length > 0) {
    throw fieldError(field, `${target.name} and ${siblingGpu} differ in more than memory: ${differences.join(', ')}`, ref);
  }

  const spreads = bandwidthScalingError();
  const largestKey = Object.keys(spreads).reduce((a, b) => (spreads[b] > spreads[a] ? b : a));
  const uncertainty: Partial<Record<UncertaintyKey, UncertaintyBand>> = {};
  for (const key of UNCERTAINTY_KEYS) {
    const band = sibling.uncertainty?.[key];
    if (!band) continue;
    const knob = MEMORY_KNOB[key];
    if (knob !== undefined) uncertainty[key] = widen(band, spreads[key], ref, knob);
    else if (WIDEN_BY_LARGEST.includes(key)) uncertainty[key] = widen(band, spreads[largestKey], ref, MEMORY_KNOB[largestKey as UncertaintyKey]!);
    else uncertainty[key] = carried(band, ref, key === 'cpu' ? 'the host does not see the GPU memory' : 'no memory-bound part changes');
  }

  const ratio = target.hbm_bandwidth_bytes_per_s / siblingSpec.hbm_bandwidth_bytes_per_s;
  const tb = (bytes: number): string => `${bytes / 1e12} TB/s`;
  const silicon = rule !== undefined && rule.from === ref ? rule.silicon : `the same compute and link figures as ${siblingGpu} in the GPU catalog`;
  return {
    format: PROFILE_FORMAT,
    source: 'transferred',
    gpu: { catalog: target.name, name: target.name, memory_bytes: target.memory_bytes },
    provenance: {
      description:
        `Coefficients of ${ref} transferred to ${target.name}: ${silicon}. Compute-bound coefficients (GEMM and prefill-attention ` +
        `efficiency, kernel floors), all-reduce and CPU terms carried over unchanged; memory-bound terms (GEMM weight streaming, ` +
        `elementwise kernels, decode attention) are the same fractions of this GPU's datasheet bandwidth, ${tb(target.hbm_bandwidth_bytes_per_s)} ` +
        `vs ${tb(siblingSpec.hbm_bandwidth_bytes_per_s)} (×${ratio.toFixed(3)}); capacity from the GPU catalog. ` +
        `Bands widened for the bandwidth scaling. No measurement of ${target.name}.`,
      date: sibling.provenance.date,
      command: `infersim profile transfer --gpu ${target.name} --from ${ref} --out profiles/${target.name}.transferred.json`,
      transferred_from: ref,
      references: [...new Set([...(rule !== undefined && rule.from === ref ? rule.references : []), ...target.sources, ...(sibling.provenance.references ?? [])])],
    },
    ...(sibling.efficiency ? { efficiency: structuredClone(sibling.efficiency) } : {}),
    ...(Object.keys(uncertainty).length > 0 ? { uncertainty } : {}),
    ...(sibling.scalars ? { scalars: { ...sibling.scalars } } : {}),
  };
}
