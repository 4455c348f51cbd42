import { clearKeepingStorage, objectList } from '../engine/arrays.js';
import type { BlockManager } from '../kv/blockManager.js';
import { addRunning, addToPlan, cancelWaiting, dropFinished, noteAdmitted, releaseRunning, releaseWaiting, requeueForRecompute } from './commons.js';
import { RunningList } from './runningList.js';
import { emptyPlan, resetPlan, type ReplicaScheduler, type SchedulerFactory, type SchedulerLimits, type StepPlan } from './scheduler.js';
import type { Sequence } from './sequence.js';
import type { Speculation } from './speculation.js';
import { FLASH_ATTENTION_BLOCKS, stepBudget, v1Defaults } from './traits.js';
import { waitQueue, type WaitQueue } from './waitQueue.js';

/**
 * Running sequences from which decode runs are kept (runningList.ts). 4 rather than 16 since the
 * ninth speed session: the Azure trace's replica (~16 sequences a step, often fewer) ran 5 % faster
 * with bands (0.945), the code-completion scenario (~3 a step) within noise (1.01–1.025).
 */
const DECODE_RUNS_FROM = 4;

/**
 * vLLM V1's scheduler (vllm/v1/core/sched/scheduler.py): one token budget per step shared by
 * decodes and prefill chunks. Running requests go first, in list order; a running request that
 * cannot get its blocks preempts (by recompute) the last running request, possibly itself. Under
 * the priority policy the running list is kept in (priority, arrival) order, so its tail is the
 * request V1 picks as victim (lowest priority, latest arrival) and already-scheduled requests are
 * never unscheduled (V1 can do that; here a higher-priority request is never behind one it would evict). Then, only if nothing was preempted, waiting
 * requests are admitted in queue order while the budget, `max_num_seqs` and KV blocks allow; a
 * waiting request that lacks blocks stops admission. With prefix caching, an admitted request
 * starts from its longest cached prefix and prefills only the rest.
 *
 * Under FCFS, without speculation, LoRA limits or pipelining, plain decodes go in decode runs
 * (runningList.ts): a pass then visits only the other running sequences, in list order, when the
 * whole list fits the budget and their blocks fit the pool, which is when visiting every sequence
 * would decide the same; otherwise the runs end and the pass is the one above.
 */
export class VllmV1Scheduler implements ReplicaScheduler {
  private readonly waiting: WaitQueue;
  private readonly running: Sequence[] = objectList();
  /** Admitted with blocks for KV in transfer (vLLM's WAITING_FOR_REMOTE_KVS), oldest first. */
  private readonly receiving: Sequence[] = objectList();
  /** Whose KV has landed: the next passes admit them before the waiting queue. */
  private readonly received: Sequence[] = objectList();
  private readonly plan: StepPlan = emptyPlan();
  /** Waiting requests a pass set aside (an adapter over max_loras), returned to the queue's front after it. */
  private readonly skipped: Sequence[] = objectList();
  /** The running requests' distinct adapters, gathered for a pass that may admit (LoRA only). */
  private readonly adapters = new Set<number>();
  /** With decode runs: the running list's sequences outside runs (absent where this configuration cannot use runs). */
  private readonly list: RunningList | undefined;
  /** With runs: a step of the runs alone may skip the pass (SchedulerLimits.decode_run_steps). */
  private readonly runSteps: boolean;

  constructor(
    private readonly kv: BlockManager,
    private readonly limits: SchedulerLimits,
  ) {
    this.waiting = waitQueue(limits.scheduling_policy);
    const runs = limits.decode_runs === true && limits.scheduling_policy === 'fcfs' && limits.speculation === undefined && limits.max_loras === undefined;
    this.list = runs ? new RunningList(kv, this.running, limits.decode_runs_from ?? DECODE_RUNS_FROM) : undefined;
    this.runSteps = runs && limits.decode_run_steps !== false;
  }

  /** Sequences whose KV is in transfer or landed count as waiting, as vLLM counts them. */
  get waiting_count(): number {
    return this.waiting.size + this.receiving.length + this.received.length;
  }
  get running_count(): number {
    return this.list === undefined ? this.running.length : this.list.live;
  }
  get swapped_count(): number {
    return 0;
  }

  enqueue(seq: Sequence): void {
    this.waiting.push(seq);
  }

  schedule(now_s: number): StepPlan {
    const plan = this.plan;
    resetPlan(plan);
    let budget = this.limits.max_num_batched_tokens;
    const list = this.list;
    const fast = list !== undefined && list.beginPass(budget);
    budget = fast ? list.scheduleEager(plan, budget) : this.scheduleRunning(plan, budget);
    if (plan.preempted === 0) {
      // Only admissions read the running requests' adapters: with nothing to admit, not gathered.
      const admitting = this.waiting.size > 0 || this.received.length > 0;
      const adapters = this.limits.max_loras === undefined || !admitting ? undefined : adaptersOf(this.running, this.adapters);
      budget = this.admitReceived(plan, budget, adapters);
      this.admitWaiting(plan, budget, now_s, adapters);
    }
    list?.endPass(plan, fast);
    return plan;
  }

