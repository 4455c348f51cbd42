import { clearKeepingStorage, objectList } from '../engine/arrays.js';
import { DOUBLE_ZERO } from '../engine/doubles.js';
import { newIterationRecord, type IterationRecord } from '../metrics/records.js';
import { MAX_TIME_S } from '../scenario/bounds.js';
import type { Sequence } from '../scheduler/sequence.js';
import { planIsEmpty, type StepPlan } from '../scheduler/scheduler.js';
import { emitOutcome, type RunContext } from './context.js';
import { SCHEDULE, STEP_END } from './events.js';
import { stepTimeError } from './invariants.js';
import { countFinishedSequence, finishedOutcome, requestTokens } from './outcomes.js';
import type { Replica } from './replica.js';
import { waitKey } from '../workload/request.js';

/** Stops a draining replica that has no work left; true when it did (the replica lifecycle). */
export interface Drains {
  stopIfDrained(replica: Replica): boolean;
}

/** Told that a request left the system at `finish_s` (the gateway: closed-loop clients may send their next one). */
export interface RequestExit {
  requestLeft(id: number, finish_s: number): void;
}

/** Disaggregated serving's side of a step: sequences leaving a prefill replica, and those a decode replica gave blocks to. */
export interface HandOffs {
  handOff(from: Replica, seq: Sequence, now_s: number, step_s: number): void;
  admitted(to: Replica, seqs: readonly Sequence[], now_s: number): void;
}

/**
 * The replica step lifecycle: a scheduling pass forms and times a step (recording the iteration, unless the run keeps no step records),
 * its end applies it and turns finished sequences into request outcomes.
 */
export class ReplicaSteps {
  private readonly finished: Sequence[] = objectList();
  /** Set when the run has prefill and decode pools. */
  handOffs: HandOffs | undefined;
  /** Where finished requests go: set once the gateway, which takes this object, exists. */
  exit: RequestExit | undefined;
  /** Filled for every step and handed to the sink, which keeps nothing of it: no allocation per step. */
  private readonly iteration: IterationRecord = newIterationRecord();
  /** The replica whose step end `onStepEnd` is handling (−1: none): the end of the step it forms next is kept for `onStepEnd`. */
  private chainFor = -1;
  /** That step's end, not queued yet, and the place among same-time events `schedule` would have given it. */
  private chained = false;
  private chainedEnd_s = DOUBLE_ZERO;
  private chainedSequence = 0;

  constructor(
    private readonly ctx: RunContext,
    /** Objects, not functions made per run: their methods are one call target to V8 whichever run calls them. */
    private readonly drains: Drains,
    /** False: steps are not recorded (a band re-run, which writes no iterations.arrow and reports only latency bounds). */
    private readonly recordsSteps = true,
  ) {}

  /**
   * Schedule now if nothing else happens at this instant, else after everything that does.
   * `defer`: the caller has more requests to hand out at this instant (a failure's resends, the
   * requests held for a pool): they must share the step, so the pass always waits for them.
   */
  requestSchedule(replica: Replica, now_s: number, defer = false): void {
    if (replica.busy || replica.schedulePending) return;
    const loop = this.ctx.loop;
    if (!defer && loop.peekTime() > now_s) {
      this.startStep(replica, now_s);
    } else {
      replica.schedulePending = true;
      loop.schedule(now_s, SCHEDULE, replica.index);
    }
  }

  /** The scheduling pass queued for `target` at this instant (or its batching timer). */
  onSchedule(target: number, now_s: number): boolean {
    const replica = this.ctx.cluster.replicas[target];
    // A pass queued before the replica stopped (or failed) has nothing left to schedule.
    if (replica.state === 'stopped' || replica.state === 'failed') return false;
    if (replica.wakeAt_s === now_s) replica.wakeAt_s = NaN;
    replica.schedulePending = false;
    replica.releaseHost(now_s);
    if (!replica.busy) this.startStep(replica, now_s);
    return true;
  }

  startStep(replica: Replica, now_s: number): void {
    const plan = replica.startStep(now_s);
    if (plan.kv_admitted.length > 0) (this.handOffs as HandOffs).admitted(replica, plan.kv_admitted, now_s);
    if (planIsEmpty(plan)) {
      this.idle(replica, plan, now_s);
      return;
    }
    this.leaveQueue(replica, plan, now_s);
    this.timeStep(replica, plan, now_s);
  }

