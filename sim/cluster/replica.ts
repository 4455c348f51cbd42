import type { StepStamps } from '../metrics/stepStamps.js';
import type { BlockManager } from '../kv/blockManager.js';
import type { LatencyModel } from '../latency/model.js';
import { applyStep } from '../scheduler/commons.js';
import { planIsEmpty, type ReplicaScheduler, type StepPlan } from '../scheduler/scheduler.js';
import { cacheKeysFor, type Sequence } from '../scheduler/sequence.js';
import type { CacheKeys } from '../kv/blockKeys.js';
import type { Request } from '../workload/request.js';
import { Deque } from '../engine/deque.js';
import type { ReplicaLoad, ReplicaState } from '../routing/router.js';
import type { DraftTime } from './drafter.js';
import { stageTimes, type PipelineStages } from './pipeline.js';
import type { StageLink } from '../setup/pipeline.js';
import type { LoraStep } from './loraStep.js';
import { DOUBLE_ZERO } from '../engine/doubles.js';

/** Token counts a replica has processed, for conservation checks. */
export interface ReplicaCounters {
  steps: number;
  prefill_tokens: number;
  decode_tokens: number;
  preemptions: number;
  swap_in_blocks: number;
  swap_out_blocks: number;
  /** Time its steps spent proposing draft tokens (speculative decoding), s. */
  draft_s: number;
}

/** A replica's engine settings the gateway and the step handlers read (its pool's). */
export interface ReplicaLimits {
  /** Server time after a step before its tokens reach the client (detokenize, stream), s. */
  frontOut_s: number;
  /** Samples fork from one prompt pass (copy-on-write policies) rather than run as separate sequences. */
  forkSamples: boolean;
  max_model_len: number;
  /** Requests it queues before rejecting more (Infinity: no limit). */
  max_queue_len: number;
  /** A prefill pool's: each sequence leaves for a decode replica after its prompt pass. */
  handoff: boolean;
  /** The latency profile named in step-time errors (null when the model was given, not built from one). */
  profile: string | null;
}

const NO_LIMITS: ReplicaLimits = { frontOut_s: 0, forkSamples: false, max_model_len: Infinity, max_queue_len: Infinity, handoff: false, profile: null };

/** What moving KV blocks costs on one GPU of the replica (each GPU moves its own shard in parallel). */
export interface KvTransferCost {
  bytes_per_block: number;
  /** One direction of the host link: a swap moves blocks one way. */
  pcie_one_direction_bytes_per_s: number;
  /** Device memory (a copy-on-write block copy reads and writes it). */
  hbm_bytes_per_s: number;
}

/**
 * One engine instance (a TP group): a scheduler, its KV pool and a latency model. `startStep`
 * forms and times a step, `completeStep` applies the oldest one in flight. A replica runs one
 * step at a time unless built with more stages (pipeline parallelism): then up to that many
 * steps are in flight and complete in the order they started.
 */
export class Replica implements ReplicaLoad {
  outstanding = 0;
  /** Prompt plus output tokens of the requests routed here and not yet finished (ReplicaLoad). */
  outstanding_tokens = 0;
  /** The pool's name (ReplicaLoad) and position in the run's pools; set when the replica is built. */
  pool = 'default';
  pool_index = 0;
  /** Time spent stepping, summed over its steps as they start, and when the latest one ends (gpu busy figures), s. */
  busy_s = DOUBLE_ZERO;
  last_step_end_s = DOUBLE_ZERO;
  /** ∫ outstanding dt and ∫ waiting dt up to `accrued_s`: the autoscaler averages load over its interval. */
  outstanding_area = DOUBLE_ZERO;
  waiting_area = DOUBLE_ZERO;
  private accrued_s = DOUBLE_ZERO;
  /** Its pool's engine settings; set when the replica is built. */
  limits: ReplicaLimits = NO_LIMITS;
  /** No further step may start until one in flight completes. */
  busy = false;
  /** Where the replica is in its life; only `ready` replicas take new requests. */
  state: ReplicaState = 'ready';
  /** Set when a scheduling pass is queued for the current instant (avoids duplicates). */
  schedulePending = false;
  /** Time of the batching-timer wake-up already queued (NaN: none). */
  wakeAt_s = NaN;
  /** Requests routed here that no step has started yet: the queue `max_queue_len` bounds and a gateway reads (ReplicaLoad). */
  waiting = 0;
  private inFlight: readonly Sequence[] = [];
  /** Steps in flight beyond the oldest (only with several stages), oldest first. */
  private laterSteps: Deque<readonly Sequence[]> | undefined;
  /** When each step in flight started, oldest first (only with several stages). */
  private stepStarts: Deque<number> | undefined;
  /** When the step that completed last had started, s (a hand-off times that step's prefill). */
  completed_step_start_s = DOUBLE_ZERO;
  private stepsInFlight = 0;
  readonly counters: ReplicaCounters = { steps: 0, prefill_tokens: 0, decode_tokens: 0, preemptions: 0, swap_in_blocks: 0, swap_out_blocks: 0, draft_s: 0 };
  /** Pipeline parallelism: the stages a step passes through and the link between them (absent: one stage). */
  pipeline: { stages: PipelineStages; link: StageLink } | undefined;
  /** Pipelined: the host is still forming the last micro-batch, until `host_free_s`; no other step may start. */
  private hostBusy = false;
  host_free_s = 0;
  /** Speculative decoding: what proposing a step's draft tokens costs (absent: no proposals, or free ones). */
  draftTime: DraftTime | undefined;
  /** Blocks copied (copy-on-write) and cache entries evicted while forming the last step. */
  lastCopied = 0;
  lastEvicted = 0;
  /** Preemptions and swap-outs of a step that only preempted: charged to the next step that runs. */
  private carriedPreempted = 0;
  private carriedSwapOut = 0;
  private copiedSeen = 0;
  private evictedSeen = 0;

