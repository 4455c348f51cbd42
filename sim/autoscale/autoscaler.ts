/**
 * An autoscaler reads what a pool's metrics say at each tick and returns how many replicas the
 * pool should have; the cluster's handlers start (cold) or drain replicas to get there. The policy
 * changes nothing itself.
 */

import type { AutoscaleMetricName } from '../scenario/types.js';

/** The load signals an autoscaler may scale on: the scenario's vocabulary names them. */
export type AutoscaleMetric = AutoscaleMetricName;

/** What an autoscaler sees at a tick. */
export interface PoolSnapshot {
  now_s: number;
  /** Replicas counted as the pool's size: ready and starting (draining ones are on their way out). */
  current: number;
  ready: number;
  /** The metric's value now (null: nothing to measure, e.g. no ready replica or no finished request in the window). */
  value: number | null;
  /** Requests waiting at the gateway for a replica of this pool (a pool scaled to zero). */
  held: number;
}

/** A decision: the replica count wanted, and the rule that gave it (for events.arrow). */
export interface ScaleDecision {
  desired: number;
  rule: string;
}

export interface AutoscaleSettings {
  min_replicas: number;
  max_replicas: number;
  metric: AutoscaleMetric;
  target: number;
  interval_s: number;
  /** No change while |value ÷ target − 1| ≤ tolerance. */
  tolerance: number;
  /** A scale-up (down) acts on the lowest (highest) recommendation over this window, s. */
  scale_up_stabilization_s: number;
  scale_down_stabilization_s: number;
  /** Per `policy_period_s`, the pool may grow by max(this percent, `scale_up_replicas`) and shrink by this percent. */
  scale_up_percent: number;
  scale_up_replicas: number;
  scale_down_percent: number;
  policy_period_s: number;
}

export interface Autoscaler {
  decide(snapshot: PoolSnapshot): ScaleDecision;
}

export interface AutoscalerFactory {
  readonly name: string;
  readonly description: string;
  create(settings: AutoscaleSettings): Autoscaler;
}
