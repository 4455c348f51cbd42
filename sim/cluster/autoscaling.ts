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
  watch(o: RequestOutcome): void {
    if (o.replica < 0 || o.status !== 'finished' || o.token_times_s.length === 0) return;
    this.ttfts.get(this.cluster.replicas[o.replica].pool_index)?.push(o.token_times_s[0] - o.arrival_s);
  }

  private tick(pool: ScaledPool, now_s: number, control: RunControl): void {
    const members = this.cluster.replicas.filter((r) => r.pool_index === pool.index);
    const ready = members.filter((r) => r.state === 'ready');
    const starting = members.filter((r) => r.state === 'starting');
    const current = ready.length + starting.length;
    const snapshot: PoolSnapshot = { now_s, current, ready: ready.length, value: this.measure(pool, now_s, ready, members, current), held: this.held(pool.index) };
    const { desired, rule } = pool.policy.decide(snapshot);
    if (desired > current) {
      for (let k = current; k < desired; k++) control.addReplica(pool.cold_start_s, pool.name);
      this.note(now_s, 'scale_up', pool, snapshot, desired, rule);
    } else if (desired < current) {
      // Replicas still starting go first (nothing to drain), then ready ones, newest first.
      const order = [...starting.reverse(), ...ready.reverse()];
      for (const r of order.slice(0, current - desired)) control.drainReplica(r.index);
      this.note(now_s, 'scale_down', pool, snapshot, desired, rule);
    }
  }

  /**
   * The metric per replica now (or over the interval just ended). The divisor `current` counts
   * starting replicas as carrying none of the load, as HPA does: the scale-up they bring is not
   * asked for again (kubernetes.io, horizontal-pod-autoscale, "Algorithm details"). Null with no
   * ready replica: nothing was measured.
   */
  private measure(pool: ScaledPool, now_s: number, ready: readonly Replica[], members: readonly Replica[], current: number): number | null {
    const metric = pool.settings.metric;
    if (metric === 'ttft_p90_s') {
      const window = (this.ttfts.get(pool.index) as number[]).splice(0);
      return window.length === 0 ? null : quantileSorted(window.sort((a, b) => a - b), 0.9);
    }
    // The integrals are read at every tick, so each interval's share starts where the last ended.
    const sinceTick = (seen: number[], total: (r: Replica) => number): number => {
      let sum = 0;
      for (const r of members) {
        const now = total(r);
        sum += now - (seen[r.index] ?? 0);
        seen[r.index] = now;
      }
      return sum;
    };
    const interval_s = pool.settings.interval_s;
    // Step time over the interval: the share of it the GPUs computed.
    if (metric === 'gpu_busy') {
      const busy_s = sinceTick(this.busyAtTick, (r) => r.busyUntil(now_s));
      return ready.length === 0 ? null : busy_s / (interval_s * current);
    }
    if (metric === 'concurrency' || metric === 'queue') {
      // Averaged over the interval as a metrics pipeline averages a gauge, not sampled at the tick.
      for (const r of members) r.accrue(now_s);
      const area = sinceTick(this.areaAtTick, (r) => (metric === 'concurrency' ? r.outstanding_area : r.waiting_area));
      return ready.length === 0 ? null : area / interval_s / current;
    }
    return ready.length === 0 ? null : ready.reduce((acc, r) => acc + r.kv_used_fraction, 0) / current;
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