  constructor(
    readonly index: number,
    readonly scheduler: ReplicaScheduler,
    readonly kv: BlockManager,
    readonly latency: LatencyModel,
    private readonly transfer: KvTransferCost,
    /** Steps that may be in flight at once: 1, or the pipeline's stage count. */
    readonly max_steps_in_flight = 1,
  ) {
    if (!(Number.isInteger(max_steps_in_flight) && max_steps_in_flight >= 1)) {
      throw new Error(`replica ${index}: max_steps_in_flight must be an integer ≥ 1, got ${max_steps_in_flight}`);
    }
    if (max_steps_in_flight > 1) {
      this.laterSteps = new Deque(max_steps_in_flight);
      this.stepStarts = new Deque(max_steps_in_flight, true);
    }
  }

  /** Time spent stepping up to `now_s`: a step in flight counts up to now only. */
  busyUntil(now_s: number): number {
    return this.busy_s - Math.max(0, this.last_step_end_s - now_s);
  }

  /** Brings the load integrals up to `now_s`; call before `outstanding` or `waiting` changes, and before reading them. */
  accrue(now_s: number): void {
    const dt = now_s - this.accrued_s;
    if (dt > 0) {
      this.outstanding_area += this.outstanding * dt;
      this.waiting_area += this.waiting * dt;
      this.accrued_s = now_s;
    }
  }

  /** Multi-LoRA: what its adapters cost its steps (absent without engine.lora). */
  lora: LoraStep | undefined;

  has_adapter(adapter: number): boolean {
    return this.lora?.cache.has(adapter) ?? false;
  }

  get free_adapter_slots(): number {
    return this.lora?.cache.free_slots ?? 0;
  }

  get kv_used_fraction(): number {
    return this.kv.used_blocks / this.kv.total_blocks;
  }

  cached_prefix_tokens(request: Request): number {
    const kv = this.kv;
    if (!kv.prefix_caching) return 0;
    // The last prompt token is always computed (its logits give the first output token): at most (prompt − 1) tokens' blocks hit, as at admission.
    const max_blocks = Math.floor((request.input_tokens - 1) / kv.block_size);
    return kv.keys.cachedBlocks(probeKeys(request), max_blocks) * kv.block_size;
  }

  /** The replica's number for the oldest step in flight (the next to complete); steps count from 0. */
  get oldest_step_in_flight(): number {
    return this.counters.steps - this.stepsInFlight;
  }

  /** Steps started and not yet completed. */
  get steps_in_flight(): number {
    return this.stepsInFlight;
  }

  admit(seq: Sequence, now_s: number): void {
    seq.enqueued_s = now_s;
    this.scheduler.enqueue(seq);
  }

  /** Forms the next step at `now_s`; an empty `scheduled` means nothing can run now. */
  startStep(now_s: number): StepPlan {
    return this.formed(this.scheduler.schedule(now_s), now_s);
  }

