import { InfersimError } from '../errors.js';
import { Sequence, type SampleGroup } from '../scheduler/sequence.js';
import type { WorkloadStream } from '../workload/index.js';
import { waitKey, type Request } from '../workload/request.js';
import { emitOutcome, type RunContext } from './context.js';
import { ARRIVAL, TIMEOUT } from './events.js';
import { earlyOutcome, requestTokens, sequencesOf } from './outcomes.js';
import type { Replica } from './replica.js';
import type { Traffic, RouteGroup } from './traffic.js';
import type { RejectReason } from '../metrics/columns.js';
import type { Drains, ReplicaSteps } from './steps.js';
import { HeldRequests } from './hold.js';
import { DOUBLE_ZERO } from '../engine/doubles.js';

const NOT_RESENT = { retries: 0, started: false } as const;

/** The gateway's own settings (each replica's engine limits are its pool's: Replica.limits). */
export interface AdmissionLimits {
  /** Server time before the engine sees a request (parse, tokenize), s. */
  frontIn_s: number;
  /** Per pool: whether an autoscaler may start a replica for it (requests then wait for one rather than being rejected). */
  autoscaled: readonly boolean[];
  /** A request still waiting this long after its arrival gives up (undefined: never). */
  timeout_s: number | undefined;
  warmup_s: number;
  /** Resends of a request whose replica failed under it before it ends `failed`. */
  max_retries: number;
}

/**
 * The way in: pulls requests from the workload as their arrivals come due, routes each to a
 * ready replica, rejects what cannot be served, splits samples into sequences and times out
 * requests that wait too long.
 */
export class Gateway {
  /**
   * Requests pulled from the stream whose arrival event is queued, in slots: an arrival event's
   * target is its request's slot. A Map keyed by request id cost ~0.6 µs a request in the
   * scale scenario, most of it in `delete`; a slot is taken and freed in a few nanoseconds.
   */
  private readonly pending: (Request | undefined)[] = [];
  /** Slots of `pending` free for the next pulled request. */
  private readonly freeSlots: number[] = [];
  /** Requests that arrived at or after the warm-up (what the latency figures cover). */
  measured = 0;
  last_arrival_s = DOUBLE_ZERO;
  private rejectionInstant_s = -1;
  private rejectionsAtInstant = 0;
  private readonly held: HeldRequests;
  /**
   * Requests resent after a failure and not yet handed to a replica: their resend count, and
   * whether the lost attempt had started (its client then has a stream open and no longer waits
   * under workload.timeout_s).
   */
  private readonly retried = new Map<Request, { retries: number; started: boolean }>();
  /** Set while requests are handed out in a batch at one instant (resends, released holds): their first pass waits for all. */
  private batching = false;
  /** Per pool: requests that reached it (routed, held or rejected there), mirrored copies included. */
  readonly arrivals: number[];

  constructor(
    private readonly ctx: RunContext,
    private readonly stream: WorkloadStream,
    private readonly traffic: Traffic,
    private readonly limits: AdmissionLimits,
    private readonly steps: ReplicaSteps,
    /** Stops a draining replica that has no work left (its last request may leave by timing out). */
    private readonly drains: Drains,
  ) {
    this.held = new HeldRequests(traffic.poolGroups.length);
    this.arrivals = traffic.poolGroups.map(() => 0);
  }

  /** Drawn requests whose arrival has not happened yet (0 at a clean end). */
  get undelivered(): number {
    return this.pending.length - this.freeSlots.length;
  }

  /** Requests that arrived and wait for a replica of their pool (none at a clean end). */
  get still_held(): number {
    return this.held.size;
  }

  pullArrival(): void {
    const request = this.stream.next();
    if (request === undefined) return;
    this.ctx.totals.drawn++;
    const slot = this.freeSlots.length > 0 ? (this.freeSlots.pop() as number) : this.pending.length;
    this.pending[slot] = request;
    this.ctx.loop.schedule(request.arrival_s + this.limits.frontIn_s, ARRIVAL, slot);
  }

  /** A request left at `finish_s`: closed-loop clients and sessions may now send their next ones. */
  requestLeft(id: number, finish_s: number): void {
    const released = this.stream.onFinished(id, finish_s);
    for (let i = 0; i < released; i++) this.pullArrival();
  }

  onArrival(slot: number, now_s: number): boolean {
    const request = this.pending[slot] as Request;
    this.pending[slot] = undefined;
    this.freeSlots.push(slot);
    // Queue the next arrival first: if it is at this same instant, scheduling must wait for it.
    this.pullArrival();
    this.arrive(request, now_s);
    return true;
  }