  /** The step `plan`, formed at `now_s`, runs: its time, its record, and its end, chained or queued. */
  private timeStep(replica: Replica, plan: StepPlan, now_s: number): void {
    const step_s = replica.stepDuration_s(plan, now_s);
    const end_s = now_s + step_s;
    if (!(step_s > 0 && step_s <= MAX_TIME_S)) {
      throw stepTimeError(replica.latency, plan.batch, step_s, { step: replica.counters.steps, replica: replica.index, now_s, profile: replica.limits.profile });
    }
    // Pipelined steps overlap: busy time is their union (they end in the order they start).
    replica.busy_s += replica.pipeline === undefined ? step_s : end_s - Math.max(now_s, replica.last_step_end_s);
    replica.last_step_end_s = end_s;
    if (this.recordsSteps) this.recordIteration(replica, plan, now_s, end_s);
    // Chained only if it comes next as things stand: with many replicas another's end usually does.
    if (replica.index === this.chainFor && !this.chained && end_s < this.ctx.loop.peekTime()) {
      this.chained = true;
      this.chainedEnd_s = end_s;
      this.chainedSequence = this.ctx.loop.reserve();
    } else this.ctx.loop.schedule(end_s, STEP_END, replica.index);
    // The next micro-batch may form once the host has handed this one to the first stage.
    if (replica.pipeline !== undefined) this.ctx.loop.schedule(replica.host_free_s, SCHEDULE, replica.index);
  }

  /** Nothing could run: ask again at once after a preemption, or when the policy's timer says. */
  private idle(replica: Replica, plan: StepPlan, now_s: number): void {
    const loop = this.ctx.loop;
    if (plan.preempted > 0) {
      // Everything running was preempted (a request whose samples no longer fit together): like
      // vLLM's engine loop, ask again at once, now that the blocks are free.
      replica.schedulePending = true;
      loop.schedule(now_s, SCHEDULE, replica.index);
      return;
    }
    const wake = plan.wake_at_s;
    if (wake > now_s && !(replica.wakeAt_s <= wake && replica.wakeAt_s > now_s)) {
      replica.wakeAt_s = wake;
      loop.schedule(wake, SCHEDULE, replica.index);
    }
  }

  /** A request leaves the queue when its first sequence is scheduled. */
  private leaveQueue(replica: Replica, plan: StepPlan, now_s: number): void {
    const waiting = this.ctx.waitingLeaders;
    for (const seq of plan.scheduled) {
      if (seq.first_scheduled_s !== now_s) continue;
      const group = seq.group;
      if (group !== undefined) {
        if (group.started) continue;
        group.started = true;
      }
      replica.accrue(now_s);
      replica.waiting--;
      if (waiting !== undefined) waiting.delete(waitKey(seq.request));
    }
  }

  private recordIteration(replica: Replica, plan: StepPlan, now_s: number, end_s: number): void {
    const b = plan.batch;
    const kv = replica.kv;
    const sched = replica.scheduler;
    const it = this.iteration;
    it.replica = replica.index;
    it.start_s = now_s;
    it.end_s = end_s;
    // Padding rows of a static batch cost time (in end_s) but are no sequence's tokens.
    it.prefill_seqs = b.prefill_seqs;
    it.decode_seqs = b.decode_seqs - plan.padding_seqs;
    it.prefill_tokens = b.prefill_tokens;
    it.decode_tokens = b.decode_tokens - plan.padding_seqs;
    it.kv_blocks_used = kv.used_blocks;
    it.kv_blocks_total = kv.total_blocks;
    it.waiting = sched.waiting_count;
    it.running = sched.running_count;
    it.swapped = sched.swapped_count;
    it.preempted = plan.preempted;
    it.kv_blocks_cached = kv.cached_blocks;
    it.kv_blocks_swapped = kv.swapped_blocks;
    it.kv_slots_unused = kv.unused_slots;
    it.swap_in_blocks = plan.swap_in_blocks;
    it.swap_out_blocks = plan.swap_out_blocks;
    it.kv_blocks_evicted = replica.lastEvicted;
    this.ctx.sink.recordIteration(it);
  }