  /**
   * Whether the step after the one in flight holds the same decode runs alone
   * (ReplicaScheduler.runsStepNext), on a replica whose step time is then the latency model's for
   * the batch alone (one step in flight, no LoRA, no drafts) and where nothing was carried from a
   * step that only preempted.
   */
  runsStepNext(): boolean {
    const s = this.scheduler;
    // The scheduler's answer first: under load somebody waits at most steps, and that ends it at once.
    return (
      s.runsStepNext !== undefined &&
      s.runsStepNext() &&
      this.state !== 'failed' &&
      this.max_steps_in_flight === 1 &&
      this.lora === undefined &&
      this.draftTime === undefined &&
      !this.schedulePending &&
      this.carriedPreempted + this.carriedSwapOut === 0
    );
  }

  /**
   * `completeStep` (its tokens stamped `token_time_s`), then `startStep` at `now_s`, where
   * `runsStepNext` said so: the step in flight, the runs alone, finishes nobody and was nobody
   * else's, so applying it is the scheduler's alone. Of `formed`'s bookkeeping only what such a
   * step changes: it preempts, swaps and prefills nothing, nothing was carried, one step stays in
   * flight and its list of sequences (none) is the same array (the warm band runs took ~3 % less
   * time than through `formed`).
   */
  runsStep(token_time_s: number, now_s: number): StepPlan {
    const plan = (this.scheduler.runsStep as (t: number, step: number) => StepPlan)(token_time_s, this.oldest_step_in_flight);
    const kv = this.kv;
    this.lastCopied = kv.copied_blocks - this.copiedSeen;
    this.copiedSeen = kv.copied_blocks;
    this.lastEvicted = kv.evicted_blocks - this.evictedSeen;
    this.evictedSeen = kv.evicted_blocks;
    this.completed_step_start_s = now_s;
    this.counters.steps++;
    this.counters.decode_tokens += plan.batch.decode_tokens;
    return plan;
  }

  /** The bookkeeping of a step the scheduler formed at `now_s`. */
  private formed(plan: StepPlan, now_s: number): StepPlan {
    this.counters.preemptions += plan.preempted;
    this.counters.swap_in_blocks += plan.swap_in_blocks;
    this.counters.swap_out_blocks += plan.swap_out_blocks;
    this.lastCopied = this.kv.copied_blocks - this.copiedSeen;
    this.copiedSeen = this.kv.copied_blocks;
    this.lastEvicted = this.kv.evicted_blocks - this.evictedSeen;
    this.evictedSeen = this.kv.evicted_blocks;
    if (planIsEmpty(plan)) {
      this.carriedPreempted += plan.preempted;
      this.carriedSwapOut += plan.swap_out_blocks;
      return plan;
    }
    if (this.carriedPreempted + this.carriedSwapOut > 0) {
      // Counted above when they happened; the step that follows records them and pays the PCIe time.
      plan.preempted += this.carriedPreempted;
      plan.swap_out_blocks += this.carriedSwapOut;
      this.carriedPreempted = 0;
      this.carriedSwapOut = 0;
    }
    this.track(plan.scheduled);
    if (this.stepStarts === undefined) this.completed_step_start_s = now_s;
    else this.stepStarts.pushBack(now_s);
    this.counters.steps++;
    this.counters.prefill_tokens += plan.batch.prefill_tokens;
    this.counters.decode_tokens += plan.batch.decode_tokens - plan.padding_seqs;
    return plan;
  }

  private track(scheduled: Sequence[]): void {
    if (this.laterSteps === undefined) {
      // The scheduler reuses this array, but not before the step completes: no copy needed.
      this.inFlight = scheduled;
    } else {
      this.stage(scheduled);
      // The scheduler may form the next step before this one completes: keep a copy.
      if (this.stepsInFlight === 0) this.inFlight = scheduled.slice();
      else this.laterSteps.pushBack(scheduled.slice());
    }
    this.stepsInFlight++;
    this.busy = this.stepsInFlight >= this.max_steps_in_flight;
  }

  /**
   * A step applies each sequence's `scheduled_tokens`: a sequence in two steps at once would lose
   * one step's tokens. Its `in_step` flag says it is in one (a Set of the staged sequences said the
   * same at a Set insert and delete per sequence per step, 7 % of the pipelined scenario).
   */
  private stage(scheduled: readonly Sequence[]): void {
    for (const seq of scheduled) {
      if (seq.in_step) {
        throw new Error(`replica ${this.index}: request ${seq.id} was scheduled while a step holding it is in flight (a policy must give each sequence one stage at a time)`);
      }
      seq.in_step = true;
    }
  }

