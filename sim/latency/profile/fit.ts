import { fieldError } from '../../errors.js';
import { getGpu } from '../../hardware/catalog.js';
import type { LatencyEfficiency } from '../efficiency.js';
import { nelderMead } from './nelderMead.js';
import { PROFILE_FORMAT, type Profile, type UncertaintyBand } from './schema.js';
import { compareCollectives, compareCompute, errorBand, errorTable, OperatorPredictor, type Comparison, type ErrorRow } from './validate.js';
import { fitLine, readVidurCompute, readVidurCpu, readVidurNetwork, VIDUR_GPU_DIRS, type VidurCollective, type VidurRecord } from './vidur.js';

type Knob = keyof LatencyEfficiency;

/** The coefficients fitted per operator class: a handful each, never a table. */
export const FITTED_KNOBS: Record<Exclude<Comparison['kind'], 'cpu'>, Knob[]> = {
  gemm: ['gemm_compute', 'gemm_memory', 'gemm_kernel_floor_s'],
  elementwise: ['elementwise_memory', 'elementwise_kernel_floor_s'],
  all_reduce: ['all_reduce_link', 'all_reduce_latency_nvlink_s'],
};

/** Starting points for the fit (positive: the search runs over their logarithms). */
const START: Partial<Record<Knob, number>> = {
  gemm_kernel_floor_s: 5e-6,
  elementwise_kernel_floor_s: 3e-6,
  all_reduce_latency_nvlink_s: 1e-5,
};

function compare(kind: Exclude<Comparison['kind'], 'cpu'>, compute: readonly VidurRecord[], net: readonly VidurCollective[], predictor: OperatorPredictor): Comparison[] {
  if (kind === 'all_reduce') return compareCollectives(net, predictor);
  return compareCompute(compute, predictor).filter((c) => c.kind === kind);
}

/**
 * Efficiencies minimising the mean absolute log error of one operator class: log error treats
 * a 2× over- and under-prediction alike, and its mean is robust enough with thousands of points.
 */
function fitKnobs(gpu: string, kind: Exclude<Comparison['kind'], 'cpu'>, compute: readonly VidurRecord[], net: readonly VidurCollective[]): Partial<LatencyEfficiency> {
  const spec = getGpu(gpu);
  const knobs = FITTED_KNOBS[kind];
  const base = new OperatorPredictor(spec, undefined).efficiency;
  const start = knobs.map((k) => Math.log((START[k] ?? (base[k] as number)) || 1e-6));
  const toEfficiency = (x: readonly number[]): Partial<LatencyEfficiency> => Object.fromEntries(knobs.map((k, i) => [k, Math.exp(x[i])]));
  const loss = (x: number[]): number => {
    const predictor = new OperatorPredictor(spec, undefined, toEfficiency(x));
    const cs = compare(kind, compute, net, predictor);
    let sum = 0;
    for (const c of cs) sum += Math.abs(Math.log(c.predicted_s / c.measured_s));
    return sum / cs.length;
  };
  // Two restarts from the first optimum escape the simplex's early collapse on flat max() regions.
  let best = nelderMead(loss, start, { step: 0.3, iterations: 600 });
  for (let i = 0; i < 2; i++) best = nelderMead(loss, best.x, { step: 0.1, iterations: 600 });
  const fitted = toEfficiency(best.x);
  // Round to 4 significant figures: the profile records coefficients, not noise.
  return Object.fromEntries(Object.entries(fitted).map(([k, v]) => [k, Number((v as number).toPrecision(4))]));
}

export interface FitReport {
  profile: Profile;
  train: ErrorRow[];
  held_out: ErrorRow[];
}

/**
 * Engine CPU time per step (scheduling, input preparation, sampling, output processing): a line
 * over the batch size through Vidur's TP1 measurements of vLLM. It is the host's, not the GPU's,
 * so a GPU without its own CPU measurements takes another Vidur GPU's host figures.
 */
