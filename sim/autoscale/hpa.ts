import type { Autoscaler, AutoscalerFactory, AutoscaleSettings, PoolSnapshot, ScaleDecision } from './autoscaler.js';

/**
 * Kubernetes' Horizontal Pod Autoscaler, as its documentation states the algorithm
 * (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/): desired =
 * ceil(current × value ÷ target); no change inside the tolerance band; a scale-down acts on the
 * highest recommendation of the stabilization window, a scale-up on the lowest of its own; the
 * change per period is bounded by the scaling policies; the result stays in [min, max].
 */
class Hpa implements Autoscaler {
  private readonly recommendations: { t_s: number; desired: number }[] = [];
  private readonly changes: { t_s: number; from: number; to: number }[] = [];

  constructor(private readonly s: AutoscaleSettings) {}

  decide(p: PoolSnapshot): ScaleDecision {
    const raw = this.recommend(p);
    this.forget(p.now_s);
    this.recommendations.push({ t_s: p.now_s, desired: raw.desired });
    const stable = this.stabilized(p.now_s, p.current, raw.desired);
    const limited = this.rateLimited(p.now_s, p.current, stable);
    const desired = Math.min(this.s.max_replicas, Math.max(this.s.min_replicas, limited));
    if (desired !== p.current) this.changes.push({ t_s: p.now_s, from: p.current, to: desired });
    const notes = [raw.rule, ...(stable !== raw.desired ? [`stabilized to ${stable}`] : []), ...(limited !== stable ? [`rate-limited to ${limited}`] : [])];
    if (desired !== limited) notes.push(`bounded to [${this.s.min_replicas}, ${this.s.max_replicas}]`);
    return { desired, rule: notes.join('; ') };
  }

  /** Drops what no window looks at any more: a long run keeps a bounded history. */
  private forget(now_s: number): void {
    const horizon = now_s - Math.max(this.s.scale_up_stabilization_s, this.s.scale_down_stabilization_s, this.s.policy_period_s);
    while (this.recommendations.length > 0 && this.recommendations[0].t_s <= horizon) this.recommendations.shift();
    while (this.changes.length > 0 && this.changes[0].t_s <= horizon) this.changes.shift();
  }

  /** The raw recommendation: ceil(current × value ÷ target), unless within tolerance. */
  private recommend(p: PoolSnapshot): ScaleDecision {
    const { metric, target, tolerance } = this.s;
    // A pool at zero has no metric: any request held for it calls for one replica (scale from zero).
    if (p.current === 0) return p.held > 0 ? { desired: 1, rule: `${p.held} requests wait for a replica of a pool at 0: 1` } : { desired: 0, rule: 'idle at 0' };
    if (p.value === null) return { desired: p.current, rule: `${metric}: nothing measured, keeps ${p.current}` };
    const ratio = p.value / target;
    const shown = `${metric} ${p.value.toPrecision(4)} vs target ${target}`;
    if (Math.abs(ratio - 1) <= tolerance) return { desired: p.current, rule: `${shown}: within tolerance ${tolerance}, keeps ${p.current}` };
    const desired = Math.ceil(p.current * ratio);
    return { desired, rule: `${shown}: ceil(${p.current} × ${ratio.toPrecision(4)}) = ${desired}` };
  }

  /** Scale-up takes the lowest recommendation of its window, scale-down the highest of its own. */
  private stabilized(now_s: number, current: number, desired: number): number {
    const within = (w: number) => this.recommendations.filter((r) => r.t_s > now_s - w || r.t_s === now_s).map((r) => r.desired);
    if (desired > current) return Math.max(current, Math.min(...within(this.s.scale_up_stabilization_s)));
    if (desired < current) return Math.min(current, Math.max(...within(this.s.scale_down_stabilization_s)));
    return desired;
  }

  /** The change over the last policy period may not exceed the policies' bounds. */
  private rateLimited(now_s: number, current: number, desired: number): number {
    const recent = this.changes.filter((c) => c.t_s > now_s - this.s.policy_period_s);
    const base = recent.length === 0 ? current : recent[0].from;
    if (desired > current) {
      const cap = base + Math.max(Math.ceil((base * this.s.scale_up_percent) / 100), this.s.scale_up_replicas);
      return Math.min(desired, Math.max(current, cap));
    }
    if (desired < current) {
      const floor = base - Math.floor((base * this.s.scale_down_percent) / 100);
      return Math.max(desired, Math.min(current, floor));
    }
    return desired;
  }
}

export const HPA: AutoscalerFactory = {
  name: 'hpa',
  description: "Kubernetes HPA: desired = ceil(current × value ÷ target), tolerance, stabilization windows, scaling policies",
  create: (settings) => new Hpa(settings),
};
