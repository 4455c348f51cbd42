import { rngStream, type Uniform } from '../engine/rng.js';
import type { FaultSummary } from '../metrics/summary.js';
import { MAX_TIME_S } from '../scenario/bounds.js';
import type { Sequence } from '../scheduler/sequence.js';
import { waitKey, type Request } from '../workload/request.js';
import type { RunContext } from './context.js';
import { REPLICA_FAILED } from './events.js';
import type { ReplicaLifecycle } from './lifecycle.js';
import { countLostFinishedSequence, countLostSequence } from './outcomes.js';
import type { Replica } from './replica.js';

/** A pool as faults see it: what a replica holds and what replacing one takes. */
export interface FaultPool {
  name: string;
  /** GPUs per replica: each fails on its own clock, and the first failure takes the replica down. */
  gpus: number;
  /** From asking for a replacement to its being ready, after the repair. */
  cold_start_s: number;
  /** Random failures: each GPU's mean time between them, and the repair time (absent: none). */
  failures?: { mtbf_h: number; repair_s: number };
}

/** A scripted fault: the pool's replica at `position` among those up at `at_s`. */
export interface ScriptedFault {
  at_s: number;
  pool: number;
  position: number;
  down_s: number;
}

/** Where a request goes when its replica failed under it (the gateway's resend or failure). */
export type Resend = (request: Request, from: number, pool: number, attempt: { retries: number; started: boolean }, now_s: number) => boolean;

/** A failure event's target: a drawn failure of one replica, or a scripted one resolved when it comes. */
type Plan = { replica: number } | ScriptedFault;

/**
 * Replica failures, scripted (`faults`) and random (`failures`, a seeded exponential clock per
 * replica): a failed replica's requests are resent by the gateway or fail, its work is counted as
 * lost, and a replacement starts after the repair, ready a cold start later. A replica leaving on
 * its own (drained, stopped) is not replaced.
 */
export class Faults {
  private readonly plans: Plan[] = [];
  private readonly draws: (Uniform | undefined)[];
  /** Replacements not yet ready, by index: when the replica they replace failed. */
  private readonly recovering = new Map<number, number>();
  private readonly recover_s: number[] = [];
  private readonly counts = { failures: 0, skipped: 0, requests_held: 0, retried: 0, failed: 0 };

  constructor(
    private readonly ctx: RunContext,
    private readonly pools: readonly FaultPool[],
    private readonly scripted: readonly ScriptedFault[],
    private readonly resend: Resend,
    private readonly lifecycle: ReplicaLifecycle,
    seed: number,
  ) {
    this.draws = pools.map((p) => (p.failures === undefined ? undefined : rngStream(seed, `failures:${p.name}`)));
  }

  start(): void {
    for (const f of this.scripted) this.plan(f.at_s, f);
    for (const r of this.ctx.cluster.replicas) this.arm(r, 0);
    this.lifecycle.added.push((r, now_s) => this.arm(r, now_s));
    this.lifecycle.ready.push(this.recovered);
  }

  /** A replica's next random failure: exponential with mean (GPU MTBF ÷ its GPUs), from now. */
  private arm(replica: Replica, now_s: number): void {
    const draw = this.draws[replica.pool_index];
    if (draw === undefined) return;
    const pool = this.pools[replica.pool_index];
    const mean_s = ((pool.failures as { mtbf_h: number }).mtbf_h * 3600) / pool.gpus;
    const at_s = now_s - Math.log(1 - draw()) * mean_s;
    if (at_s <= MAX_TIME_S) this.plan(at_s, { replica: replica.index });
  }

  private plan(at_s: number, plan: Plan): void {
    this.plans.push(plan);
    this.ctx.loop.schedule(at_s, REPLICA_FAILED, this.plans.length - 1);
  }

