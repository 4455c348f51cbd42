import { Deque } from '../engine/deque.js';
import type { BlockManager } from '../kv/blockManager.js';
import { cancelWaiting, dropFinished, releaseRunning, releaseWaiting } from './commons.js';
import { addDecodeToken, addWholePrompt, reservedTokens } from './requestLevel.js';
import { emptyPlan, resetPlan, type ReplicaScheduler, type SchedulerFactory, type SchedulerLimits, type StepPlan } from './scheduler.js';
import type { Sequence } from './sequence.js';
import { reservedTraits, stepBudget, V0_DEFAULTS } from './traits.js';

/**
 * Orca (Yu et al., OSDI '22): iteration-level scheduling with selective batching. Every
 * iteration decodes one token of each running request, then admits waiting requests FCFS (the
 * head blocks the queue: no skipping) into the same iteration while
 * - running requests < `max_num_seqs` (Orca's max batch size), and
 * - the iteration's new tokens (one per decode + whole prompts) stay ≤ `max_num_batched_tokens`
 *   (Orca itself has no token budget; this cap stands in for one). The cap never stops a
 *   decode, and a prompt is always admitted into an otherwise empty iteration, so a prompt
 *   longer than the cap runs alone (the head blocks new admissions, so running requests drain
 *   and the iteration does empty: nothing starves), and
 * - the request's whole KV reservation (`reservedTokens`, per `orca_reservation`) can be
 *   allocated now.
 * Prompts are never chunked. Memory is reserved up front, so Orca never preempts or swaps.
 * An empty pool always fits the head (the engine rejects prompt + output > max_model_len and
 * max_model_len fits the pool), so the queue cannot deadlock. Priorities are ignored (FCFS).
 */
export class OrcaScheduler implements ReplicaScheduler {
  private readonly waiting = new Deque<Sequence>();
  private readonly running: Sequence[] = [];
  private readonly plan: StepPlan = emptyPlan();

  constructor(
    private readonly kv: BlockManager,
    private readonly limits: SchedulerLimits,
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

  schedule(now_s: number): StepPlan {
    const plan = this.plan;
    resetPlan(plan);
    const running = this.running;
    for (let i = 0; i < running.length; i++) addDecodeToken(plan, this.kv, running[i]);

    let tokens = running.length;
    while (this.waiting.size > 0 && running.length < this.limits.max_num_seqs) {
      const seq = this.waiting.peekFront() as Sequence;
      const prompt = seq.known_tokens - seq.computed_tokens;
      if (plan.scheduled.length > 0 && tokens + prompt > this.limits.max_num_batched_tokens) break;
      if (!this.kv.reserve(seq, reservedTokens(seq, this.limits), seq.known_tokens)) break;
      this.waiting.popFront();
      running.push(seq);
      tokens += addWholePrompt(plan, seq, now_s);
    }
    return plan;
  }

  afterStep(): void {
    dropFinished(this.running);
  }

  cancelWaiting(seq: Sequence): boolean {
    return cancelWaiting(this.waiting, seq);
  }

  releaseAll(lost: Sequence[]): void {
    releaseRunning(this.kv, this.running, lost);
    releaseWaiting(this.kv, () => this.waiting.popFront(), lost);
  }
}

export const ORCA: SchedulerFactory = {
  name: 'orca',
  create: (kv, limits) => new OrcaScheduler(kv, limits),
  samples: 'separate',
  traits: reservedTraits([]),
  defaults: (ctx) => stepBudget(V0_DEFAULTS, ctx),
  emulates: 'Orca (OSDI 2022): iteration-level scheduling, whole prompts, KV reserved at admission',
};
