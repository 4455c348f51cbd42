import type { RunContext } from './context.js';
import { CONTROL, REPLICA_READY } from './events.js';
import type { Replica } from './replica.js';
import type { ReplicaState } from './router.js';

/**
 * Changes to the cluster while a run goes on, as the autoscaler, fault injection and tests make
 * them. Every change takes effect through an event, so it lands in the run's tie order.
 */
export interface RunControl {
  /** Runs `action` at `time_s` (a control event: after the instant's arrivals, before its scheduling passes). */
  at(time_s: number, action: (now_s: number) => void): void;
  /** Adds a replica at `now_s`, starting; ready (routable) `startup_s` later. Returns its index. */
  addReplica(now_s: number, startup_s?: number): number;
  /** Stops routing to the replica; it stops once its work is done. */
  drainReplica(index: number, now_s: number): void;
  state(index: number): ReplicaState;
}

/** Replicas starting, draining and stopping during a run; the metrics follow each one's lifetime. */
export class ReplicaLifecycle implements RunControl {
  private readonly actions: ((now_s: number) => void)[] = [];

  constructor(
    private readonly ctx: RunContext,
    private readonly build: (index: number) => Replica,
    /** GPUs each replica holds (TP × PP): what its lifetime costs. */
    private readonly gpus_per_replica: number,
  ) {}

  at(time_s: number, action: (now_s: number) => void): void {
    this.actions.push(action);
    this.ctx.loop.schedule(time_s, CONTROL, this.actions.length - 1);
  }

  readonly onControl = (target: number, now_s: number): boolean => {
    this.actions[target](now_s);
    return true;
  };

  addReplica(now_s: number, startup_s = 0): number {
    const replica = this.ctx.cluster.add(this.build, 'starting');
    const index = this.ctx.sink.addReplica(now_s, this.gpus_per_replica);
    if (index !== replica.index) throw new Error(`replica ${replica.index} got metrics slot ${index}`);
    this.ctx.loop.schedule(now_s + startup_s, REPLICA_READY, replica.index);
    return replica.index;
  }

  readonly onReady = (target: number): boolean => {
    const replica = this.ctx.cluster.replicas[target];
    if (replica.state !== 'starting') return false;
    this.ctx.cluster.setState(replica, 'ready');
    return true;
  };

  drainReplica(index: number, now_s: number): void {
    const replica = this.replica(index);
    if (replica.state === 'starting') {
      this.stop(replica, now_s);
      return;
    }
    this.ctx.cluster.setState(replica, 'draining');
    if (replica.outstanding === 0 && replica.steps_in_flight === 0) this.stop(replica, now_s);
  }

  /** A draining replica finished its last request. */
  readonly drained = (replica: Replica, now_s: number): void => {
    this.stop(replica, now_s);
  };

  state(index: number): ReplicaState {
    return this.replica(index).state;
  }

  private stop(replica: Replica, now_s: number): void {
    this.ctx.cluster.setState(replica, 'stopped');
    this.ctx.sink.retireReplica(replica.index, now_s);
  }

  private replica(index: number): Replica {
    const r = this.ctx.cluster.replicas[index];
    if (r === undefined) throw new Error(`no replica ${index} (the cluster has ${this.ctx.cluster.replicas.length})`);
    return r;
  }
}
