import { clearKeepingStorage, objectList } from '../engine/arrays.js';
import type { BlockManager } from '../kv/blockManager.js';
import { addToPlan, hasLeft } from './commons.js';
import { DecodeRuns } from './decodeRuns.js';
import { planIsEmpty, type StepPlan } from './scheduler.js';
import type { Sequence } from './sequence.js';

/**
 * V1's running list when plain decodes go in decode runs (decodeRuns.ts): the sequences not in a
 * run (`eager`: prompts, first decodes, last tokens), kept in list order beside the list itself,
 * so that a pass visits them, and the runs' KV events, alone. Under FCFS a sequence joins the list
 * at its end, so its `run_order` (a count of admissions) orders it.
 */
export class RunningList {
  private readonly runs: DecodeRuns;
  private eager: Sequence[] = objectList();
  private spare: Sequence[] = objectList();
  private readonly ended: Sequence[] = objectList();
  /** Sequences in runs with a KV event in the step being formed, in list order. */
  private readonly events: Sequence[] = objectList();
  private readonly gone: Sequence[] = objectList();
  /**
   * While runs are kept: finished sequences still in the running list, past its last live one
   * never (`dropTail`), removed together (`compact`) once PENDING_MAX gather or before anything
   * walks the list. Removing each at once moved half the list a finish (5 % of the scale scenario).
   */
  private readonly pending: Sequence[] = objectList();
  /** The replica step the next pass forms (steps are numbered as the replica numbers them) and whether it is formed, in flight. */
  private next_step = 0;
  private formed = false;
  /** Runs are kept while the list holds `from` sequences or more, dropped below half of that (see `beginPass`). */
  private active = false;
  private order = 0;

  constructor(
    private readonly kv: BlockManager,
    /** The scheduler's running list, in order; this never reorders it. */
    private readonly running: Sequence[],
    private readonly from: number,
  ) {
    this.runs = new DecodeRuns(kv);
  }

  /**
   * Starts a pass: ends the runs due, then says whether every running sequence gets all it needs
   * (`fitsWhole`), in which case `scheduleEager` forms the running part of the step; else every
   * run has ended, and the caller's full pass over the list decides as V1 does.
   */
  beginPass(budget: number): boolean {
    // A short list gains less from runs than their bookkeeping costs (the code-completion
    // scenario, ~3 decodes a step, once ran 8 % slower with them always on): below half of `from` they stop.
    const n = this.live;
    if (this.active ? 2 * n < this.from : n >= this.from) {
      this.active = !this.active;
      // The eager list is kept only while runs are: rebuilt when they start, every run ended when they stop.
      if (this.active) this.refillEager();
      else this.endAllRuns();
    }
    if (!this.active) return false;
    this.endDueRuns();
    if (this.fitsWhole(budget)) return true;
    this.endAllRuns();
    return false;
  }

  /**
   * Whether the runs' tokens and the others' remaining tokens fit the budget, and the others' new
   * blocks fit the pool. Then V1's pass preempts nobody and, as runs take no blocks, allocates
   * exactly what visiting the others alone, in list order, allocates. The list's last sequence may
   * take what budget is left, as V1 gives it (a prompt chunked over several steps, admitted last).
   */
  private fitsWhole(budget: number): boolean {
    const kv = this.kv;
    const runs = this.runs;
    const eager = this.eager;
    let tokens = runs.count;
    let bound = runs.takesAt(this.next_step);
    for (const seq of this.events) bound += runs.eventBlocks(seq);
    const events = bound;
    for (let i = 0; i < eager.length; i++) {
      const seq = eager[i];
      const n = this.tokensFor(seq, budget - tokens);
      if (n <= 0) return false;
      tokens += n;
      // A holder has blocks for its computed tokens: n more take at most ⌈n/B⌉ blocks, plus a copy-on-write.
      bound += Math.ceil(n / kv.block_size) + 1;
    }
    if (tokens > budget) return false;
    if (bound <= kv.free_blocks) return true;
    let blocks = events;
    tokens = runs.count;
    for (const seq of eager) {
      const n = this.tokensFor(seq, budget - tokens);
      tokens += n;
      blocks += kv.growthBlocks(seq, seq.computed_tokens + n);
    }
    return blocks <= kv.free_blocks;
  }

  /**
   * The tokens `seq` (outside runs) takes when `left` is the budget the sequences before it in the
   * list leave: all it has to compute, but the list's last sequence takes no more than is left.
   */
  private tokensFor(seq: Sequence, left: number): number {
    const n = seq.known_tokens - seq.computed_tokens;
    const running = this.running;
    return seq === running[running.length - 1] && left > 0 ? Math.min(n, left) : n;
  }

