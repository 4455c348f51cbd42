import { describe, expect, it } from 'vitest';
import type { AutoscaleSettings, PoolSnapshot } from '../../sim/autoscale/autoscaler.js';
import { HPA } from '../../sim/autoscale/hpa.js';

/** Kubernetes' HPA defaults (kubernetes.io, horizontal-pod-autoscale): tolerance 0.1, windows 0 s up and 300 s down, 100 % or 4 pods up and 100 % down per 15 s. */
const settings = (over: Partial<AutoscaleSettings> = {}): AutoscaleSettings => ({
  min_replicas: 1,
  max_replicas: 20,
  metric: 'concurrency',
  target: 10,
  interval_s: 15,
  tolerance: 0.1,
  scale_up_stabilization_s: 0,
  scale_down_stabilization_s: 300,
  scale_up_percent: 100,
  scale_up_replicas: 4,
  scale_down_percent: 100,
  policy_period_s: 15,
  ...over,
});
const at = (now_s: number, current: number, value: number | null, held = 0): PoolSnapshot => ({ now_s, current, ready: current, value, held });

describe('HPA', () => {
  it('asks for ceil(current × value ÷ target)', () => {
    // 2 replicas at 26 in flight each, target 10: ceil(2 × 2.6) = 6.
    expect(HPA.create(settings()).decide(at(15, 2, 26)).desired).toBe(6);
  });

  it('keeps its size inside the tolerance band', () => {
    const hpa = HPA.create(settings());
    expect(hpa.decide(at(15, 4, 10.9)).desired).toBe(4); // 9 % over: within 10 %
    expect(hpa.decide(at(30, 4, 11.5)).desired).toBe(5); // 15 % over: ceil(4 × 1.15) = 5
  });

  it('grows by at most max(100 %, 4 replicas) per period', () => {
    const hpa = HPA.create(settings());
    // From 1 replica at 10× target: raw 10, but at most 1 + max(1, 4) = 5 this period.
    expect(hpa.decide(at(15, 1, 100)).desired).toBe(5);
    // Next period, from 5: raw ceil(5 × 10) = 50, capped at 5 + max(5, 4) = 10.
    expect(hpa.decide(at(30, 5, 100)).desired).toBe(10);
  });

  it('scales down only to the highest recommendation of the last 300 s', () => {
    const hpa = HPA.create(settings());
    expect(hpa.decide(at(0, 8, 10)).desired).toBe(8);
    // Load drops to a quarter: raw ceil(8 × 0.25) = 2, but 8 was recommended within 300 s.
    expect(hpa.decide(at(15, 8, 2.5)).desired).toBe(8);
    expect(hpa.decide(at(285, 8, 2.5)).desired).toBe(8);
    // At 300 s the t = 0 recommendation has left the window: 2.
    expect(hpa.decide(at(300, 8, 2.5)).desired).toBe(2);
  });

  it('stays within [min, max], and scales a pool at zero up to one when requests wait for it', () => {
    const hpa = HPA.create(settings({ min_replicas: 0, max_replicas: 3, scale_down_stabilization_s: 0 }));
    expect(hpa.decide(at(15, 2, 100)).desired).toBe(3);
    expect(hpa.decide(at(30, 3, 0)).desired).toBe(0);
    expect(hpa.decide(at(45, 0, null)).desired).toBe(0);
    expect(hpa.decide(at(60, 0, null, 2)).desired).toBe(1);
  });

  it('keeps its size when nothing was measured', () => {
    expect(HPA.create(settings()).decide(at(15, 3, null)).desired).toBe(3);
  });
});