  /** Stale once no request is left to serve (a failure after the run ends does not happen), or when its replica is gone. */
  onFailure(target: number, now_s: number): boolean {
    if (!this.lifecycle.running) return false;
    const plan = this.plans[target];
    if ('replica' in plan) {
      const replica = this.ctx.cluster.replicas[plan.replica];
      if (replica.state === 'stopped' || replica.state === 'failed') return false;
      this.fail(replica, (this.pools[replica.pool_index].failures as { repair_s: number }).repair_s, now_s);
      return true;
    }
    const up = this.ctx.cluster.replicas.filter((r) => r.pool_index === plan.pool && (r.state === 'starting' || r.state === 'ready' || r.state === 'draining'));
    const replica = up[plan.position];
    if (replica === undefined) {
      this.counts.skipped++;
      const detail = `replica ${plan.position} of the pool is not up (${up.length} are)`;
      this.ctx.sink.events.record({ time_s: now_s, kind: 'fault_skipped', pool: this.pools[plan.pool].name, detail, data: { position: plan.position, up: up.length } });
      return true;
    }
    this.fail(replica, plan.down_s, now_s);
    return true;
  }

  private fail(replica: Replica, down_s: number, now_s: number): void {
    const held = replica.outstanding;
    const replace = replica.state !== 'draining';
    const lost: Sequence[] = [];
    replica.fail(now_s, lost);
    this.lifecycle.markFailed(replica);
    const requests = this.requestsOf(lost);
    if (requests.size !== held) throw new Error(`replica ${replica.index} held ${held} requests but gave back sequences of ${requests.size}`);
    let retried = 0;
    for (const [request, attempt] of requests) {
      if (this.resend(request, replica.index, replica.pool_index, { retries: attempt.retries + 1, started: attempt.started }, now_s)) retried++;
    }
    const pool = this.pools[replica.pool_index];
    const c = this.counts;
    c.failures++;
    c.requests_held += held;
    c.retried += retried;
    c.failed += held - retried;
    // A replacement that fails while starting passes on when capacity was first lost.
    const since_s = this.recovering.get(replica.index) ?? now_s;
    this.recovering.delete(replica.index);
    if (replace) this.recovering.set(this.lifecycle.addReplica(down_s + pool.cold_start_s, pool.name), since_s);
    const detail = `replica ${replica.index} held ${held} requests: ${retried} resent, ${held - retried} failed` + (replace ? `; replacement ready in ${round(down_s + pool.cold_start_s)} s` : '');
    const data = { replica: replica.index, held, retried, failed: held - retried, down_s, cold_start_s: pool.cold_start_s };
    this.ctx.sink.events.record({ time_s: now_s, kind: 'replica_failed', pool: pool.name, detail, data });
  }

  /**
   * The requests of the lost sequences, in the order first met, each with its resends so far and
   * whether that attempt had started (any of its sequences scheduled); their lost work is counted.
   */
  private requestsOf(lost: readonly Sequence[]): Map<Request, { retries: number; started: boolean }> {
    const requests = new Map<Request, { retries: number; started: boolean }>();
    const waiting = this.ctx.waitingLeaders;
    for (const seq of lost) {
      countLostSequence(this.ctx.totals, seq);
      // Nothing reads a lost sequence's token times: its resend starts afresh.
      seq.dropStamps();
      const known = requests.get(seq.request);
      if (known !== undefined) {
        known.started ||= !Number.isNaN(seq.first_scheduled_s);
        continue;
      }
      requests.set(seq.request, { retries: seq.retries, started: !Number.isNaN(seq.first_scheduled_s) || seq.group?.started === true });
      // Samples that finished are computed again by the resend.
      for (const m of seq.group?.sequences ?? []) {
        if (!m.finished) continue;
        countLostFinishedSequence(this.ctx.totals, m);
        m.dropStamps();
      }
      // Its resend (if any) waits afresh under the same key; the lost leader must not be timed out.
      waiting?.delete(waitKey(seq.request));
    }
    return requests;
  }

  private readonly recovered = (replica: Replica, now_s: number): void => {
    const failed_s = this.recovering.get(replica.index);
    if (failed_s === undefined) return;
    this.recovering.delete(replica.index);
    const took_s = now_s - failed_s;
    this.recover_s.push(took_s);
    const detail = `replica ${replica.index} ready ${round(took_s)} s after the failure it makes good`;
    this.ctx.sink.events.record({ time_s: now_s, kind: 'replica_recovered', pool: replica.pool, detail, data: { replica: replica.index, time_to_recover_s: took_s } });
  };

  /** summary.json `faults`. */
  summary(): FaultSummary {
    const r = this.recover_s;
    return {
      ...this.counts,
      recovered: r.length,
      time_to_recover_s: { mean: r.length === 0 ? null : r.reduce((a, b) => a + b, 0) / r.length, max: r.length === 0 ? null : Math.max(...r) },
    };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
