import { Deque } from '../engine/deque.js';
import type { BlockManager } from '../kv/blockManager.js';
import { addDecode, addPrefillChunk } from '../latency/batch.js';
import { cancelWaiting, dropFinished, releaseRunning, releaseWaiting } from './commons.js';
import { emptyPlan, resetPlan, type ReplicaScheduler, type SchedulerLimits, type StepPlan } from './scheduler.js';
import type { Sequence } from './sequence.js';

/** The smallest power of two ≥ n (1 for n ≤ 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * KV tokens reserved for `seq` at admission by the policies that reserve up front (Orca, static,
 * dynamic), per `limits.orca_reservation`:
 * - `max`: prompt + the client's max_tokens, else max_model_len (what a real server must assume);
 * - `pow2`: prompt + the smallest power of two ≥ the output length, capped at `max`;
 * - `oracle`: prompt + the exact output length (knows the future: a bound no real reservation beats).
 * Every rule covers the prompt + output − 1 tokens a sequence ever holds, because the engine rejects
 * prompt + output > max_model_len upstream and the workload cuts output to max_tokens.
 */
export function reservedTokens(seq: Sequence, limits: SchedulerLimits): number {
  const max = seq.maxTotalTokens(limits.max_model_len);
  switch (limits.orca_reservation) {
    case 'max':
      return max;
    case 'pow2':
      return Math.min(max, seq.prompt_tokens + nextPowerOfTwo(seq.output_tokens));
    case 'oracle':
      return seq.prompt_tokens + seq.output_tokens;
  }
}

/** Schedules `seq`'s whole remaining prompt (no chunking) in `plan`. */
export function addWholePrompt(plan: StepPlan, seq: Sequence, now_s: number): number {
  const n = seq.known_tokens - seq.computed_tokens;
  seq.scheduled_tokens = n;
  seq.notePrefillChunk(n);
  if (Number.isNaN(seq.first_scheduled_s)) seq.first_scheduled_s = now_s;
  addPrefillChunk(plan.batch, n, seq.computed_tokens, true);
  plan.scheduled.push(seq);
  return n;
}

/**
 * Schedules one decode token for `seq`. Its blocks were reserved at admission, so growing to the
 * new context is a no-op; a failure means a reservation smaller than the sequence, a broken invariant.
 */
export function addDecodeToken(plan: StepPlan, kv: BlockManager, seq: Sequence): void {
  const context = seq.computed_tokens + 1;
  if (!kv.allocateSlots(seq, context)) {
    throw new Error(`KV reservation of request ${seq.id} (${seq.kv.block_count} blocks) is short of its ${context}-token context`);
  }
  seq.scheduled_tokens = 1;
  addDecode(plan.batch, context);
  plan.scheduled.push(seq);
}

/**
 * Request-level batching (static, dynamic): while a batch runs, nothing joins it; every step
 * decodes its unfinished members until the last one finishes. A finished member's row is padding
 * that the GPU still computes, as in FasterTransformer's fixed batch: it costs a decode row whose
 * context keeps growing, and emits nothing (its KV blocks are released at once, which changes
 * nothing since no request can join the batch). Prompts run unpadded (FasterTransformer's
 * "remove padding" mode). Then, when `readyToDispatch` allows, the next batch
 * takes up to `max_batch_size` waiting requests FCFS whose KV reservation (`reservedTokens`,
 * the `orca_reservation` rule) fits; the first that does not fit ends the batch (no skipping).
 * The whole batch prefills its whole prompts in one step, with no token budget. Priorities are
 * ignored (FCFS), nothing is preempted, nothing is swapped.
 */
export abstract class RequestLevelScheduler implements ReplicaScheduler {
  protected readonly waiting = new Deque<Sequence>();
  private readonly running: Sequence[] = [];
  /** Context lengths of the padding rows: finished members of the running batch. */
  private readonly padding: number[] = [];
  private readonly plan: StepPlan = emptyPlan();
  /** A member that finished stays in the batch as a padding row of its context length. */
  private readonly keepPadding = (seq: Sequence): void => {
    this.padding.push(seq.computed_tokens);
  };

  constructor(
    private readonly kv: BlockManager,
    protected readonly limits: SchedulerLimits,
  ) {}

  get waiting_count(): number {
    return this.waiting.size;
  }
  get running_count(): number {
    return this.running.length;
  }
  get swapped_count(): number {
    return 0;
  }

  enqueue(seq: Sequence): void {
    this.waiting.pushBack(seq);
  }

  /**
   * Whether an idle replica dispatches the waiting requests now; when not, it sets
   * `plan.wake_at_s` to the time it wants to be asked again.
   */
  protected abstract readyToDispatch(now_s: number, plan: StepPlan): boolean;

  /** Called for each request taken from the front of the waiting queue into a batch. */
  protected onDispatch(): void {}

  schedule(now_s: number): StepPlan {
    const plan = this.plan;
    resetPlan(plan);
    const running = this.running;

    if (running.length > 0) {
      for (let i = 0; i < running.length; i++) addDecodeToken(plan, this.kv, running[i]);
      const padding = this.padding;
      for (let i = 0; i < padding.length; i++) addDecode(plan.batch, ++padding[i]);
      plan.padding_seqs = padding.length;
      return plan;
    }
    this.padding.length = 0;
    if (this.waiting.size === 0 || !this.readyToDispatch(now_s, plan)) return plan;
    while (this.waiting.size > 0 && running.length < this.limits.max_batch_size) {
      const seq = this.waiting.peekFront() as Sequence;
      if (!this.kv.reserve(seq, reservedTokens(seq, this.limits), seq.known_tokens)) break;
      this.waiting.popFront();
      this.onDispatch();
      running.push(seq);
      addWholePrompt(plan, seq, now_s);
    }
    return plan;
  }

  afterStep(): void {
    dropFinished(this.running, this.keepPadding);
  }

  cancelWaiting(seq: Sequence): boolean {
    return cancelWaiting(this.waiting, seq);
  }

  /** The padding rows go too: they belong to the batch that failed, whose finished members already left. */
  releaseAll(lost: Sequence[]): void {
    releaseRunning(this.kv, this.running, lost);
    this.padding.length = 0;
    releaseWaiting(this.kv, () => this.waiting.popFront(), lost);
  }
}
