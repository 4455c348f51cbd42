import { quantileSorted } from '../metrics/stats.js';
import type { RequestOutcome } from '../metrics/records.js';
import type { EventLog } from '../metrics/events.js';
import type { CanaryMetric, TrafficInput } from '../scenario/types.js';
import type { Cluster } from './cluster.js';
import type { RunControl } from './lifecycle.js';
import type { Traffic } from './traffic.js';

type CanaryRule = Required<NonNullable<TrafficInput['canary']>>;

/** What one pool's requests that left during an interval showed. */
class Window {
  readonly values: number[] = [];
  requests = 0;
  errors = 0;

  add(o: RequestOutcome, metric: CanaryMetric): void {
    this.requests++;
    if (o.status !== 'finished') {
      this.errors++;
      // A failed request is as slow as it gets: a pool that fails its requests cannot pass on latency.
      this.values.push(Infinity);
      return;
    }
    const times = o.token_times_s;
    if (metric === 'ttft_p99' && times.length > 0) this.values.push(times[0] - o.arrival_s);
    else if (metric === 'e2e_p99') this.values.push(o.finish_s - o.arrival_s);
    else if (metric === 'tpot_p99' && o.output_tokens > 1) this.values.push((o.finish_s - times[0]) / (o.output_tokens - 1));
  }

  /** The metric over the interval; null without a request to judge by. */
  value(metric: CanaryMetric): number | null {
    if (metric === 'error_rate') return this.requests === 0 ? null : this.errors / this.requests;
    if (this.values.length === 0) return null;
    const sorted = this.values.sort((a, b) => a - b);
    // Between a finite value and a failure the percentile is a failure (∞ − x interpolates to NaN only at ∞ − ∞).
    const p = quantileSorted(sorted, 0.99);
    return Number.isNaN(p) ? Infinity : p;
  }
}

/**
 * A progressive rollout: the canary pool takes `steps[0]` % of its model's traffic, and at each
 * interval's end moves up a step if its metric over the interval is within `max_regression` of the
 * baseline's (canary ≤ baseline × (1 + max_regression)); a regression sends it back to 0 % for the
 * rest of the run. Too few canary requests in an interval: the step holds. A failed request counts as
 * an infinite latency. It stops judging at 100 % (nothing left to compare with) or after a roll-back.
 */
export class CanaryRollout {
  private step = 0;
  private done = false;
  private baselineWindow = new Window();
  private canaryWindow = new Window();
  private readonly baseline: number;
  private readonly canary: number;
  private readonly model: string;

  constructor(
    private readonly rule: CanaryRule,
    private readonly traffic: Traffic,
    private readonly cluster: Cluster,
    private readonly log: EventLog,
    pools: readonly { name: string; model: string }[],
  ) {
    this.baseline = pools.findIndex((p) => p.name === rule.baseline);
    this.canary = pools.findIndex((p) => p.name === rule.canary);
    this.model = pools[this.canary].model;
    this.done = rule.steps[0] === 100;
    this.setShare(rule.steps[0]);
  }

  /** Schedules the first judgement. */
  start(control: RunControl): void {
    const tick = (now_s: number): void => {
      this.judge(now_s);
      // After the last request no interval has anything to judge: the run may end.
      if (!this.done && control.running) control.at(now_s + this.rule.interval_s, tick);
    };
    control.at(control.now_s + this.rule.interval_s, tick);
  }

  /** Every request as it leaves: the baseline's and the canary's (mirrored copies aside) fill the interval's windows. */
  watch(o: RequestOutcome): void {
    if (this.done || o.shadow === true) return;
    // A request its pool could not take (no replica ready) is that pool's error too.
    const pool = o.replica >= 0 ? this.cluster.replicas[o.replica].pool : o.pool;
    if (pool === this.rule.canary) this.canaryWindow.add(o, this.rule.metric);
    else if (pool === this.rule.baseline) this.baselineWindow.add(o, this.rule.metric);
  }

  private judge(now_s: number): void {
    const r = this.rule;
    const metric = r.metric;
    const canaryValue = this.canaryWindow.value(metric);
    const baselineValue = this.baselineWindow.value(metric);
    const from = r.steps[this.step];
    const figures = { metric, canary_value: canaryValue, baseline_value: baselineValue, canary_requests: this.canaryWindow.requests, baseline_requests: this.baselineWindow.requests };
    this.baselineWindow = new Window();
    this.canaryWindow = new Window();
    const limit = baselineValue === null ? null : baselineValue * (1 + r.max_regression);
    const shown = (v: number | null): string => (v === null ? 'none' : v.toPrecision(4));
    const compared = `${metric} canary ${shown(canaryValue)} vs baseline ${shown(baselineValue)} (limit ${shown(limit)} = baseline × ${1 + r.max_regression})`;
    if (figures.canary_requests < r.min_requests || canaryValue === null || limit === null) {
      this.note(now_s, 'canary_hold', `${figures.canary_requests} canary requests < min_requests ${r.min_requests} or nothing to compare: ${compared}; stays at ${from} %`, { ...figures, limit, from_percent: from, to_percent: from });
      return;
    }
    if (canaryValue > limit) {
      this.done = true;
      this.setShare(0);
      this.note(now_s, 'canary_rollback', `${compared}: exceeded, ${from} % → 0 % for the rest of the run`, { ...figures, limit, from_percent: from, to_percent: 0 });
      return;
    }
    if (this.step === r.steps.length - 1) {
      // The last step short of 100 %: the baseline still runs beside it, so it is still judged.
      this.note(now_s, 'canary_hold', `${compared}: within, at its last step, stays at ${from} %`, { ...figures, limit, from_percent: from, to_percent: from });
      return;
    }
    this.step++;
    const to = r.steps[this.step];
    // At 100 % the baseline takes nothing: there is nothing left to compare with.
    this.done = to === 100;
    this.setShare(to);
    this.note(now_s, 'canary_step', `${compared}: within, ${from} % → ${to} %`, { ...figures, limit, from_percent: from, to_percent: to });
  }

  private setShare(percent: number): void {
    this.traffic.divide(this.model, [this.canary, this.baseline], [percent, 100 - percent]);
  }

  private note(time_s: number, kind: 'canary_step' | 'canary_hold' | 'canary_rollback', detail: string, data: Record<string, number | string | null>): void {
    this.log.record({ time_s, kind, pool: this.rule.canary, detail, data });
  }
}
