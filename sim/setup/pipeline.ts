import { fieldError } from '../errors.js';
import type { GpuSpec } from '../hardware/gpu.js';
import { LogSeries } from '../latency/profile/interpolate.js';
import type { Profile } from '../latency/profile/schema.js';
import type { ModelArchitecture } from '../model/architecture.js';
import type { SchedulerFactory } from '../scheduler/scheduler.js';
import { LINK_DEFAULTS } from './disagg.js';

/** How a pipeline stage hands its activations to the next: the link and what one send costs. */
export interface StageLink {
  link: 'nvlink' | 'pcie' | 'infiniband';
  /** Activation bytes each GPU sends per token at a stage boundary. */
  bytes_per_token_per_gpu: number;
  /** Time of one send of `bytes` from a stage's GPU to the next stage's, s. */
  send_s(bytes: number): number;
}

/**
 * Bytes a stage sends per token: vLLM's decoder models pass two hidden-size tensors between
 * stages (IntermediateTensors `hidden_states` and `residual`, vllm/model_executor/models/llama.py),
 * in the activation dtype (bf16). Each GPU of the tensor-parallel group sends its 1/tp slice and
 * the receiving group all-gathers them (`send_tensor_dict(..., all_gather_group=tp_group)` in
 * vllm/distributed/parallel_state.py); the all-gather over NVLink is left out.
 */
export function stageBytesPerTokenPerGpu(arch: ModelArchitecture, tp: number): number {
  const BF16_BYTES = 2;
  return (2 * arch.hidden_size * BF16_BYTES) / tp;
}

/**
 * The link between consecutive stages. vLLM places ranks tp-major (a stage's TP group is
 * contiguous), so a replica of tp × pp GPUs that fits one NVLink domain sends over NVLink; one
 * that spans nodes crosses the network at every node boundary, which sets the pipeline's pace:
 * all boundaries are timed as the slowest. The network is one InfiniBand NDR port per GPU (the
 * fabric figures of disaggregated KV transfer). Measured `send_recv` rows of the profile for the
 * link replace the bandwidth model where present.
 */
export function stageLink(arch: ModelArchitecture, gpu: GpuSpec, tp: number, pp: number, profile?: Profile): StageLink {
  const gpus = tp * pp;
  const bytes_per_token_per_gpu = stageBytesPerTokenPerGpu(arch, tp);
  if (gpus > gpu.gpus_per_node) {
    const ib = LINK_DEFAULTS.infiniband;
    return { link: 'infiniband', bytes_per_token_per_gpu, send_s: linear(ib.bandwidth_gbps * 1e9 / 8, ib.latency_us * 1e-6) };
  }
  const nvlink = gpu.nvlink_bandwidth_bytes_per_s > 0 && gpus <= gpu.nvlink_group_size;
  const link = nvlink ? 'nvlink' : 'pcie';
  const oneWay_bytes_per_s = (nvlink ? gpu.nvlink_bandwidth_bytes_per_s : gpu.pcie_bandwidth_bytes_per_s) / 2;
  const model = linear(oneWay_bytes_per_s, (nvlink ? LINK_DEFAULTS.nvlink : LINK_DEFAULTS.pcie).latency_us * 1e-6);
  const rows = (profile?.tables?.send_recv ?? []).filter((r) => r.link === link);
  if (rows.length === 0) return { link, bytes_per_token_per_gpu, send_s: model };
  const series = new LogSeries(rows.map((r) => [r.bytes, r.time_s] as const));
  return {
    link,
    bytes_per_token_per_gpu,
    // Outside the measured sizes the model, scaled to meet the series at its nearest edge.
    send_s: (bytes) => {
      const t = series.at(bytes);
      if (Number.isFinite(t)) return t;
      const edge = bytes > series.maxX ? series.maxX : series.minX;
      return model(bytes) * (series.at(edge) / model(edge));
    },
  };
}

const linear = (bytes_per_s: number, latency_s: number) => (bytes: number) => latency_s + bytes / bytes_per_s;

/** Pipeline parallelism needs a policy that keeps several steps in flight, and nothing it cannot pipeline. */
export function checkPipeline(pp: number, policy: SchedulerFactory, speculative: boolean): void {
  if (pp === 1) return;
  if (policy.traits.pipeline !== true) {
    throw fieldError(
      'hardware.pipeline_parallel',
      `needs a scheduler that keeps a step in flight per stage (vllm, as vLLM V1's batch queue does); ${policy.name} runs one step at a time: use engine.scheduler vllm, or pipeline_parallel 1`,
      pp,
    );
  }
  if (speculative) {
    // Not modelled: proposals and verification would have to flow through the stages (vLLM's
    // support for the pair has varied by release and engine), so the pair is refused, not guessed.
    throw fieldError('engine.speculative', 'is not modelled with hardware.pipeline_parallel > 1; drop one of them', 'set');
  }
}