  private arrive(request: Request, now_s: number): void {
    const totals = this.ctx.totals;
    totals.requests++;
    if (request.arrival_s >= this.limits.warmup_s) this.measured++;
    this.last_arrival_s = Math.max(this.last_arrival_s, request.arrival_s);
    const group = this.traffic.groupFor(request);
    // A trace may name a model no pool serves: the gateway answers at once.
    if (group === undefined) this.leaveEarly(request, -1, 'rejected', now_s, 'unknown_model');
    else {
      const pool = this.place(request, group, now_s);
      if (pool >= 0) {
        this.arrivals[pool]++;
        this.mirror(request, pool, now_s);
      }
    }
  }

  /** Routes `request` within `group` and admits it (or holds or rejects it); returns the pool it reached (−1: none of several). */
  private place(request: Request, group: RouteGroup, now_s: number): number {
    const candidates = group.candidates();
    if (candidates.length === 0 && this.canHold(group)) {
      this.holdRequest(request, group.pool_index, now_s);
      return group.pool_index;
    }
    if (candidates.length === 0) {
      // No replica can take it (all starting, draining or down): the gateway answers at once.
      this.leaveEarly(request, -1, 'rejected', now_s, 'no_ready_replica', group.pool_name, group.frontOut_s);
      return group.pool_index;
    }
    const replica = candidates[group.router.route(request, candidates)];
    const l = replica.limits;
    if (request.input_tokens + request.output_tokens > l.max_model_len) this.leaveEarly(request, replica.index, 'rejected', now_s, 'too_long');
    else if (replica.waiting >= l.max_queue_len) this.leaveEarly(request, replica.index, 'rejected', now_s, 'queue_full');
    else this.enter(request, replica, now_s);
    return replica.pool_index;
  }

  private enter(request: Request, replica: Replica, now_s: number): void {
    replica.accrue(now_s);
    replica.outstanding++;
    replica.outstanding_tokens += requestTokens(request);
    replica.waiting++;
    const attempt = this.takeAttempt(request);
    const leader = this.admit(request, replica, now_s, attempt.retries);
    const waiting = this.ctx.waitingLeaders;
    if (waiting !== undefined && !attempt.started) {
      const key = waitKey(request);
      waiting.set(key, leader);
      // A time-out shorter than the frontend's input latency expires as soon as the engine sees the request.
      this.ctx.loop.schedule(Math.max(now_s, request.arrival_s + (this.limits.timeout_s as number)), TIMEOUT, key);
    }
    this.steps.requestSchedule(replica, now_s, this.batching);
  }

  /**
   * A pool of its own whose autoscaler can bring a replica: the request waits for it, as an
   * activator (Knative's, KEDA's HTTP add-on) holds requests for a deployment scaled to zero. Without
   * an autoscaler a pool with no ready replica answers at once, as a Service without endpoints does.
   */
  private canHold(group: RouteGroup): boolean {
    const pool = group.pool_index;
    return pool >= 0 && this.limits.autoscaled[pool] === true;
  }

  private holdRequest(request: Request, pool: number, now_s: number): void {
    this.held.hold(request, pool);
    const timeout_s = this.limits.timeout_s;
    if (timeout_s !== undefined) this.ctx.loop.schedule(Math.max(now_s, request.arrival_s + timeout_s), TIMEOUT, waitKey(request));
  }

  /** A replica of `pool` became ready: the requests held for the pool go to it (and any other ready one), oldest first. */
  readonly release = (pool: number, now_s: number): void => {
    const group = this.traffic.poolGroups[pool];
    this.batching = true;
    try {
      while (this.held.count(pool) > 0 && group.candidates().length > 0) this.place(this.held.next(pool) as Request, group, now_s);
    } finally {
      this.batching = false;
    }
  };

  /** Requests held for `pool` now (the autoscaler's signal to scale from zero). */
  heldFor(pool: number): number {
    return this.held.count(pool);
  }

  /**
   * A request whose replica (`from`, of `pool`) failed under it at `now_s`, losing its KV and
   * tokens: the gateway resends it from scratch, routed anew among the ready replicas, unless this
   * would be resend number max_retries + 1 or no replica can take it now (nor will: a pool without
   * an autoscaler). Returns whether it was resent; otherwise it ends `failed`.
   */
  retry(request: Request, from: number, pool: number, attempt: { retries: number; started: boolean }, now_s: number): boolean {
    const group = this.traffic.retryGroup(request, pool);
    if (attempt.retries > this.limits.max_retries || (group.candidates().length === 0 && !this.canHold(group))) {
      this.ctx.totals.failed++;
      this.leaveEarly(request, from, 'failed', now_s, undefined, undefined, undefined, attempt.retries - 1);
      return false;
    }
    this.retried.set(request, attempt);
    this.batching = true;
    try {
      this.place(request, group, now_s);
    } finally {
      this.batching = false;
    }
    return true;
  }

  /** A copy of a request that reached the shadow source, for the shadow target (nobody waits for it). */
  private mirror(request: Request, pool: number, now_s: number): void {
    const target = this.traffic.shadowOf(pool);
    if (target === undefined) return;
    this.ctx.totals.mirrored++;
    this.ctx.totals.requests++;
    const reached = this.place({ ...request, shadow: true, model: target.model }, target, now_s);
    if (reached >= 0) this.arrivals[reached]++;
  }

