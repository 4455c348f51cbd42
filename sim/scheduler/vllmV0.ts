import { Deque } from '../engine/deque.js';
import { fieldError, InfersimError } from '../errors.js';
import type { BlockManager } from '../kv/blockManager.js';
import { distinctBlocks } from '../kv/kvState.js';
import { addRunning, addToPlan, cancelWaiting, dropFinished, noteAdmitted, releaseRunning, releaseWaiting, requeueForRecompute } from './commons.js';
import { forkSamples } from './fork.js';
import { emptyPlan, resetPlan, type ReplicaScheduler, type CapacityContext, type SchedulerFactory, type SchedulerLimits, type StepPlan } from './scheduler.js';
import type { Sequence } from './sequence.js';
import { FLASH_ATTENTION_BLOCKS, stepBudget, v0ChunkedBudget, V0_DEFAULTS } from './traits.js';
import { waitQueue, type WaitQueue } from './waitQueue.js';

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

interface Budget {
  tokens: number;
}

/**
 * vLLM V0's scheduler family (vllm/core/scheduler.py): waiting, running and swapped queues; KV
 * blocks for a whole prompt taken at admission with a 1 % watermark. A request is the unit of
 * scheduling and preemption, as V0's sequence group is: its running samples decode together,
 * and when blocks run short the last running request is preempted whole, by recompute, or by
 * swap to the CPU pool (`auto`: swap while more than one of its samples runs, as V0 does; a full
 * CPU pool falls back to recompute). A swapped request keeps its samples' shared blocks shared.
 * Samples (n, best_of) fork copy-on-write from the prompt pass and sit next to their parent in
 * the running list. Under the priority policy, prefill-first preempts lower-priority requests
 * for a higher-priority prompt that cannot be admitted (V0's `_schedule_priority_preemption`).
 */