function cpuOverhead(root: string, gpu: string): { efficiency: Partial<LatencyEfficiency>; note: string } {
  for (const source of [gpu, ...Object.keys(VIDUR_GPU_DIRS).filter((g) => g !== gpu)]) {
    const rows = readVidurCpu(root, source).filter((r) => r.tp === 1);
    if (rows.length < 2) continue;
    const line = fitLine(rows.map((r) => [r.batch_size, r.time_s]));
    if (!(line.intercept > 0 && line.slope >= 0)) continue;
    const cpu_step_s = Number(line.intercept.toPrecision(4));
    const cpu_per_seq_s = Number(line.slope.toPrecision(4));
    return {
      efficiency: { cpu_step_s, cpu_per_seq_s },
      note: `CPU per step: ${cpu_step_s * 1e3} ms + ${cpu_per_seq_s * 1e6} µs per sequence, a line through Vidur's TP1 vLLM measurements on its ${VIDUR_GPU_DIRS[source].toUpperCase()} hosts.`,
    };
  }
  return { efficiency: {}, note: 'CPU per step: the defaults (no CPU measurements found).' };
}

/** Collectives are model-free: every other message size trains, the rest are held out. */
export function splitCollectives(net: readonly VidurCollective[]): [VidurCollective[], VidurCollective[]] {
  const sizes = [...new Set(net.map((c) => c.bytes))].sort((a, b) => a - b);
  const trainSizes = new Set(sizes.filter((_, i) => i % 2 === 0));
  return [net.filter((c) => trainSizes.has(c.bytes)), net.filter((c) => !trainSizes.has(c.bytes))];
}

/**
 * A `fitted` profile from Vidur's measurements of one GPU: roofline efficiencies fitted on the
 * `train` models, error bands from the models held out (the p10–p90 of the signed relative error).
 */
export function fitVidurProfile(root: string, gpu: string, train: readonly string[], extra: Partial<LatencyEfficiency> = {}, now = new Date()): FitReport {
  const all = readVidurCompute(root, gpu);
  const models = [...new Set(all.map((r) => r.model))];
  const unknown = train.filter((m) => !models.includes(m));
  if (unknown.length > 0) throw fieldError('--train', `unknown model folder; the data has ${models.join(', ')}`, unknown.join(','));
  const heldOutModels = models.filter((m) => !train.includes(m));
  if (heldOutModels.length === 0) throw fieldError('--train', 'leave at least one model out: the held-out error is the point of the fit', train.join(','));
  const trainRecords = all.filter((r) => train.includes(r.model));
  const testRecords = all.filter((r) => !train.includes(r.model));
  const net = readVidurNetwork(root, gpu).filter((c) => c.collective === 'all_reduce');
  const [netTrain, netTest] = splitCollectives(net);

  const cpu = cpuOverhead(root, gpu);
  const efficiency: Partial<LatencyEfficiency> = {
    ...cpu.efficiency,
    ...fitKnobs(gpu, 'gemm', trainRecords, netTrain),
    ...fitKnobs(gpu, 'elementwise', trainRecords, netTrain),
    ...(netTrain.length > 0 ? fitKnobs(gpu, 'all_reduce', trainRecords, netTrain) : {}),
    ...extra,
  };
  const predictor = new OperatorPredictor(getGpu(gpu), undefined, efficiency);
  const testCompute = compareCompute(testRecords, predictor);
  const testNet = compareCollectives(netTest, predictor);
  const trainRows = errorTable([...compareCompute(trainRecords, predictor), ...compareCollectives(netTrain, predictor)]);
  const heldRows = errorTable([...testCompute, ...testNet]);

  const heldOutBasis = `held-out Vidur ${VIDUR_GPU_DIRS[gpu]} models (${heldOutModels.join(', ')})`;
  const gemmBand = errorBand(testCompute.filter((c) => c.kind === 'gemm'), `p10–p90 of GEMM errors on ${heldOutBasis}`);
  const profile: Profile = {
    format: PROFILE_FORMAT,
    source: 'fitted',
    gpu: { catalog: gpu, name: getGpu(gpu).name },
    provenance: {
      description:
        `Roofline efficiencies fitted (mean absolute log error, Nelder–Mead) to microsoft/vidur's public per-operator measurements ` +
        `on ${VIDUR_GPU_DIRS[gpu].toUpperCase()} (fp16): trained on ${train.join(', ')}; errors reported on ${heldOutModels.join(', ')}. ` +
        `All-reduce: trained on every other message size, tested on the rest. ${cpu.note}`,
      date: now.toISOString(),
      trained_on: [...train],
      command: `infersim profile fit vidur <vidur data/profiling> --gpu ${gpu} --train ${train.join(',')}`,
      references: [
        'microsoft/vidur data/profiling/compute and network (MIT): real A100-80GB and H100-80GB measurements',
        'Agrawal et al., "Vidur: A Large-Scale Simulation Framework for LLM Inference", MLSys 2024',
      ],
    },
    efficiency: efficiency as Record<string, number>,
    uncertainty: {
      gemm: gemmBand,
      elementwise: errorBand(testCompute.filter((c) => c.kind === 'elementwise'), `p10–p90 of elementwise errors on ${heldOutBasis}`),
      ...(testNet.length > 0 ? { all_reduce: errorBand(testNet, 'p10–p90 of all-reduce errors on held-out message sizes') } : {}),
      // GEMMs are most of an iteration's GPU time, so their held-out band stands for the iteration's.
      iteration: { ...gemmBand, basis: `GEMM band (GEMMs dominate iteration time): ${gemmBand.basis}` },
    },
  };
  return { profile, train: trainRows, held_out: heldRows };
}

