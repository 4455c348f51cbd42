import type { BatchShape } from '../latency/batch.js';
import type { LatencyModel } from '../latency/model.js';
import type { StageLink } from '../setup/pipeline.js';
import type { PipelineSummary } from '../metrics/summary.js';

/** One micro-batch's work as the pipeline runs it, s. */
export interface StageTimes {
  /** Host work before the first stage (scheduling, input preparation). */
  host_s: number;
  /** Each GPU stage's share of the model. */
  stage_s: number;
  /** Extra work of the last stage (LM head and sampling). */
  last_s: number;
  /** Sending the activations from one stage to the next. */
  send_s: number;
}

/** Step terms paid on the host, once per micro-batch. */
const HOST = 'cpu_overhead';
/** Terms only the last stage pays: the LM head and the sampler run where the last layer is. */
const LAST = 'lm_head_sampler';
/** Terms every stage pays whole: each stage's GPU replays a graph of its own. */
const EACH = 'launch_overhead';

/**
 * Splits one step of the whole model into pipeline stages: layers evenly over the stages (vLLM's
 * default partition, `get_pp_indices`, gives each stage ⌈L/pp⌉ or ⌊L/pp⌋ layers; the even split is
 * the mean), `extra_s` (KV swaps and copies, which every stage does for its own layers) on each
 * stage, and one send per stage boundary of the batch's tokens' activations.
 */
export function stageTimes(latency: LatencyModel, batch: BatchShape, stages: number, link: StageLink, extra_s: number): StageTimes {
  let host_s = 0;
  let last_s = 0;
  let each_s = 0;
  let layers_s = 0;
  for (const op of latency.breakdown(batch)) {
    if (op.name === HOST) host_s += op.time_s;
    else if (op.name === LAST) last_s += op.time_s;
    else if (op.name === EACH) each_s += op.time_s;
    else layers_s += op.time_s;
  }
  const tokens = batch.prefill_tokens + batch.decode_tokens;
  return { host_s, stage_s: layers_s / stages + each_s + extra_s, last_s, send_s: link.send_s(tokens * link.bytes_per_token_per_gpu) };
}

/**
 * The GPU stages of one pipeline-parallel replica as resources: a micro-batch enters stage j+1
 * when it has left stage j (and its activations have arrived) and stage j+1 has finished the
 * micro-batch before it, so micro-batches complete in the order they entered. A stage's GPU is
 * held while it sends (vLLM's stage workers send synchronously after their forward pass).
 */
export class PipelineStages {
  /** When each stage's GPU is next free, s. */
  private readonly free_s: Float64Array;
  /** Σ time the stages computed (sends left out): the pipeline's busy work, stage-seconds. */
  stage_busy_s = 0;
  /** Micro-batches that entered. */
  micro_batches = 0;

  constructor(readonly stages: number) {
    this.free_s = new Float64Array(stages);
  }

  /** A micro-batch formed at `now_s`: returns when its last stage finishes. */
  enter(now_s: number, t: StageTimes): number {
    const n = this.stages;
    const free = this.free_s;
    let ready_s = now_s + t.host_s;
    for (let j = 0; j < n; j++) {
      const work_s = j === n - 1 ? t.stage_s + t.last_s : t.stage_s;
      const done_s = Math.max(ready_s, free[j]) + work_s;
      this.stage_busy_s += work_s;
      if (j === n - 1) {
        free[j] = done_s;
        ready_s = done_s;
      } else {
        free[j] = done_s + t.send_s;
        ready_s = free[j];
      }
    }
    this.micro_batches++;
    return ready_s;
  }
}

/** What summary.json's `pipeline` needs of a replica. */
interface Pipelined {
  pipeline: { stages: PipelineStages; link: StageLink } | undefined;
  busy_s: number;
}

/** summary.json `pipeline` over the pipelined replicas (none: undefined). */
export function pipelineSummary(replicas: readonly Pipelined[]): PipelineSummary | undefined {
  let stages = 0;
  let link = '';
  let micro_batches = 0;
  let stage_busy_s = 0;
  let capacity_s = 0;
  for (const r of replicas) {
    const p = r.pipeline;
    if (p === undefined) continue;
    stages = Math.max(stages, p.stages.stages);
    link = p.link.link;
    micro_batches += p.stages.micro_batches;
    stage_busy_s += p.stages.stage_busy_s;
    capacity_s += p.stages.stages * r.busy_s;
  }
  if (stages === 0) return undefined;
  return { stages, link, micro_batches, bubble_fraction: capacity_s > 0 ? Math.max(0, 1 - stage_busy_s / capacity_s) : null };
}