export class VllmV0Scheduler implements ReplicaScheduler {
  private readonly waiting: WaitQueue;
  private running: Sequence[] = [];
  /** Requests swapped out, each as the samples swapped out together. */
  private readonly swapped = new Deque<Sequence[]>();
  private swappedSequences = 0;
  private readonly plan: StepPlan = emptyPlan();
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
    return this.swappedSequences;
  }

  enqueue(seq: Sequence): void {
    this.waiting.push(seq);
  }

  cancelWaiting(seq: Sequence): boolean {
    return cancelWaiting(this.waiting, seq);
  }

  schedule(now_s: number): StepPlan {
    const plan = this.plan;
    resetPlan(plan);
    const budget: Budget = { tokens: this.limits.max_num_batched_tokens };
    if (this.policy === 'prefill-first') {
      if (this.swapped.size === 0) this.admitWaiting(now_s, budget);
      if (plan.scheduled.length === 0) {
        if (this.limits.scheduling_policy === 'priority') this.preemptForPriority(budget);
        this.scheduleRunning(budget, false);
        if (plan.preempted === 0) this.swapIn(budget);
      }
    } else {
      // V0's chunked-prefill path (vllm/core/scheduler.py `_schedule_chunked_prefill`) admits new
      // prompts even while requests are swapped out, after the swap-ins.
      this.scheduleRunning(budget, true);
      if (plan.preempted === 0) this.swapIn(budget);
      this.admitWaiting(now_s, budget);
    }
    return plan;
  }

  afterStep(): void {
    if (!dropFinished(this.running)) return;
    // Forked samples sit right after their parent: a request's samples stay together.
    const withForks: Sequence[] = [];
    for (const seq of this.running) {
      withForks.push(seq);
      if (seq.pending_forks > 0 && seq.generated_tokens > 0) withForks.push(...forkSamples(seq, this.kv));
    }
    this.running = withForks;
  }

  /**
   * Running sequences first (forked samples share blocks copy-on-write: each frees its own
   * references), then swapped requests in queue order, each group's CPU copy dropped once, then
   * the waiting queue.
   */
  releaseAll(lost: Sequence[]): void {
    releaseRunning(this.kv, this.running, lost);
    for (let unit = this.swapped.popFront(); unit !== undefined; unit = this.swapped.popFront()) {
      this.kv.dropSwapped(unit);
      for (const m of unit) lost.push(m);
    }
    this.swappedSequences = 0;
    releaseWaiting(this.kv, () => this.waiting.pop(), lost);
  }

  /** Seats taken: running sequences plus the samples their prompt passes will fork. */
  private seatsTaken(): number {
    let seats = this.running.length;
    for (const seq of this.running) seats += seq.pending_forks;
    return seats;
  }

  /** New prompts in queue order while the budget, `max_num_seqs` and the watermark allow. */
  private admitWaiting(now_s: number, budget: Budget): void {
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
      const needed = kv.blocksFor(seq.known_tokens) - seq.kv.block_count;
      if (kv.free_blocks - needed < this.watermark_blocks) break;
      if (!kv.allocateSlots(seq, seq.known_tokens, true, hit + n)) break;
      this.waiting.pop();
      addRunning(this.running, seq, this.limits.scheduling_policy);
      seats += 1 + seq.pending_forks;
      noteAdmitted(seq, now_s, hit);
      addToPlan(this.plan, seq, n);
      budget.tokens -= n;
    }
  }

  /**
   * Running requests, in list order: decodes (and, when chunking, then the next chunk of prompts
   * in flight). A request's running samples are scheduled together; when the blocks they need
   * are short, the last running request is preempted whole, possibly this one.
   */
  private scheduleRunning(budget: Budget, chunked: boolean): void {
    const running = this.running;
    const kv = this.kv;
    // Stall-free: every decode before any prefill chunk. A chunk's blocks were taken at
    // admission, so the chunk pass never preempts (and never evicts a request scheduled in pass 0).
    for (let pass = 0; pass < (chunked ? 2 : 1); pass++) {
      let i = 0;
      while (i < running.length && budget.tokens > 0) {
        const seq = running[i];
        if (seq.scheduled_tokens > 0 || (chunked && seq.in_prefill !== (pass === 1))) {
          i++;
          continue;
        }
        // The unit is running[i, end): the request's samples that move together this step.
        const end = i + this.runningMembers(seq, i);
        let tokens = 0;
        let blocks = 0;
        let starved = false;
        for (let j = i; j < end; j++) {
          const m = running[j];
          const n = Math.min(m.known_tokens - m.computed_tokens, budget.tokens - tokens);
          if (n <= 0) starved = true;
          tokens += n;
          blocks += kv.growthBlocks(m, m.computed_tokens + n);
        }
        // A request's samples run together or not at all; the next pass may still fit a chunk.
        if (starved) break;
        while (blocks > kv.free_blocks) {
          if (pass === 1) return;
          const victim = this.popVictim();
          this.preempt(victim);
          if (victim.includes(seq)) return;
        }
        for (let j = i; j < end; j++) {
          const m = running[j];
          const n = Math.min(m.known_tokens - m.computed_tokens, budget.tokens);
          if (!kv.allocateSlots(m, m.computed_tokens + n)) throw new Error(`request ${m.id}: blocks short after the capacity check`);
          addToPlan(this.plan, m, n);
          budget.tokens -= n;
        }
        i = end;
      }
    }
  }

  /**
   * How many samples of `seq`'s request (itself included) decode with it this step: those right after it in the
   * running list, unscheduled and decoding (after a recompute fallback a request's samples can be
   * split across phases; a sample in its prompt pass goes on its own).
   */
  private runningMembers(seq: Sequence, at: number): number {
    const group = seq.group;
    // Only decoding samples move together; a prompt pass (or a recomputed sample's re-prefill) goes alone.
    if (group === undefined || seq.in_prefill) return 1;
    let count = 1;
    for (let j = at + 1; j < this.running.length; j++) {
      const m = this.running[j];
      if (m.group !== group || m.scheduled_tokens > 0 || m.in_prefill) break;
      count++;
    }
    return count;
  }

  /** Takes the last running request (its samples at the end of the running list) off the list. */
  private popVictim(): Sequence[] {
    const running = this.running;
    const last = running.pop() as Sequence;
    const victim = [last];
    if (last.group !== undefined) {
      while (running.length > 0 && running[running.length - 1].group === last.group) victim.unshift(running.pop() as Sequence);
    }
    // Requests are scheduled in list order, so the tail was not scheduled in this step yet.
    if (victim.some((m) => m.scheduled_tokens > 0)) throw new Error(`request ${last.id}: preempted after being scheduled in the same step`);
    return victim;
  }

  /** Swapped-out requests come back in order while blocks (above the watermark), budget and seats allow. */
  private swapIn(budget: Budget): void {
    const kv = this.kv;
    let seats = this.seatsTaken();
    while (this.swapped.size > 0) {
      const unit = this.swapped.peekFront() as Sequence[];
      if (seats + unit.length > this.limits.max_num_seqs || unit.length > budget.tokens) break;
      // Its blocks, plus for each sample a block (or a copy of a shared one) for its next token.
      const record = unit[0].kv.swap_record;
      if (record === undefined) throw new Error(`request ${unit[0].id} is in the swapped queue but not swapped out`);
      if (kv.free_blocks - record.blocks - unit.length < this.watermark_blocks) break;
      this.swapped.popFront();
      this.swappedSequences -= unit.length;
      const moved = kv.swapIn(unit);
      if (moved < 0) throw new Error(`swap-in of request ${unit[0].id} failed after the capacity check`);
      this.plan.swap_in_blocks += moved;
      for (const m of unit) {
        if (!kv.allocateSlots(m, m.computed_tokens + 1)) throw new Error(`request ${m.id}: blocks short after swap-in`);
        addRunning(this.running, m, this.limits.scheduling_policy);
        addToPlan(this.plan, m, 1);
        budget.tokens -= 1;
        seats++;
      }
    }
  }

  /**
   * V0's `_schedule_priority_preemption`: while the head of the waiting queue outranks the last
   * running request and cannot be admitted, preempt that request.
   */
  private preemptForPriority(budget: Budget): void {
    const head = this.waiting.peek();
    if (head === undefined) return;
    const kv = this.kv;
    while (this.running.length > 0) {
      const last = this.running[this.running.length - 1];
      if (!(head.priority < last.priority)) return;
      const fits =
        kv.free_blocks - (kv.blocksFor(head.known_tokens) - head.kv.block_count) >= this.watermark_blocks &&
        this.seatsTaken() + 1 + head.pending_forks <= this.limits.max_num_seqs &&
        head.known_tokens - head.computed_tokens <= budget.tokens;
      if (fits) return;
      // Recompute, as V0 puts these victims back in the waiting queue: swapped out, the victim
      // would block admission (nothing is admitted while a request is swapped) and come back in.
      this.preempt(this.popVictim(), 'recompute');
    }
  }

  /** Preempts a request (its running samples) by swap or recompute; counted once per request. */
  private preempt(victim: Sequence[], mode = this.limits.preemption): void {
    this.plan.preempted++;
    victim[0].acct.preemptions++;
    const swap = mode === 'swap' || (mode === 'auto' && victim.length > 1);
    // A request whose prompt pass is unfinished has nothing worth swapping, and one that could
    // never come back (its blocks plus one per sample exceed the pool) would wait forever: both
    // are recomputed instead, sample by sample.
    const returnable = distinctBlocks(victim) + victim.length <= this.kv.total_blocks - this.watermark_blocks;
    if (swap && returnable && !victim.some((m) => m.in_prefill)) {
      const moved = this.kv.swapOut(victim);
      if (moved >= 0) {
        this.plan.swap_out_blocks += moved;
        this.swapped.pushBack(victim);
        this.swappedSequences += victim.length;
        return;
      }
    }
    for (let k = victim.length - 1; k >= 0; k--) requeueForRecompute(this.kv, victim[k], this.waiting);
  }
}

