import type { BlockManager } from '../kv/blockManager.js';
import { emptyBatch, resetBatch, type BatchShape } from '../latency/batch.js';
import type { EngineUsage, OrcaReservation, PreemptionMode, SchedulingPolicy, WorkloadSpec } from '../scenario/types.js';
import type { Sequence } from './sequence.js';
import type { Speculation } from './speculation.js';
import { clearKeepingStorage, objectList } from '../engine/arrays.js';

/** One engine step as a scheduler decided it. Arrays are reused between steps: copy to keep. */
export interface StepPlan {
  /** Sequences that run this step, each with `scheduled_tokens` set (those in decode runs aside). */
  scheduled: Sequence[];
  /** Sequences in decode runs (decodeRuns.ts) that also run this step, a token each: in `batch`, not in `scheduled` (absent: none). */
  lazy_decodes?: number;
  batch: BatchShape;
  /** Sequences preempted while forming this step (recompute or swap). */
  preempted: number;
  /** KV blocks moved CPU → GPU and GPU → CPU before this step runs (each costs a PCIe transfer). */
  swap_in_blocks: number;
  swap_out_blocks: number;
  /** When `scheduled` is empty: the time the policy wants to be asked again (a batching timer); NaN for "on the next event". */
  wake_at_s: number;
  /**
   * Sequences whose KV is arriving from another replica that this pass gave blocks to: their
   * transfers may start now (vLLM's connectors pull into blocks the decode side has allocated).
   */
  kv_admitted: Sequence[];
  /**
   * Decode rows in `batch` that belong to no sequence: finished members of a padded static batch,
   * which the GPU still computes. They cost time but produce no token.
   */
  padding_seqs: number;
}

/**
 * A class rather than an object literal: V8 types a literal's object-valued field by the class of
 * its first value only until the literal is evaluated a second time, and a band re-run's scheduler
 * makes the second plan, which then threw away the optimised step code the main run had warmed
 * (engine/doubles.ts has the numeric side of the same cost).
 */
class PlanRecord implements StepPlan {
  scheduled: Sequence[] = objectList();
  lazy_decodes = 0;
  preempted = 0;
  swap_in_blocks = 0;
  swap_out_blocks = 0;
  wake_at_s = NaN;
  kv_admitted: Sequence[] = objectList();
  padding_seqs = 0;
  constructor(public batch: BatchShape) {}
}

export function emptyPlan(batch: BatchShape = emptyBatch()): StepPlan {
  return new PlanRecord(batch);
}

/** Clears a reused plan for the next step: every field, so no policy can leak a value into the next step. */
export function resetPlan(plan: StepPlan): void {
  clearKeepingStorage(plan.scheduled);
  clearKeepingStorage(plan.kv_admitted);
  resetBatch(plan.batch);
  plan.lazy_decodes = 0;
  plan.preempted = 0;
  plan.swap_in_blocks = 0;
  plan.swap_out_blocks = 0;
  plan.wake_at_s = NaN;
  plan.padding_seqs = 0;
}

/** Nothing runs in the step: no sequence scheduled, none in a decode run. */
export function planIsEmpty(plan: StepPlan): boolean {
  return plan.scheduled.length === 0 && (plan.lazy_decodes ?? 0) === 0;
}

export interface SchedulerLimits {
  max_num_seqs: number;
  max_num_batched_tokens: number;
  enable_chunked_prefill: boolean;
  preemption: PreemptionMode;
  scheduling_policy: SchedulingPolicy;
  /** Longest prompt + output a sequence may reach (Orca's `max` reservation without a client max_tokens). */
  max_model_len: number;
  orca_reservation: OrcaReservation;
  /** Request-level batching (static, dynamic). */
  max_batch_size: number;
  batch_timeout_s: number;
  /** Multi-LoRA (engine.lora): the distinct adapters the running requests may hold at once; absent: no LoRA. */
  max_loras?: number;
  /** Speculative decoding (engine.speculative): proposals per step and the acceptance draws; absent: none. */
  speculation?: Speculation;
  /**
   * The policy may advance plain decodes in runs (decodeRuns.ts) where it supports them; only for a
   * replica with one step in flight at a time. Absent: every sequence is stepped one step at a time.
   */
  decode_runs?: boolean;
  /** With `decode_runs`: the running sequences from which runs are kept (they stop below half of it); absent: the policy's choice. */
  decode_runs_from?: number;
  /**
   * With `decode_runs`: a step of the runs alone may be formed without the general pass
   * (`ReplicaScheduler.runsStepNext`, `runsStep`). False: every step takes the pass, with the same outputs.
   */
  decode_run_steps?: boolean;
}

/**
 * A replica's batching policy. It owns the waiting, running (and swapped) queues and asks the
 * block manager for KV space; the replica engine applies the step's results (tokens, completions).
 */
