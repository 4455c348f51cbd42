import { InfersimError } from '../errors.js';
import type { Replica } from './replica.js';
import type { ReplicaState } from '../routing/router.js';

/**
 * The replicas of a run, which may come and go while it runs. Indexes are stable: a replica
 * keeps its index for its life, and a stopped one keeps its slot (its metrics refer to it).
 */
export class Cluster {
  readonly replicas: Replica[] = [];
  /** The ready replicas in index order: what a router chooses among. Rebuilt on each state change, not per request. */
  routable: readonly Replica[] = [];
  /** The ready replicas of each pool, in index order (rebuilt with `routable`). */
  routableByPool: readonly (readonly Replica[])[] = [];
  /** Changes whenever the ready lists are rebuilt: what lists built from them compare against. */
  version = 0;

  constructor(private readonly pools = 1) {}

  /** Adds a replica built for the next index, in `state`. */
  add(build: (index: number) => Replica, state: ReplicaState): Replica {
    const replica = build(this.replicas.length);
    replica.state = state;
    this.replicas.push(replica);
    this.refresh();
    return replica;
  }

  setState(replica: Replica, state: ReplicaState): void {
    const from = replica.state;
    if (from === state) return;
    if (!ALLOWED[from].includes(state)) throw new InfersimError(`replica ${replica.index}: a ${from} replica cannot become ${state}`);
    replica.state = state;
    this.refresh();
  }

  private refresh(): void {
    this.routable = this.replicas.filter((r) => r.state === 'ready');
    const byPool: Replica[][] = Array.from({ length: this.pools }, () => []);
    for (const r of this.routable) byPool[r.pool_index].push(r);
    this.routableByPool = byPool;
    this.version++;
  }
}

/** The lifecycle: starting → ready → draining → stopped, and failed from any state that runs. */
const ALLOWED: Record<ReplicaState, readonly ReplicaState[]> = {
  starting: ['ready', 'failed', 'stopped'],
  ready: ['draining', 'failed'],
  draining: ['stopped', 'failed', 'ready'],
  stopped: [],
  failed: [],
};
