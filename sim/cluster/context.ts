import type { EventLoop } from '../engine/loop.js';
import type { RequestOutcome } from '../metrics/records.js';
import type { RunSink } from '../metrics/runSink.js';
import type { Sequence } from '../scheduler/sequence.js';
import type { Cluster } from './cluster.js';
import type { RunTotals } from './invariants.js';

/** Told of every request as it leaves. An object whose method is called: one call target to V8 whichever run's it is. */
export interface RequestWatcher {
  watch(outcome: RequestOutcome): void;
}

/**
 * What the handlers of one run share. Only handlers change it; policies see narrow views of it.
 * A class rather than an object literal: V8 types a literal's object-valued fields by the class of
 * their first values only until the literal is evaluated a second time. The band's re-runs build
 * the second context, and that threw away the main run's optimised handlers, which the re-runs
 * share (the plan in scheduler.ts is built the same way). The declared fields hold their places
 * in the object from construction on; the constructor fills them.
 */
export class RunContext {
  readonly loop!: EventLoop;
  readonly cluster!: Cluster;
  readonly sink!: RunSink;
  readonly totals!: RunTotals;
  /** The gateway's answer time for a request rejected before reaching a replica (the first pool's frontend output latency), s. */
  readonly frontOut_s!: number;
  /** Leaders of requests that may still time out, by id (only with workload.timeout_s). */
  readonly waitingLeaders!: Map<number, Sequence> | undefined;
  /**
   * Told of every finished request's latencies as the gateway saw them, with the replica that served
   * it (routers that learn from them); undefined when no router does.
   */
  readonly observe!: ((replica: number, ttft_s: number | null, e2e_s: number) => void) | undefined;
  /** Told of every request as it leaves, before `onRequest` (the canary's monitor, the autoscaler, the cluster sampler). */
  readonly watchers!: readonly RequestWatcher[];
  /** Every request as it leaves (finished, rejected, timed out). */
  readonly onRequest!: ((outcome: RequestOutcome) => void) | undefined;

  constructor(fields: Readonly<RunContext>) {
    Object.assign(this, fields);
  }
}

export function emitOutcome(ctx: RunContext, outcome: RequestOutcome): void {
  if (outcome.shadow === true) ctx.totals.mirrored_left++;
  ctx.sink.recordRequest(outcome);
  const watchers = ctx.watchers;
  for (let i = 0; i < watchers.length; i++) watchers[i].watch(outcome);
  ctx.onRequest?.(outcome);
}