  runsStepNext(): boolean {
    const list = this.list;
    return list !== undefined && this.runSteps && this.waiting.size === 0 && this.received.length === 0 && list.runsStepNext(this.plan, this.limits.max_num_batched_tokens);
  }

  /** With nobody waiting or received, `afterStep` and `schedule` come down to the running list's (RunningList.runsStep). */
  runsStep(token_time_s: number, step: number): StepPlan {
    const plan = this.plan;
    resetPlan(plan);
    (this.list as RunningList).runsStep(plan, token_time_s, step);
    return plan;
  }

  /** V1's pass over the running list: each in turn takes its tokens and blocks, preempting the list's tail where short. */
  private scheduleRunning(plan: StepPlan, budget: number): number {
    const running = this.running;
    let i = 0;
    while (i < running.length && budget > 0) {
      const seq = running[i];
      if (seq.in_step) {
        // Pipelined: its step is still in flight; its next one forms after that completes.
        i++;
        continue;
      }
      const drafts = this.draftsFor(seq, budget);
      const n = Math.min(seq.known_tokens - seq.computed_tokens, budget) + drafts;
      let scheduled = true;
      while (!this.kv.allocateSlots(seq, seq.computed_tokens + n)) {
        const victim = takeVictim(running);
        this.preempt(victim);
        plan.preempted++;
        if (victim === seq) {
          scheduled = false;
          break;
        }
      }
      if (!scheduled) break;
      if (drafts > 0) {
        seq.draft_tokens = drafts;
        seq.accepted_drafts = (this.limits.speculation as Speculation).draw(drafts);
      }
      addToPlan(plan, seq, n);
      budget -= n;
      i++;
    }
    return budget;
  }

  /** Admits `seq` to the running list: its end (FCFS), or its place by priority. */
  private join(seq: Sequence): void {
    addRunning(this.running, seq, this.limits.scheduling_policy);
    this.list?.joined(seq);
  }

  /**
   * Admits waiting requests in queue order while the budget, `max_num_seqs` and KV blocks allow.
   * With LoRA, a request whose adapter would exceed max_loras distinct adapters among the running
   * requests is passed over and stays at its place in the queue (vLLM V1 sets such requests aside
   * and puts them back in front); the next ones may still be admitted.
   */
  private admitWaiting(plan: StepPlan, budget: number, now_s: number, adapters: Set<number> | undefined): void {
    const kv = this.kv;
    const skipped = this.skipped;
    while (this.waiting.size > 0 && budget > 0 && this.running_count < this.limits.max_num_seqs) {
      const seq = this.waiting.peek() as Sequence;
      if (seq.kv_pending) {
        if (!this.receiveBlocks(seq)) break;
        plan.kv_admitted.push(seq);
        continue;
      }
      if (!this.adapterFits(seq, adapters)) {
        skipped.push(this.waiting.pop() as Sequence);
        continue;
      }
      const hit = kv.lookupPrefix(seq, seq.known_tokens);
      const remaining = seq.known_tokens - hit;
      if (!this.limits.enable_chunked_prefill && remaining > budget) break;
      const n = Math.min(remaining, budget);
      if (!kv.allocateSlots(seq, hit + n, true)) break;
      this.waiting.pop();
      this.join(seq);
      noteAdmitted(seq, now_s, hit);
      addToPlan(plan, seq, n);
      budget -= n;
      if (seq.request.adapter !== undefined) adapters?.add(seq.request.adapter);
    }
    for (let k = skipped.length - 1; k >= 0; k--) this.waiting.pushFront(skipped[k]);
    // Almost always empty (LoRA only): `length = 0` is a runtime call even then, ~1.5 % of a run at one pass a step.
    clearKeepingStorage(skipped);
  }

  /** Whether `seq` may join the running requests without their distinct adapters passing max_loras (no LoRA: always). */
  private adapterFits(seq: Sequence, adapters: Set<number> | undefined): boolean {
    const adapter = seq.request.adapter;
    return adapters === undefined || adapter === undefined || adapters.has(adapter) || adapters.size < (this.limits.max_loras as number);
  }

  /**
   * Blocks for a sequence whose KV will arrive: the cached prefix is taken from this pool's cache,
   * the rest allocated for the transfer to fill. Takes no budget and no seat in the batch (it runs
   * nothing yet); a sequence that does not fit stops admission, as a waiting prompt does.
   */
  private receiveBlocks(seq: Sequence): boolean {
    const kv = this.kv;
    const hit = kv.lookupPrefix(seq, seq.known_tokens);
    // With the next token's slot: a received sequence can always take its first decode step, so
    // blocks held by sequences waiting to run can never stall a replica that runs nothing.
    if (!kv.receive(seq, true, seq.known_tokens)) return false;
    this.waiting.pop();
    seq.acct.kv_transfer_tokens = seq.computed_tokens - hit;
    this.receiving.push(seq);
    return true;
  }

