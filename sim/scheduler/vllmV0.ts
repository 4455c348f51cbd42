import { Deque } from '../engine/deque.js';
import type { BlockManager } from '../kv/blockManager.js';
import { addDecode, addPrefillChunk, emptyBatch, resetBatch } from '../latency/batch.js';
import { forkSamples } from './fork.js';
import { emptyPlan, type ReplicaScheduler, type SchedulerFactory, type SchedulerLimits, type StepPlan } from './scheduler.js';
import type { Sequence } from './sequence.js';
import { insertByPriority, waitQueue, type WaitQueue } from './waitQueue.js';

/** vLLM V0 keeps 1 % of the GPU blocks free at admission and swap-in (`watermark=0.01`, vllm/core/block_manager.py). */
export const V0_WATERMARK = 0.01;

/**
 * How a step is formed. `prefill-first` is vLLM V0's default scheduler: a step is prefill-only
 * (whole prompts) whenever a waiting prompt is admissible, else it decodes every running
 * sequence. `stall-free` is Sarathi-Serve's batching (V0's chunked-prefill scheduler): decodes
 * first, then chunks of prompts already in flight, then swapped-in sequences, then new prompts,
 * all inside one token budget, so a long prompt never stalls the decodes.
 */
export type V0StepPolicy = 'prefill-first' | 'stall-free';

/**
 * vLLM V0's scheduler family (vllm/core/scheduler.py): waiting, running and swapped queues; KV
 * blocks for a whole prompt (or chunk) taken at scheduling with a 1 % watermark at admission;
 * preemption of the last running sequence by recompute, or by swap to the CPU pool (`auto`:
 * swap for sequences of a multi-sample request, as V0 does; a full CPU pool falls back to
 * recompute). The prefill-first policy admits nothing while anything is swapped out. Samples (n, best_of) fork
 * copy-on-write from the prompt pass.
 */
export class VllmV0Scheduler implements ReplicaScheduler {
  private readonly waiting: WaitQueue;
  private running: Sequence[] = [];
  private readonly swapped = new Deque<Sequence>();
  private readonly plan: StepPlan = emptyPlan(emptyBatch());
  private readonly watermark_blocks: number;
  private readonly chunked: boolean;

  constructor(
    private readonly kv: BlockManager,
    private readonly limits: SchedulerLimits,
    private readonly policy: V0StepPolicy,
  ) {
    this.waiting = waitQueue(limits.scheduling_policy);
    this.watermark_blocks = Math.floor(V0_WATERMARK * kv.total_blocks);
    this.chunked = policy === 'stall-free';
  }

  get waiting_count(): number {
    return this.waiting.size;
  }
  get running_count(): number {
    return this.running.length;
  }
  get swapped_count(): number {
    return this.swapped.size;
  }

  enqueue(seq: Sequence): void {
    this.waiting.push(seq);
  }

  cancelWaiting(seq: Sequence): boolean {
    return Number.isNaN(seq.first_scheduled_s) && this.waiting.remove(seq);
  }

  schedule(now_s: number): StepPlan {
    const plan = this.plan;
    plan.scheduled.length = 0;
    plan.preempted = 0;
    plan.swap_in_blocks = 0;
    plan.swap_out_blocks = 0;
    resetBatch(plan.batch);
    const budget = { tokens: this.limits.max_num_batched_tokens };
    if (this.policy === 'prefill-first') {
      if (this.swapped.size === 0) this.admitWaiting(now_s, budget);
      if (plan.scheduled.length === 0) {
        this.scheduleRunning(budget, false);
        if (plan.preempted === 0) this.swapIn(budget);
      }
    } else {
      // V0's chunked-prefill path (vllm/core/scheduler.py `_schedule_chunked_prefill`) admits new
      // prompts even while sequences are swapped out, after the swap-ins.
      this.scheduleRunning(budget, true);
      if (plan.preempted === 0) this.swapIn(budget);
      this.admitWaiting(now_s, budget);
    }
    return plan;
  }

  afterStep(): void {
    const running = this.running;
    let kept = 0;
    let forked: Sequence[] | undefined;
    for (let i = 0; i < running.length; i++) {
      const seq = running[i];
      if (seq.generated_tokens >= seq.output_tokens) continue;
      running[kept++] = seq;
      if (seq.pending_forks > 0 && seq.generated_tokens > 0) (forked ??= []).push(...forkSamples(seq, this.kv));
    }
    running.length = kept;
    if (forked !== undefined) for (const child of forked) this.addRunning(child);
  }

  /** Seats taken: running sequences plus the samples their prompt passes will fork. */
  private seatsTaken(): number {
    let seats = this.running.length;
    for (const seq of this.running) seats += seq.pending_forks;
    return seats;
  }