  /**
   * The running part of a step that `beginPass` found fits whole: the others, and the KV events of
   * sequences in runs, in list order (allocations take blocks in the order V1's pass would), then
   * the runs' decodes together; returns the budget left.
   */
  scheduleEager(plan: StepPlan, budget: number): number {
    const eager = this.eager;
    const events = this.events;
    const runs = this.runs;
    let e = 0;
    // Every allocation takes from the free queue's front: the runs' blocks may go first.
    runs.takeBlocks(this.next_step);
    for (let i = 0; i < eager.length; i++) {
      const seq = eager[i];
      for (; e < events.length && events[e].run_order < seq.run_order; e++) runs.kvEvent(events[e], this.next_step);
      // Every run lies before the list's last sequence, the only one whose tokens the budget may cut.
      const n = this.tokensFor(seq, budget - runs.count);
      if (!this.kv.allocateSlots(seq, seq.computed_tokens + n)) throw new Error(`request ${seq.id}: KV blocks short after the pass found them enough`);
      addToPlan(plan, seq, n);
      budget -= n;
    }
    for (; e < events.length; e++) runs.kvEvent(events[e], this.next_step);
    if (runs.count > 0) {
      runs.addToBatch(plan.batch, events.length);
      plan.lazy_decodes = runs.count;
    }
    return budget - runs.count;
  }

  /**
   * Whether the pass after the step in flight (`plan`), once it is applied, forms the runs alone
   * (`runsStep` then forms that step): `plan` holds nothing but runs, so nothing finishes or leaves the list, the
   * runs stay kept (`beginPass`), none is due in the next step, and `fitsWhole` holds (no sequence
   * outside the runs, their tokens within `budget`, the blocks they take free). The caller knows
   * nobody waits to be admitted.
   */
  runsStepNext(plan: StepPlan, budget: number): boolean {
    return this.active && this.formed && this.eager.length === 0 && plan.scheduled.length === 0 && plan.preempted === 0 && 2 * this.live >= this.from && this.runs.quietAt(this.next_step + 1, budget, this.kv.free_blocks);
  }

  /**
   * Step `step`, the runs alone, ended (its tokens stamped `token_time_s`) and `runsStepNext` had
   * foreseen the next: what `stepApplied`, then `beginPass`, `scheduleEager` and `endPass` do when
   * nothing finished, nothing is due and nobody is outside the runs. The caller has reset `plan`.
   */
  runsStep(plan: StepPlan, token_time_s: number, step: number): void {
    if (!this.formed || step !== this.next_step) throw new Error(`vllm scheduler: step ${step} applied, step ${this.next_step} was ${this.formed ? '' : 'not '}formed`);
    const runs = this.runs;
    runs.stepEnded(step, token_time_s);
    this.next_step = step + 1;
    clearKeepingStorage(this.events);
    runs.takeBlocks(this.next_step);
    runs.addToBatch(plan.batch, 0);
    plan.lazy_decodes = runs.count;
    runs.advance();
  }

  /** Running sequences, finished ones still listed (`pending`) left out. */
  get live(): number {
    return this.running.length - this.pending.length;
  }

  /** `seq` was just appended to the running list. */
  joined(seq: Sequence): void {
    seq.run_order = ++this.order;
    if (this.active) this.eager.push(seq);
  }

  /** The pass formed `plan` (after a full pass when not `fast`: every running sequence is outside runs). */
  endPass(plan: StepPlan, fast: boolean): void {
    if (!fast && this.active) this.refillEager();
    if (planIsEmpty(plan)) return;
    this.formed = true;
    this.runs.advance();
  }

  /**
   * Step `step`, which ran `scheduled` (besides the runs), was applied: the finished leave the list,
   * the others that decoded may start runs.
   */
  stepApplied(scheduled: readonly Sequence[], token_time_s: number, step: number): void {
    if (!this.formed || step !== this.next_step) throw new Error(`vllm scheduler: step ${step} applied, step ${this.next_step} was ${this.formed ? '' : 'not '}formed`);
    const runs = this.runs;
    runs.stepEnded(step, token_time_s);
    this.next_step = step + 1;
    this.formed = false;
    const gone = this.gone;
    clearKeepingStorage(gone);
    // Only sequences stepped one by one can have finished: a run never holds a last token.
    for (const seq of scheduled) {
      if (hasLeft(seq)) gone.push(seq);
      else if (this.active) runs.tryStart(seq, step);
    }
    if (gone.length > 0) this.drop(gone);
    if (!this.active) return;
    const eager = this.eager;
    let kept = 0;
    for (let i = 0; i < eager.length; i++) if (eager[i].run_from < 0 && !hasLeft(eager[i])) eager[kept++] = eager[i];
    while (eager.length > kept) eager.pop();
  }