  /**
   * Landed KV: each sequence decodes its next token, while budget, seats and blocks allow; with
   * LoRA, one whose adapter has no slot is passed over and keeps its place (vLLM checks max_loras
   * once a request's remote KV is ready, as for any waiting request).
   */
  private admitReceived(plan: StepPlan, budget: number, adapters: Set<number> | undefined): number {
    const received = this.received;
    let kept = 0;
    let k = 0;
    for (; k < received.length && budget > 0 && this.running_count < this.limits.max_num_seqs; k++) {
      const seq = received[k];
      if (!this.adapterFits(seq, adapters)) {
        received[kept++] = seq;
        continue;
      }
      const n = seq.known_tokens - seq.computed_tokens;
      if (n > budget || !this.kv.allocateSlots(seq, seq.computed_tokens + n)) break;
      this.join(seq);
      addToPlan(plan, seq, n);
      if (seq.request.adapter !== undefined) adapters?.add(seq.request.adapter);
      budget -= n;
    }
    if (k > kept) received.splice(kept, k - kept);
    return budget;
  }

  kvArrived(seq: Sequence): void {
    const at = this.receiving.indexOf(seq);
    if (at < 0 || !seq.kv_pending) throw new Error(`request ${seq.id}: KV landed for a sequence that was not receiving`);
    this.receiving.splice(at, 1);
    this.kv.landed(seq);
    seq.kv_pending = false;
    this.received.push(seq);
  }

  /**
   * Speculative decoding: the tokens a decoding sequence proposes this step. They count against
   * the token budget (vLLM V1 trims them to fit), and none past its last output token.
   */
  private draftsFor(seq: Sequence, budget: number): number {
    const spec = this.limits.speculation;
    if (spec === undefined || seq.in_prefill || seq.known_tokens - seq.computed_tokens !== 1) return 0;
    return Math.max(0, Math.min(spec.k, seq.output_tokens - seq.generated_tokens - 1, budget - 1));
  }

  cancelWaiting(seq: Sequence): boolean {
    return cancelWaiting(this.waiting, seq);
  }

  afterStep(token_time_s: number, step: number): void {
    if (this.list === undefined) dropFinished(this.running);
    else this.list.stepApplied(this.plan.scheduled, token_time_s, step);
  }

  releaseAll(lost: Sequence[]): void {
    this.list?.release();
    releaseRunning(this.kv, this.running, lost);
    releaseRunning(this.kv, this.received, lost);
    releaseRunning(this.kv, this.receiving, lost);
    releaseWaiting(this.kv, () => this.waiting.pop(), lost);
  }

  /** Recompute preemption: drop the KV, keep the streamed tokens, re-prefill prompt + output later. */
  private preempt(seq: Sequence): void {
    seq.acct.preemptions++;
    requeueForRecompute(this.kv, seq, this.waiting);
  }
}

/** The distinct LoRA adapters of the running requests (those in a step in flight included, so no step can exceed max_loras), into `adapters`. */
function adaptersOf(running: readonly Sequence[], adapters: Set<number>): Set<number> {
  adapters.clear();
  for (const seq of running) if (seq.request.adapter !== undefined) adapters.add(seq.request.adapter);
  return adapters;
}

/**
 * The running request V1 preempts: the last in the list, passing over those in a step still in
 * flight (pipelined replicas), whose KV that step is writing. The caller's own sequence, not in
 * flight, is always found.
 */
function takeVictim(running: Sequence[]): Sequence {
  let j = running.length - 1;
  while (running[j].in_step) j--;
  if (j === running.length - 1) return running.pop() as Sequence;
  return running.splice(j, 1)[0];
}

export const VLLM_V1: SchedulerFactory = {
  name: 'vllm',
  create: (kv, limits) => new VllmV1Scheduler(kv, limits),
  samples: 'separate',
  traits: {
    kv: 'paged',
    preemption: {
      modes: ['recompute'],
      default: 'recompute',
      refusal: 'the vllm (V1) scheduler only preempts by recompute; use recompute, or engine.scheduler vllm-v0 or sarathi for swap',
    },
    chunking: { rule: 'optional' },
    block_size: FLASH_ATTENTION_BLOCKS,
    prefix_caching: true,
    priority: true,
    keys: [],
    kv_transfer: true,
    speculative: true,
    pipeline: true,
    lora: true,
  },
  defaults: (ctx) => stepBudget(v1Defaults(ctx.gpu_class, ctx.usage, ctx.vllm_version), ctx),
  vllm_engine: 'v1',
  emulates: 'vLLM V1 engine (v0.11-class): chunked prefill, recompute preemption, prefix caching, CUDA graphs',
};