/**
 * An `analytic` profile: datasheet peaks (the GPU catalog's figures) with the default
 * efficiencies. Its band is the defaults' error on the GPUs that have public measurements, the
 * widest of them: an optimistic estimate for a GPU nobody has measured here.
 */
export function analyticProfile(gpu: string, bands: readonly UncertaintyBand[], now = new Date()): Profile {
  const spec = getGpu(gpu);
  const widest = (pick: (b: UncertaintyBand) => number, f: (...v: number[]) => number): number => Number(f(...bands.map(pick)).toFixed(4));
  const iteration: UncertaintyBand | undefined =
    bands.length > 0
      ? {
          low: widest((b) => b.low, Math.min),
          high: widest((b) => b.high, Math.max),
          basis: `widest p10–p90 GEMM error of the default efficiencies on the measured GPUs (${bands.map((b) => b.basis).join('; ')}); not validated on ${gpu}`,
        }
      : undefined;
  return {
    format: PROFILE_FORMAT,
    source: 'analytic',
    gpu: { catalog: gpu, name: spec.name, memory_bytes: spec.memory_bytes },
    provenance: {
      description: `Datasheet peaks of ${gpu} with infersim's default roofline efficiencies (sim/latency/efficiency.ts); no measurement of this GPU.`,
      date: now.toISOString(),
      command: `infersim profile analytic --gpu ${gpu}`,
      references: spec.sources,
    },
    efficiency: { ...new OperatorPredictor(spec, undefined).efficiency } as Record<string, number | Record<string, number>>,
    ...(iteration ? { uncertainty: { iteration } } : {}),
  };
}

/** The default efficiencies' held-out-free error on one measured GPU: all Vidur models, GEMMs. */
export function defaultsGemmBand(root: string, gpu: string): UncertaintyBand {
  const predictor = new OperatorPredictor(getGpu(gpu), undefined);
  const cs = compareCompute(readVidurCompute(root, gpu), predictor).filter((c) => c.kind === 'gemm');
  return errorBand(cs, `${VIDUR_GPU_DIRS[gpu]}: all Vidur models`);
}