  /** Hands a request's sequences to the replica's scheduler; returns the leader. */
  private admit(request: Request, replica: Replica, now_s: number, retries: number): Sequence {
    const count = sequencesOf(request);
    const fork = replica.limits.forkSamples;
    const leader = new Sequence(request, replica.index);
    leader.retries = retries;
    // A prefill replica keeps it for its prompt pass only (one output token: it ends there).
    if (replica.limits.handoff) leader.handoff_at = 1;
    if (count > 1) {
      const group: SampleGroup = { sequences: [leader], remaining: 1, started: false };
      leader.group = group;
      // One prompt pass; the other samples fork from it (none needed when one token ends every sample).
      if (fork) leader.pending_forks = count - 1;
    }
    replica.admit(leader, now_s);
    if (count > 1 && !fork) {
      const group = leader.group as SampleGroup;
      for (let k = 1; k < count; k++) {
        const sample = new Sequence(request, replica.index, k);
        sample.retries = retries;
        sample.group = group;
        group.sequences.push(sample);
        group.remaining++;
        replica.admit(sample, now_s);
      }
    }
    return leader;
  }

  /** How a request about to be admitted or to leave was resent (never: 0 resends, not started). */
  private takeAttempt(request: Request): { retries: number; started: boolean } {
    const attempt = this.retried.size === 0 ? undefined : this.retried.get(request);
    if (attempt === undefined) return NOT_RESENT;
    this.retried.delete(request);
    return attempt;
  }

  /** False for a stale time-out (the request was scheduled in time). */
  onTimeout(target: number, now_s: number): boolean {
    const held = this.held.size === 0 ? undefined : this.held.drop(target);
    if (held !== undefined) {
      this.leaveEarly(held.request, -1, 'timed_out', now_s, undefined, this.traffic.poolGroups[held.pool].pool_name);
      return true;
    }
    const waiting = this.ctx.waitingLeaders as Map<number, Sequence>;
    const leader = waiting.get(target);
    if (leader === undefined) return false;
    // The key is the request's waitKey (a mirrored copy's differs from its id).
    waiting.delete(target);
    const replica = this.ctx.cluster.replicas[leader.replica];
    const members = leader.group?.sequences ?? [leader];
    for (const seq of members) {
      if (!replica.scheduler.cancelWaiting(seq)) throw new Error(`request ${target}: time-out of a sequence that is not waiting`);
    }
    replica.accrue(now_s);
    replica.outstanding--;
    replica.outstanding_tokens -= requestTokens(leader.request);
    replica.waiting--;
    this.leaveEarly(leader.request, leader.replica, 'timed_out', now_s, undefined, undefined, undefined, leader.retries);
    this.drains.stopIfDrained(replica);
    return true;
  }

  /** A request that leaves without a token: rejected at arrival, timed out while waiting, or failed. */
  private leaveEarly(
    request: Request,
    replica: number,
    status: 'rejected' | 'timed_out' | 'failed',
    now_s: number,
    reason?: RejectReason,
    pool?: string,
    groupFrontOut_s?: number,
    /** Resends so far, when known to the caller (else the pending resend's, if any). */
    resent?: number,
  ): void {
    const totals = this.ctx.totals;
    if (status === 'rejected') totals.rejected++;
    else if (status === 'timed_out') totals.timed_out++;
    // The error response takes the same output path as a token, so every request leaves at
    // (event time + frontend output latency) and closed-loop completions stay in time order.
    const frontOut_s = replica >= 0 ? this.ctx.cluster.replicas[replica].limits.frontOut_s : (groupFrontOut_s ?? this.ctx.frontOut_s);
    const finish_s = now_s + frontOut_s;
    this.noteRejection(now_s);
    const retries = resent ?? this.takeAttempt(request).retries;
    emitOutcome(this.ctx, earlyOutcome(request, replica, status, finish_s, reason, pool, retries === 0 ? undefined : retries));
    // Nobody waits for a mirrored copy: its end releases no client's next request.
    if (request.shadow !== true) this.requestLeft(request.id, finish_s);
  }

  /**
   * A closed loop whose requests are all rejected with zero frontend latency would resend forever
   * at one instant; no real workload needs this many rejections without time passing.
   */
  private noteRejection(now_s: number): void {
    if (now_s !== this.rejectionInstant_s) {
      this.rejectionInstant_s = now_s;
      this.rejectionsAtInstant = 0;
    }
    if (++this.rejectionsAtInstant > 1_000_000) {
      throw new InfersimError(
        `workload: the simulation makes no progress: over a million requests rejected at t = ${now_s} s ` +
          `(prompt + output > engine.max_model_len, engine.max_queue_len full, or no replica ready) with zero frontend latency; ` +
          'check the workload against those limits and the pools against their failures, or give engine.frontend_output_ms a positive value',
      );
    }
  }
}
