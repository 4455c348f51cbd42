import type { Autoscaler, AutoscaleSettings, PoolSnapshot } from '../autoscale/autoscaler.js';
import { quantileSorted } from '../metrics/stats.js';
import type { EventLog } from '../metrics/events.js';
import type { RequestOutcome } from '../metrics/records.js';
import type { Cluster } from './cluster.js';
import type { RunControl } from './lifecycle.js';
import type { Replica } from './replica.js';

/** One autoscaled pool: its policy, settings, and what its replicas need to start. */
export interface ScaledPool {
  index: number;
  name: string;
  settings: AutoscaleSettings;
  policy: Autoscaler;
  /** From asking for a replica until it takes requests, s. */
  cold_start_s: number;
}

/**
 * Runs each autoscaled pool's policy every `interval_s`: measures the pool, asks the policy for a
 * replica count, and starts (cold) or drains replicas to reach it. Each change is an event.
 */
export class Autoscaling {
  /** Per pool: TTFTs of its requests finished since the last tick (the ttft_p90_s metric). */
  private readonly ttfts = new Map<number, number[]>();
  /** Per replica: its busy time and load integral at the last tick (gpu_busy; concurrency, queue). */
  private readonly busyAtTick: number[] = [];
  private readonly areaAtTick: number[] = [];
  private now_s = 0;

  constructor(
    private readonly pools: readonly ScaledPool[],
    private readonly cluster: Cluster,
    private readonly log: EventLog,
    /** Requests held at the gateway per pool (a pool at zero replicas). */
    private readonly held: (pool: number) => number,
  ) {
    // Only pools that scale on TTFT keep their requests' TTFTs (a window's worth, emptied each tick).
    for (const p of pools) if (p.settings.metric === 'ttft_p90_s') this.ttfts.set(p.index, []);
  }

  start(control: RunControl): void {
    for (const pool of this.pools) {
      const tick = (now_s: number): void => {
        this.tick(pool, now_s, control);
        if (control.running) control.at(now_s + pool.settings.interval_s, tick);
      };
      control.at(control.now_s + pool.settings.interval_s, tick);
    }
  }

  /** Finished requests' TTFTs, by pool, for the ttft_p90_s metric. */
  readonly watch = (o: RequestOutcome): void => {
    if (o.replica < 0 || o.status !== 'finished' || o.token_times_s.length === 0) return;
    this.ttfts.get(this.cluster.replicas[o.replica].pool_index)?.push(o.token_times_s[0] - o.arrival_s);
  };

  private tick(pool: ScaledPool, now_s: number, control: RunControl): void {
    const members = this.cluster.replicas.filter((r) => r.pool_index === pool.index);
    const ready = members.filter((r) => r.state === 'ready');
    const counted = members.filter((r) => r.state === 'ready' || r.state === 'starting');
    const snapshot: PoolSnapshot = { now_s, current: counted.length, ready: ready.length, value: this.measure(pool, now_s, ready, members), held: this.held(pool.index) };
    const { desired, rule } = pool.policy.decide(snapshot);
    if (desired > snapshot.current) {
      for (let k = snapshot.current; k < desired; k++) control.addReplica(pool.cold_start_s, pool.name);
      this.note(now_s, 'scale_up', pool, snapshot, desired, rule);
    } else if (desired < snapshot.current) {
      // Replicas still starting go first (nothing to drain), then the newest ready ones.
      const order = [...counted.filter((r) => r.state === 'starting'), ...ready].reverse().sort((a, b) => stateRank(a) - stateRank(b));
      for (const r of order.slice(0, snapshot.current - desired)) control.drainReplica(r.index);
      this.note(now_s, 'scale_down', pool, snapshot, desired, rule);
    }
  }

  /** The metric over the pool's ready replicas now (or over the interval just ended). */
  private measure(pool: ScaledPool, now_s: number, ready: readonly Replica[], members: readonly Replica[]): number | null {
    const metric = pool.settings.metric;
    if (metric === 'ttft_p90_s') {
      const window = (this.ttfts.get(pool.index) as number[]).splice(0);
      return window.length === 0 ? null : quantileSorted(window.sort((a, b) => a - b), 0.9);
    }
    this.now_s = now_s;
    if (metric === 'gpu_busy') return this.busyFraction(pool, ready, members);
    if (metric === 'concurrency' || metric === 'queue') return this.meanLoad(pool, now_s, metric, ready, members);
    if (ready.length === 0) return null;
    const starting = members.filter((r) => r.state === 'starting').length;
    return ready.reduce((acc, r) => acc + r.kv_used_fraction, 0) / (ready.length + starting);
  }

  /**
   * Requests in flight (or waiting) per replica, averaged over the interval as a metrics pipeline
   * averages a gauge, not sampled at the tick. As HPA does, a replica not ready yet counts as
   * carrying none of the load: the scale-up it brings is not asked for again (kubernetes.io,
   * horizontal-pod-autoscale, "Algorithm details").
   */
  private meanLoad(pool: ScaledPool, now_s: number, metric: 'concurrency' | 'queue', ready: readonly Replica[], members: readonly Replica[]): number | null {
    let area = 0;
    for (const r of members) {
      r.accrue(now_s);
      const total = metric === 'concurrency' ? r.outstanding_area : r.waiting_area;
      area += total - (this.areaAtTick[r.index] ?? 0);
      this.areaAtTick[r.index] = total;
    }
    if (ready.length === 0) return null;
    const starting = members.filter((r) => r.state === 'starting').length;
    return area / pool.settings.interval_s / (ready.length + starting);
  }

  /** Step time over the last interval ÷ (interval × ready replicas): the share of time the GPUs computed. */
  private busyFraction(pool: ScaledPool, ready: readonly Replica[], members: readonly Replica[]): number | null {
    let busy = 0;
    for (const r of members) {
      const until = r.busyUntil(this.now_s);
      busy += until - (this.busyAtTick[r.index] ?? 0);
      this.busyAtTick[r.index] = until;
    }
    const starting = members.filter((r) => r.state === 'starting').length;
    return ready.length === 0 ? null : busy / (pool.settings.interval_s * (ready.length + starting));
  }

  private note(time_s: number, kind: 'scale_up' | 'scale_down', pool: ScaledPool, s: PoolSnapshot, desired: number, rule: string): void {
    this.log.record({
      time_s,
      kind,
      pool: pool.name,
      detail: `${rule}: ${s.current} → ${desired} replicas`,
      data: { metric: pool.settings.metric, value: s.value, target: pool.settings.target, from_replicas: s.current, to_replicas: desired, held: s.held },
    });
  }
}

/** Starting replicas are cheapest to stop (nothing to drain), then ready ones, newest first. */
function stateRank(r: Replica): number {
  return r.state === 'starting' ? 0 : 1;
}