/** V0's scenario checks once the KV capacity is known (`name`: the scheduler, as messages say it). */
function validateV0(name: string, ctx: CapacityContext): void {
  const { usable_blocks, block_size, max_model_len, max_num_seqs, workload } = ctx;
  // V0 keeps a watermark free at admission and refuses a prompt that could never pass it.
  const watermark = Math.floor(V0_WATERMARK * usable_blocks);
  const admissible = (usable_blocks - watermark) * block_size;
  if (admissible < max_model_len) {
    throw new InfersimError(
      `engine.max_model_len: ${max_model_len} tokens exceed what the ${name} scheduler can admit (${admissible} tokens: ` +
        `${usable_blocks} usable blocks less V0's 1 % watermark of ${watermark}, × ${block_size}); lower engine.max_model_len to ≤ ${admissible}`,
    );
  }
  const samples = Math.max(workload.n ?? 1, workload.best_of ?? 1);
  if (samples > max_num_seqs) {
    throw fieldError(
      workload.best_of !== undefined && workload.best_of >= (workload.n ?? 1) ? 'workload.best_of' : 'workload.n',
      `must be ≤ engine.max_num_seqs (${max_num_seqs}): the ${name} scheduler runs every sample of a request at once`,
      samples,
    );
  }
}

/** Only the V0 family swaps (`auto` by default: V0's rule); V1 recomputes, and the reserving schedulers never preempt at all. */
const V0_PREEMPTION = { modes: ['recompute', 'swap', 'auto'], default: 'auto' } as const;

export const VLLM_V0: SchedulerFactory = {
  name: 'vllm-v0',
  create: (kv, limits) => new VllmV0Scheduler(kv, limits, 'prefill-first'),
  samples: 'fork',
  traits: {
    kv: 'paged',
    preemption: V0_PREEMPTION,
    chunking: { rule: 'never' },
    block_size: { multiple: 8, why: '8, 16, 32, … as V0 allowed' },
    prefix_caching: false,
    priority: true,
    keys: [],
  },
  defaults: (ctx) => stepBudget(V0_DEFAULTS, ctx),
  vllm_engine: 'v0',
  emulates:
    'vLLM V0 engine (v0.6-class, default scheduler): prefill-first steps, watermark admission, recompute or swap preemption, copy-on-write samples',
  validate: (ctx) => validateV0('vllm-v0', ctx),
};

export const SARATHI: SchedulerFactory = {
  name: 'sarathi',
  create: (kv, limits) => new VllmV0Scheduler(kv, limits, 'stall-free'),
  samples: 'fork',
  traits: {
    kv: 'paged',
    preemption: V0_PREEMPTION,
    chunking: {
      rule: 'always',
      refusal: 'the sarathi scheduler always chunks prompts (that is its policy); leave it out or use vllm-v0 for whole prompts',
    },
    block_size: FLASH_ATTENTION_BLOCKS,
    prefix_caching: false,
    priority: true,
    keys: [],
  },
  defaults: (ctx) => stepBudget(V0_DEFAULTS, ctx, v0ChunkedBudget(ctx.vllm_version)),
  vllm_engine: 'v0',
  emulates: 'Sarathi-Serve stall-free batching (vLLM V0 chunked-prefill scheduler): decodes first, then prefill chunks in one token budget',
  validate: (ctx) => validateV0('sarathi', ctx),
};