  /** New prompts in queue order while the budget, `max_num_seqs` and the watermark allow. */
  private admitWaiting(now_s: number, budget: { tokens: number }): void {
    const kv = this.kv;
    let seats = this.seatsTaken();
    while (this.waiting.size > 0 && budget.tokens > 0) {
      const seq = this.waiting.peek() as Sequence;
      // V0 counts every sample of a request against max_num_seqs at admission.
      if (seats + 1 + seq.pending_forks > this.limits.max_num_seqs) break;
      const hit = kv.lookupPrefix(seq, seq.known_tokens);
      const remaining = seq.known_tokens - hit;
      if (!this.chunked && remaining > budget.tokens) break;
      const n = Math.min(remaining, budget.tokens);
      // V0 allocates the whole prompt's blocks at admission, even when it runs in chunks.
      const needed = kv.blocksFor(seq.known_tokens) - seq.kv_blocks;
      if (kv.free_blocks - needed < this.watermark_blocks) break;
      if (!kv.allocateSlots(seq, seq.known_tokens, true, hit + n)) break;
      this.waiting.pop();
      this.addRunning(seq);
      seats += 1 + seq.pending_forks;
      if (Number.isNaN(seq.first_scheduled_s)) {
        seq.first_scheduled_s = now_s;
        seq.cached_tokens = hit;
      }
      if (hit > 0) seq.coverWithoutCompute(hit);
      this.add(seq, n);
      budget.tokens -= n;
    }
  }

  /**
   * Running sequences: decodes (and, when chunking, the next chunk of prompts in flight). A
   * sequence that cannot get its slots preempts the last running sequence, possibly itself.
   */
  private scheduleRunning(budget: { tokens: number }, chunked: boolean): void {
    const running = this.running;
    // Stall-free: every decode before any prefill chunk; prefill-first has no chunks in flight.
    for (let pass = 0; pass < (chunked ? 2 : 1); pass++) {
      let i = 0;
      while (i < running.length && budget.tokens > 0) {
        const seq = running[i];
        if (seq.scheduled_tokens > 0 || (chunked && seq.in_prefill !== (pass === 1))) {
          i++;
          continue;
        }
        const n = Math.min(seq.known_tokens - seq.computed_tokens, budget.tokens);
        let scheduled = true;
        while (!this.kv.allocateSlots(seq, seq.computed_tokens + n)) {
          const victim = running.pop() as Sequence;
          this.preempt(victim);
          if (victim === seq) {
            scheduled = false;
            break;
          }
        }
        if (!scheduled) return;
        this.add(seq, n);
        budget.tokens -= n;
        i++;
      }
    }
  }

  /** Swapped-out sequences come back in order while blocks (above the watermark), budget and seats allow. */
  private swapIn(budget: { tokens: number }): void {
    const kv = this.kv;
    let seats = this.seatsTaken();
    while (this.swapped.size > 0 && budget.tokens > 0 && seats < this.limits.max_num_seqs) {
      const seq = this.swapped.peekFront() as Sequence;
      const blocks = seq.swapped_blocks;
      const extra = kv.blocksFor(seq.computed_tokens + 1) - kv.blocksFor(seq.computed_tokens);
      if (kv.free_blocks - blocks - extra < this.watermark_blocks) break;
      this.swapped.popFront();
      if (!kv.swapIn(seq) || !kv.allocateSlots(seq, seq.computed_tokens + 1)) throw new Error(`swap-in of request ${seq.id} failed after the capacity check`);
      this.plan.swap_in_blocks += blocks;
      this.addRunning(seq);
      seats++;
      const n = Math.min(seq.known_tokens - seq.computed_tokens, budget.tokens);
      this.add(seq, n);
      budget.tokens -= n;
    }
  }

  private addRunning(seq: Sequence): void {
    if (this.limits.scheduling_policy === 'priority') insertByPriority(this.running, seq);
    else this.running.push(seq);
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

  private preempt(seq: Sequence): void {
    this.plan.preempted++;
    seq.preemptions++;
    const mode = this.limits.preemption;
    const swap = mode === 'swap' || (mode === 'auto' && seq.group !== undefined);
    // A sequence whose prompt pass is unfinished has nothing worth swapping; recompute it.
    if (swap && !seq.in_prefill) {
      const blocks = seq.kv_blocks;
      if (this.kv.swapOut(seq)) {
        this.plan.swap_out_blocks += blocks;
        this.swapped.pushBack(seq);
        return;
      }
    }
    this.kv.free(seq, true);
    seq.discarded_tokens += seq.computed_tokens;
    seq.computed_tokens = 0;
    seq.prefill_end = seq.known_tokens;
    this.waiting.pushFront(seq);
  }
}

export const VLLM_V0: SchedulerFactory = { create: (kv, limits) => new VllmV0Scheduler(kv, limits, 'prefill-first'), samples: 'fork' };
export const SARATHI: SchedulerFactory = { create: (kv, limits) => new VllmV0Scheduler(kv, limits, 'stall-free'), samples: 'fork' };
