import type { ClusterRow } from '../metrics/records.js';
import type { RequestOutcome } from '../metrics/records.js';
import type { Cluster } from './cluster.js';
import type { RunControl } from './lifecycle.js';

/** What the sampler needs of a pool: its name and what an hour of one of its replicas costs. */
export interface SampledPool {
  name: string;
  usd_per_replica_hour: number;
}

/**
 * cluster.arrow: every `interval_s`, one row per pool with its replicas by state, the requests
 * that reached it and that it finished during the interval, its queue, KV use, GPU busy share and
 * cost rate; a last, shorter row ends with the run, so the rows' arrivals and completions sum to
 * the run's.
 */
export class ClusterSampler {
  private readonly completed: number[];
  private readonly seenArrivals: number[];
  private readonly seenCompletions: number[];
  private readonly busyAtSample: number[] = [];
  private last_s = 0;
  private readonly row: ClusterRow;
  /** Per pool: the most replicas it held (starting, ready or draining) at a sample, and ∫ replicas dt. */
  private readonly peak: number[];
  private readonly area: number[];

  constructor(
    private readonly pools: readonly SampledPool[],
    private readonly cluster: Cluster,
    private readonly interval_s: number,
    /** Per pool: requests that reached it so far. */
    private readonly arrivals: () => readonly number[],
    /** Per pool: requests held at the gateway for it now. */
    private readonly held: (pool: number) => number,
    private readonly write: (row: ClusterRow) => void,
    newRow: () => ClusterRow,
  ) {
    this.completed = pools.map(() => 0);
    this.seenArrivals = pools.map(() => 0);
    this.seenCompletions = pools.map(() => 0);
    this.peak = pools.map(() => 0);
    this.area = pools.map(() => 0);
    this.row = newRow();
  }

  start(control: RunControl): void {
    const tick = (now_s: number): void => {
      this.sample(now_s);
      if (!control.running) return;
      // Nothing happens for a while (a trace's long pause): one row covers the idle stretch, up
      // to the end of the interval in which the next event comes, instead of a row per interval.
      const after_s = now_s + this.interval_s;
      const next_s = control.next_event_s;
      control.at(next_s > after_s && next_s < Infinity ? Math.ceil(next_s / this.interval_s) * this.interval_s : after_s, tick);
    };
    control.at(control.now_s + this.interval_s, tick);
  }

  /** Every request as it leaves: a finished one is its pool's completion. */
  watch(o: RequestOutcome): void {
    if (o.status === 'finished' && o.replica >= 0) this.completed[this.cluster.replicas[o.replica].pool_index]++;
  }

  /** Per pool, over the samples: the most replicas held, and the time-weighted mean (null before any sample). */
  fleet(): { peak_replicas: number; mean_replicas: number | null }[] {
    return this.pools.map((_, k) => ({ peak_replicas: this.peak[k], mean_replicas: this.last_s > 0 ? this.area[k] / this.last_s : null }));
  }

  /** The last row, up to the run's end (none when the last tick was the end). */
  finish(end_s: number): void {
    if (end_s > this.last_s) this.sample(end_s);
  }

  private sample(now_s: number): void {
    const elapsed_s = now_s - this.last_s;
    const arrived = this.arrivals();
    this.pools.forEach((pool, k) => {
      const r = this.row;
      const members = this.cluster.replicas.filter((x) => x.pool_index === k);
      const ready = members.filter((x) => x.state === 'ready');
      const count = (state: string) => members.filter((x) => x.state === state).length;
      r.time_s = now_s;
      r.pool = pool.name;
      r.starting = count('starting');
      r.ready = ready.length;
      r.draining = count('draining');
      r.stopped = count('stopped');
      r.failed = count('failed');
      r.arrivals = arrived[k] - this.seenArrivals[k];
      r.completions = this.completed[k] - this.seenCompletions[k];
      this.seenArrivals[k] = arrived[k];
      this.seenCompletions[k] = this.completed[k];
      r.waiting = members.reduce((a, x) => a + x.waiting, 0) + this.held(k);
      r.running = members.reduce((a, x) => a + x.outstanding - x.waiting, 0);
      r.kv_used_fraction = ready.length === 0 ? null : ready.reduce((a, x) => a + x.kv_used_fraction, 0) / ready.length;
      let busy = 0;
      for (const x of members) {
        const until = x.busyUntil(now_s);
        busy += until - (this.busyAtSample[x.index] ?? 0);
        this.busyAtSample[x.index] = until;
      }
      r.gpu_busy_fraction = ready.length === 0 || elapsed_s <= 0 ? null : busy / (elapsed_s * ready.length);
      const held = r.starting + r.ready + r.draining;
      r.usd_per_hour = held * pool.usd_per_replica_hour;
      this.peak[k] = Math.max(this.peak[k], held);
      this.area[k] += held * elapsed_s;
      this.write(r);
    });
    this.last_s = now_s;
  }
}