export interface ReplicaScheduler {
  enqueue(seq: Sequence): void;
  /** Form the next step at time `now_s`; an empty `scheduled` means nothing can run now. */
  schedule(now_s: number): StepPlan;
  /**
   * Called after every step is applied (replica step `step`, its tokens stamped `token_time_s`):
   * drop finished sequences (generated = output; their blocks are already freed) from the running
   * set, and start any samples forked from a finished prompt.
   */
  afterStep(token_time_s: number, step: number): void;
  /** Withdraw a sequence that is waiting and was never scheduled (a time-out); false when it is not such. */
  cancelWaiting(seq: Sequence): boolean;
  /**
   * The replica failed: every sequence it holds (waiting, running, swapped, those in a step in
   * flight included) leaves it. Frees their KV (GPU blocks; swapped-out CPU copies) and appends
   * each to `lost` once, in a fixed order, leaving every queue empty. Their progress fields
   * (computed_tokens, scheduled_tokens, generated_tokens, acct) are left as they were: the caller
   * accounts the lost work. Samples not forked yet (`pending_forks`) are the caller's too.
   */
  releaseAll(lost: Sequence[]): void;
  /**
   * The KV of `seq`, admitted with `kv_pending` (a policy with the kv_transfer trait), has landed:
   * it may be scheduled from the next pass on.
   */
  kvArrived?(seq: Sequence): void;
  /**
   * Optional, for a policy that keeps decode runs (decodeRuns.ts). Whether the pass after the step
   * in flight, once that step is applied, would form the same runs and nothing else: the step in
   * flight holds the runs alone, and in the next one none of them ends or has a KV event, nobody
   * waits, and the blocks their boundaries take are free. Reads only.
   */
  runsStepNext?(): boolean;
  /**
   * When `runsStepNext` said so: `afterStep` for the step in flight, replica step `step` (its
   * tokens stamped `token_time_s`), then the step `schedule` would form next, without its pass.
   */
  runsStep?(token_time_s: number, step: number): StepPlan;
  readonly waiting_count: number;
  readonly running_count: number;
  readonly swapped_count: number;
}

/**
 * How a policy runs a request's samples (n, best_of): `separate` sequences that share the prompt
 * only through the prefix cache (vLLM V1's fan-out), or one prompt pass `forked` into samples that
 * share blocks copy-on-write (vLLM V0).
 */
export type SampleMode = 'separate' | 'fork';

/**
 * Engine keys that only some policies read; each policy lists those it accepts (the others are
 * refused). engine.preemption and engine.swap_space_gb follow `preemption.modes` instead.
 */
export type PolicyKey = 'orca_reservation' | 'max_batch_size' | 'batch_timeout_ms';

/**
 * What a policy allows and how it runs, declared so that the setup layer can check a scenario and
 * fill its defaults without knowing the policy by name. Each `refusal` is the sentence a scenario
 * that asks otherwise hears (absent: a generic one naming the policy).
 */
export interface SchedulerTraits {
  /**
   * `paged`: blocks taken as tokens arrive, so it may run short and preempt, and may share cached
   * prefixes; `reserved`: a request's whole KV taken at admission (sized by engine.orca_reservation).
   */
  kv: 'paged' | 'reserved';
  /** Modes engine.preemption may name (none: the policy never preempts and refuses the key) and the default. */
  preemption: { modes: readonly PreemptionMode[]; default: PreemptionMode; refusal?: string };
  /** Chunked prefill: `optional` follows engine.enable_chunked_prefill (default on). */
  chunking: { rule: 'always' | 'never' | 'optional'; refusal?: string };
  /** engine.block_size must be a multiple of `multiple`; `why` says so when it is not. */
  block_size: { multiple: number; why: string };
  /** engine.enable_prefix_caching's default (a paged policy may turn it on). */
  prefix_caching: boolean;
  /** Serves engine.scheduling_policy priority (else FCFS only). */
  priority: boolean;
  /** The keys among `PolicyKey` it reads. */
  keys: readonly PolicyKey[];
  /**
   * Runs a prefill or decode pool: stops a sequence after its prompt pass for a hand-off, and
   * admits one whose KV arrives from another replica (vLLM V1's KV connectors). Absent: false.
   */
  kv_transfer?: boolean;
  /** Verifies proposed tokens (speculative decoding: engine.speculative). Absent: false. */
  speculative?: boolean;
  /**
   * Serves LoRA adapters (engine.lora): a step holds at most max_loras distinct adapters, as
   * vLLM V1's scheduler enforces. Absent: false.
   */
  lora?: boolean;
  /**
   * Runs several steps in flight over pipeline stages (hardware.pipeline_parallel > 1): each pass
   * leaves out the sequences of steps still in flight. Absent: false.
   */
  pipeline?: boolean;
}

/** What the defaults may depend on: the GPU's vLLM default class, the usage context, chunking, the context limit. */
export interface DefaultsContext {
  gpu_class: 'large' | 'small';
  usage: EngineUsage;
  chunked: boolean;
  max_model_len: number;
  /** The vLLM release followed ("0.6", "0.6.5"): defaults changed between releases. */
  vllm_version: string;
}

export interface PolicyDefaults {
  max_num_batched_tokens: number;
  max_num_seqs: number;
  /** For a policy that accepts engine.batch_timeout_ms: its default wait, ms. */
  batch_timeout_ms?: number;
}

/** What checks that need the KV capacity see: the resolved sizes and the samples per request. */
export interface CapacityContext {
  usable_blocks: number;
  block_size: number;
  max_model_len: number;
  max_num_seqs: number;
  workload: Pick<WorkloadSpec, 'n' | 'best_of'>;
}

/**
 * A policy as the registry holds it: how to build one per replica, how it runs samples, its
 * traits and defaults, the engine it reproduces (written into summary.json), and any scenario
 * check that needs the KV capacity (throws an InfersimError).
 */
export interface SchedulerFactory {
  /** The engine.scheduler value that selects it. */
  name: string;
  create(kv: BlockManager, limits: SchedulerLimits): ReplicaScheduler;
  samples: SampleMode;
  traits: SchedulerTraits;
  defaults(ctx: DefaultsContext): PolicyDefaults;
  emulates: string;
  /** The vLLM engine generation it reproduces (none: not vLLM): which releases it exists in. */
  vllm_engine?: 'v0' | 'v1';
  validate?(ctx: CapacityContext): void;
}