  /**
   * The oldest step in flight on `target` ended at `now_s`. So does each next step it forms that
   * ends before anything queued (EventLoop.next): in the order, and counted as, the queue would
   * have them, without queueing them. Most of a busy replica's steps end before the next arrival:
   * the Azure trace's band re-runs took 0.94 of their time with every end queued.
   */
  onStepEnd(target: number, now_s: number): boolean {
    const loop = this.ctx.loop;
    const replica = this.ctx.cluster.replicas[target];
    this.chainFor = target;
    let handled = true;
    for (let end_s = now_s; ; ) {
      if (replica.runsStepNext()) this.runsSteps(replica, end_s);
      else handled = this.endStep(replica, end_s);
      if (!this.chained) break;
      this.chained = false;
      end_s = this.chainedEnd_s;
      if (!loop.next(end_s)) {
        loop.schedule(end_s, STEP_END, target, this.chainedSequence);
        break;
      }
    }
    this.chainFor = -1;
    return handled;
  }

  /**
   * `endStep` at `now_s` for a step of decode runs alone whose next step is one too
   * (Replica.runsStepNext), and so on while the next ends before everything queued. No sequence
   * finishes in such a step (a run never holds a last token), so nobody leaves, the replica keeps
   * work (no drain stops it), and the next step is formed without the scheduler's pass: nobody is
   * admitted or leaves the queue. On the Azure trace ~80 % of the steps are such, in stretches of
   * ~8 steps between an arrival, a prompt chunk or a run's end.
   */
  private runsSteps(replica: Replica, now_s: number): void {
    const loop = this.ctx.loop;
    const sink = this.ctx.sink;
    const front_s = replica.limits.frontOut_s;
    for (;;) {
      const stamp_s = now_s + front_s;
      sink.recordStepStamp(replica.index, replica.oldest_step_in_flight, stamp_s);
      this.timeStep(replica, replica.runsStep(stamp_s, now_s), now_s);
      if (!this.chained || !replica.runsStepNext()) return;
      now_s = this.chainedEnd_s;
      if (!loop.next(now_s)) return;
      this.chained = false;
    }
  }

  private endStep(replica: Replica, now_s: number): boolean {
    const ctx = this.ctx;
    // A step the replica's failure cut short: its work was counted as lost then.
    if (replica.state === 'failed') return false;
    const finished = this.finished;
    clearKeepingStorage(finished);
    const stamp_s = now_s + replica.limits.frontOut_s;
    // Before any request of this step is recorded: its pooled gaps refer to this stamp.
    // Its tokens' times may be read from these stamps (Sequence.stampToken).
    const history = ctx.sink.recordStepStamp(replica.index, replica.oldest_step_in_flight, stamp_s);
    replica.completeStep(stamp_s, finished, history);
    for (const seq of finished) {
      if (seq.generated_tokens < seq.output_tokens) {
        (this.handOffs as HandOffs).handOff(replica, seq, now_s, now_s - replica.completed_step_start_s);
        continue;
      }
      countFinishedSequence(ctx.totals, seq);
      const group = seq.group;
      if (group !== undefined && --group.remaining > 0) continue;
      replica.accrue(now_s);
      replica.outstanding--;
      replica.outstanding_tokens -= requestTokens(seq.request);
      ctx.totals.finished++;
      // A hook keeps the outcome: its token times are then the sequence's own, not a view of the replica's stamps.
      const outcome = finishedOutcome(seq, replica.limits.forkSamples, ctx.onRequest !== undefined);
      emitOutcome(ctx, outcome);
      const times = outcome.token_times_s;
      ctx.observe?.(replica.index, times.length > 0 ? times[0] - outcome.arrival_s : null, outcome.finish_s - outcome.arrival_s);
      // Nobody waits for a mirrored copy: its end releases no client's next request.
      if (seq.request.shadow !== true) (this.exit as RequestExit).requestLeft(seq.id, outcome.finish_s);
      // Recorded: nobody reads its token stamps again, unless a hook keeps the outcome (and its views).
      if (ctx.onRequest !== undefined) continue;
      if (group === undefined) seq.dropStamps();
      else for (const member of group.sequences) member.dropStamps();
    }
    if (!this.drains.stopIfDrained(replica)) this.requestSchedule(replica, now_s);
    return true;
  }
}