  /**
   * Pipelined, the replica failed: the sequences of its steps in flight leave their stages (they
   * are not scheduled again, their requests are resent afresh, but no flag is left standing).
   */
  private leaveStages(): void {
    const later = this.laterSteps;
    if (later === undefined) return;
    if (this.stepsInFlight > 0) for (const seq of this.inFlight) seq.in_step = false;
    for (let step = later.popFront(); step !== undefined; step = later.popFront()) for (const seq of step) seq.in_step = false;
  }

  /**
   * The replica failed at `now_s`: every sequence it held (queued, running, swapped, in a step in
   * flight) is appended to `lost` with its KV freed, and it holds nothing more. The steps in flight
   * never complete (their end events find it failed); their time counts as busy up to now.
   */
  fail(now_s: number, lost: Sequence[]): void {
    this.accrue(now_s);
    this.scheduler.releaseAll(lost);
    this.leaveStages();
    this.outstanding = 0;
    this.outstanding_tokens = 0;
    this.waiting = 0;
    this.stepsInFlight = 0;
    this.busy = false;
    this.inFlight = [];
    this.laterSteps?.clear();
    this.stepStarts?.clear();
    this.hostBusy = false;
    // Busy time stops at the failure: the unfinished part of the last step was never computed.
    if (this.last_step_end_s > now_s) {
      this.busy_s -= this.last_step_end_s - now_s;
      this.last_step_end_s = now_s;
    }
  }

  /**
   * How long the step formed at `now_s` takes until its tokens exist: the model's time for the
   * batch plus the KV moves that precede it (swaps over PCIe, block copies in HBM) and the drafts'
   * proposals; call once per step. Pipelined, the time through every stage, and the host is busy
   * forming this micro-batch until `host_free_s`.
   */
  stepDuration_s(plan: StepPlan, now_s: number): number {
    const t = this.transfer;
    const swapBlocks = plan.swap_in_blocks + plan.swap_out_blocks;
    const swap_s = swapBlocks === 0 ? 0 : (swapBlocks * t.bytes_per_block) / t.pcie_one_direction_bytes_per_s;
    const copy_s = this.lastCopied === 0 ? 0 : (2 * this.lastCopied * t.bytes_per_block) / t.hbm_bytes_per_s;
    // Every GPU loads its adapters' shards and runs the LoRA kernels of its own layers.
    const lora_s = this.lora === undefined ? 0 : this.lora.time_s(plan.scheduled);
    const pipe = this.pipeline;
    if (pipe !== undefined) {
      const times = stageTimes(this.latency, plan.batch, pipe.stages.stages, pipe.link, swap_s + copy_s + lora_s);
      this.hostBusy = true;
      this.busy = true;
      this.host_free_s = now_s + times.host_s;
      return pipe.stages.enter(now_s, times) - now_s;
    }
    const draft_s = this.draftTime === undefined ? 0 : this.draftTime(plan.scheduled);
    this.counters.draft_s += draft_s;
    return this.latency.iterationTime_s(plan.batch) + swap_s + copy_s + draft_s + lora_s;
  }

  /** Pipelined: the host has formed the last micro-batch by `now_s`; another may start unless every stage slot is taken. */
  releaseHost(now_s: number): void {
    if (!this.hostBusy || now_s < this.host_free_s) return;
    this.hostBusy = false;
    this.busy = this.stepsInFlight >= this.max_steps_in_flight;
  }

  /**
   * Applies the step that just ended: advances each sequence, stamps emitted tokens with
   * `token_time_s` and appends the sequences that finished (blocks already freed) to `finished`.
   */
  completeStep(token_time_s: number, finished: Sequence[], history?: StepStamps): void {
    if (this.stepsInFlight === 0) throw new Error(`replica ${this.index}: a step completed with none in flight`);
    const step = this.oldest_step_in_flight;
    const inFlight = this.inFlight;
    this.stepsInFlight--;
    this.busy = this.hostBusy;
    if (this.stepStarts !== undefined) this.completed_step_start_s = this.stepStarts.popFront() as number;
    if (this.laterSteps !== undefined) for (const seq of inFlight) seq.in_step = false;
    if (this.stepsInFlight > 0) this.inFlight = (this.laterSteps as Deque<readonly Sequence[]>).popFront() as readonly Sequence[];
    applyStep(this.kv, this.scheduler, inFlight, token_time_s, step, finished, history);
  }
}

/** The keys of the request being routed, built once for all the candidates a router probes. */
let probed: { request: Request; keys: CacheKeys } | undefined;
function probeKeys(request: Request): CacheKeys {
  if (probed?.request !== request) probed = { request, keys: cacheKeysFor(request) };
  return probed.keys;
}
