import { InfersimError } from '../errors.js';
import type { RunContext } from './context.js';
import { CONTROL, REPLICA_READY } from './events.js';
import type { Replica } from './replica.js';
import type { ReplicaState } from '../routing/router.js';

/**
 * Changes to the cluster while a run goes on, as the autoscaler, fault injection and tests make
 * them. Every change happens at the loop's current time (never a time the caller passes), and
 * what takes effect later does so through an event, so it lands in the run's tie order.
 */
export interface RunControl {
  /** The simulated time now. */
  readonly now_s: number;
  /** Whether requests are still to arrive or finish: a periodic action stops re-arming once none are. */
  readonly running: boolean;
  /** When the next event is due (Infinity: none is queued): a periodic sampler may skip an idle stretch. */
  readonly next_event_s: number;
  /** Runs `action` at `time_s` ≥ now (a control event: after the instant's arrivals, before its scheduling passes). */
  at(time_s: number, action: (now_s: number) => void): void;
  /** Adds a replica to `pool` (a pool's name; default the first pool) now, starting; ready (routable) `startup_s` later. Returns its index. */
  addReplica(startup_s?: number, pool?: string): number;
  /** Stops routing to the replica now; it stops once its work is done. */
  drainReplica(index: number): void;
  state(index: number): ReplicaState;
}

/** Replicas starting, draining and stopping during a run; the metrics follow each one's lifetime. */
export class ReplicaLifecycle implements RunControl {
  private readonly actions: ((now_s: number) => void)[] = [];

  constructor(
    private readonly ctx: RunContext,
    /** Per pool: a builder of its replicas. */
    private readonly builds: readonly ((index: number) => Replica)[],
    /** Per pool: its name, and the GPUs each of its replicas holds (TP × PP): what a lifetime costs. */
    private readonly pools: readonly { name: string; gpus: number }[],
    /** Whether requests are still to arrive or finish (control actions themselves do not count). */
    private readonly active: () => boolean,
  ) {}

  get now_s(): number {
    return this.ctx.loop.now_s;
  }

  get running(): boolean {
    return this.active();
  }

  get next_event_s(): number {
    return this.ctx.loop.peekTime();
  }

  at(time_s: number, action: (now_s: number) => void): void {
    if (!(time_s >= this.now_s && time_s < Infinity)) {
      throw new InfersimError(`run control: an action's time must be finite and not before now (${this.now_s} s), got ${time_s}`);
    }
    this.actions.push(action);
    this.ctx.loop.schedule(time_s, CONTROL, this.actions.length - 1);
  }

  onControl(target: number, now_s: number): boolean {
    this.actions[target](now_s);
    return true;
  }

  addReplica(startup_s = 0, pool?: string): number {
    if (!(startup_s >= 0 && startup_s < Infinity)) throw new InfersimError(`run control: startup_s must be finite and ≥ 0, got ${startup_s}`);
    const k = pool === undefined ? 0 : this.pools.findIndex((p) => p.name === pool);
    if (k < 0) throw new InfersimError(`run control: no pool ${JSON.stringify(pool)} (pools: ${this.pools.map((p) => p.name).join(', ')})`);
    const now_s = this.now_s;
    const replica = this.ctx.cluster.add(this.builds[k], 'starting');
    const index = this.ctx.sink.addReplica(now_s, this.pools[k].gpus, k);
    if (index !== replica.index) throw new Error(`replica ${replica.index} got metrics slot ${index}`);
    this.ctx.loop.schedule(now_s + startup_s, REPLICA_READY, replica.index);
    for (const listener of this.added) listener(replica, now_s);
    return replica.index;
  }

  /**
   * False for a replica stopped before it was ready (the event is stale), and for one ready only
   * after the last request left: it is ready, but that is no simulated work (the run's end stays).
   */
  onReady(target: number, now_s: number): boolean {
    const replica = this.ctx.cluster.replicas[target];
    if (replica.state !== 'starting') return false;
    this.ctx.cluster.setState(replica, 'ready');
    if (!this.active()) return false;
    for (const listener of this.ready) listener(replica, now_s);
    return true;
  }

  /** Told when a replica becomes ready (the gateway sends it the requests held for its pool; fault recovery is timed). */
  readonly ready: ((replica: Replica, now_s: number) => void)[] = [];
  /** Told when a replica is added during the run (random failures arm its clock). */
  readonly added: ((replica: Replica, now_s: number) => void)[] = [];

  /** The replica failed now: it holds nothing more (the caller took its work) and its GPUs stop counting. */
  markFailed(replica: Replica): void {
    this.ctx.cluster.setState(replica, 'failed');
    this.ctx.sink.retireReplica(replica.index, this.now_s);
  }

  drainReplica(index: number): void {
    const replica = this.replica(index);
    if (replica.state === 'starting') {
      this.stop(replica);
      return;
    }
    this.ctx.cluster.setState(replica, 'draining');
    this.stopIfDrained(replica);
  }

  /**
   * A draining replica stops when its last request has left (finished or timed out) and no step
   * is in flight. Returns whether it stopped.
   */
  stopIfDrained(replica: Replica): boolean {
    if (replica.state !== 'draining' || replica.outstanding > 0 || replica.steps_in_flight > 0) return false;
    this.stop(replica);
    return true;
  }

  state(index: number): ReplicaState {
    return this.replica(index).state;
  }

  private stop(replica: Replica): void {
    this.ctx.cluster.setState(replica, 'stopped');
    this.ctx.sink.retireReplica(replica.index, this.now_s);
  }

  private replica(index: number): Replica {
    const r = this.ctx.cluster.replicas[index];
    if (r === undefined) throw new InfersimError(`run control: no replica ${index} (the cluster has ${this.ctx.cluster.replicas.length}, numbered from 0)`);
    return r;
  }
}