  /** Takes `gone` (in list order) off the running list: at once without runs, else at the tail and in batches. */
  private drop(gone: readonly Sequence[]): void {
    if (!this.active) {
      removeInOrder(this.running, gone);
      return;
    }
    // A finished sequence never joins a list again (a hand-off continues as a new one), so its run_order stays its place here.
    for (const seq of gone) this.pending.push(seq);
    this.dropTail();
    if (this.pending.length >= PENDING_MAX) this.compact();
  }

  /** Pops pending sequences off the list's end, so that its last entry is live (`tokensFor` reads it). */
  private dropTail(): void {
    const running = this.running;
    const pending = this.pending;
    while (running.length > 0 && pending.length > 0) {
      const k = pending.lastIndexOf(running[running.length - 1]);
      if (k < 0) return;
      running.pop();
      pending[k] = pending[pending.length - 1];
      pending.pop();
    }
  }

  /** Removes every pending sequence from the running list, which then holds live ones only. */
  private compact(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    sortByRunOrder(pending);
    removeInOrder(this.running, pending);
    clearKeepingStorage(pending);
  }

  /** Every running sequence is outside runs (none started, or all ended): all are eager, in list order. */
  private refillEager(): void {
    const eager = this.eager;
    clearKeepingStorage(eager);
    for (const seq of this.running) eager.push(seq);
  }

  /** The replica failed: every run ends where it stood (the step in flight, if any, lost). */
  release(): void {
    this.compact();
    for (const seq of this.running) if (seq.run_from >= 0) this.runs.abandon(seq, this.next_step, this.formed);
    this.runs.clear();
    clearKeepingStorage(this.events);
    if (this.formed) this.next_step++;
    this.formed = false;
    this.eager.length = 0;
  }

  /** Ends the runs due before this pass's step (their sequences rejoin `eager` at their places) and lists the KV events due in it. */
  private endDueRuns(): void {
    const ended = this.ended;
    clearKeepingStorage(ended);
    clearKeepingStorage(this.events);
    this.runs.takeDue(this.next_step, ended, this.events);
    sortByRunOrder(this.events);
    if (ended.length === 0) return;
    sortByRunOrder(ended);
    const eager = this.eager;
    const merged = this.spare;
    clearKeepingStorage(merged);
    let i = 0;
    let j = 0;
    while (i < eager.length || j < ended.length) {
      if (j === ended.length || (i < eager.length && eager[i].run_order < ended[j].run_order)) merged.push(eager[i++]);
      else merged.push(ended[j++]);
    }
    this.spare = eager;
    this.eager = merged;
  }

  /** Ends every run before this pass's step (`endPass` rebuilds `eager`). */
  private endAllRuns(): void {
    // Whatever follows walks the list (a full pass, or the list without runs).
    this.compact();
    const runs = this.runs;
    if (runs.count === 0) return;
    for (const seq of this.running) if (seq.run_from >= 0) runs.finish(seq, this.next_step);
    runs.clear();
    clearKeepingStorage(this.events);
  }
}

/** Removes `gone` from `list`, both in the same order, comparing identities only (no sequence is read). */
function removeInOrder(list: Sequence[], gone: readonly Sequence[]): void {
  // Up to the first one gone nothing moves: a store of a pointer into the list costs more than
  // comparing it (V8's write barrier), and the first gone lies halfway down on average.
  let i = 0;
  const first = gone[0];
  while (i < list.length && list[i] !== first) i++;
  let j = 0;
  let kept = i;
  for (; i < list.length; i++) {
    if (j < gone.length && list[i] === gone[j]) j++;
    else list[kept++] = list[i];
  }
  if (j !== gone.length) throw new Error(`vllm scheduler: ${gone.length - j} finished sequences not found in the running list`);
  while (list.length > kept) list.pop();
}

/** Pending finished sequences removed in one pass over the running list. */
const PENDING_MAX = 32;

/** Insertion sort by `run_order`: the lists hold a few dozen sequences at most (Array.prototype.sort with a comparator cost more). */
function sortByRunOrder(list: Sequence[]): void {
  for (let i = 1; i < list.length; i++) {
    const seq = list[i];
    let j = i - 1;
    while (j >= 0 && list[j].run_order > seq.run_order) {
      list[j + 1] = list[j];
      j--;
    }
    list[j + 1] = seq;
  }
}
