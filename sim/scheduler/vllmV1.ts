import { Deque } from '../engine/deque.js';
import type { BlockManager } from '../kv/blockManager.js';
import { addDecode, addPrefillChunk, emptyBatch, resetBatch } from '../latency/batch.js';
import { emptyPlan, type ReplicaScheduler, type SchedulerLimits, type StepPlan } from './scheduler.js';
import type { Sequence } from './sequence.js';

/**
 * vLLM V1's scheduler (vllm/v1/core/sched/scheduler.py): one token budget per step shared by
 * decodes and prefill chunks. Running requests go first, in list order; a running request that
 * cannot get its blocks preempts the tail of the running list (possibly itself) by recompute.
 * Then, only if nothing was preempted, waiting requests are admitted FCFS while the budget,
 * `max_num_seqs` and KV blocks allow; a waiting request that lacks blocks stops admission.
 */
export class VllmV1Scheduler implements ReplicaScheduler {
  private readonly waiting = new Deque<Sequence>();
  private running: Sequence[] = [];
  private readonly plan: StepPlan = emptyPlan(emptyBatch());

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
    plan.scheduled.length = 0;
    plan.preempted = 0;
    resetBatch(plan.batch);
    let budget = this.limits.max_num_batched_tokens;

    const running = this.running;
    let i = 0;
    while (i < running.length && budget > 0) {
      const seq = running[i];
      const n = Math.min(seq.known_tokens - seq.computed_tokens, budget);
      let scheduled = true;
      while (!this.kv.allocateSlots(seq, seq.computed_tokens + n)) {
        const victim = running.pop() as Sequence;
        this.preempt(victim);
        plan.preempted++;
        if (victim === seq) {
          scheduled = false;
          break;
        }
      }
      if (!scheduled) break;
      this.add(seq, n);
      budget -= n;
      i++;
    }

    if (plan.preempted === 0) {
      while (this.waiting.size > 0 && budget > 0 && running.length < this.limits.max_num_seqs) {
        const seq = this.waiting.peekFront() as Sequence;
        const remaining = seq.known_tokens - seq.computed_tokens;
        if (!this.limits.enable_chunked_prefill && remaining > budget) break;
        const n = Math.min(remaining, budget);
        if (!this.kv.allocateSlots(seq, seq.computed_tokens + n)) break;
        this.waiting.popFront();
        running.push(seq);
        if (Number.isNaN(seq.first_scheduled_s)) seq.first_scheduled_s = now_s;
        this.add(seq, n);
        budget -= n;
      }
    }
    return plan;
  }

  cancelWaiting(seq: Sequence): boolean {
    return Number.isNaN(seq.first_scheduled_s) && this.waiting.remove(seq);
  }

  afterStep(): void {
    let kept = 0;
    const running = this.running;
    for (let i = 0; i < running.length; i++) {
      const seq = running[i];
      if (seq.generated_tokens < seq.output_tokens) running[kept++] = seq;
    }
    running.length = kept;
  }

  private add(seq: Sequence, n: number): void {
    seq.scheduled_tokens = n;
    this.plan.scheduled.push(seq);
    if (seq.in_prefill) {
      seq.notePrefillChunk(n);
      addPrefillChunk(this.plan.batch, n, seq.computed_tokens, seq.computed_tokens + n === seq.known_tokens);
    } else {
      addDecode(this.plan.batch, seq.computed_tokens + 1);
    }
  }

  /** Recompute preemption: drop the KV, keep the streamed tokens, re-prefill prompt + output later. */
  private preempt(seq: Sequence): void {
    this.kv.free(seq);
    seq.discarded_tokens += seq.computed_tokens;
    seq.computed_tokens = 0;
    seq.prefill_end = seq.known_tokens;
    seq.preemptions++;
    this.waiting.pushFront(seq);
  }
}
