import type { AutoscaleSettings } from '../autoscale/autoscaler.js';
import { fieldError } from '../errors.js';
import type { AutoscaleInput } from '../scenario/types.js';

/**
 * Kubernetes HPA's defaults (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/ and
 * pkg/apis/autoscaling/v2/defaults.go): a 15 s sync period, tolerance 0.1, stabilization 0 s up
 * and 300 s down, scale-up by max(100 %, 4 pods) and scale-down by 100 % per 15 s.
 */
const HPA_DEFAULTS = {
  min_replicas: 1,
  interval_s: 15,
  tolerance: 0.1,
  scale_up_stabilization_s: 0,
  scale_down_stabilization_s: 300,
  scale_up_percent: 100,
  scale_up_replicas: 4,
  scale_down_percent: 100,
  policy_period_s: 15,
} as const;

/** An autoscaler's settings, HPA's defaults filled; `replicas` (the pool's start) must lie within [min, max]. */
export function resolveAutoscale(input: AutoscaleInput, replicas: number, replicasField: string): AutoscaleSettings {
  const where = 'autoscale';
  for (const key of ['max_replicas', 'metric', 'target'] as const) {
    if (input[key] === undefined) throw fieldError(`${where}.${key}`, 'required: an autoscaler needs max_replicas, a metric and its target per replica');
  }
  const s: AutoscaleSettings = { ...HPA_DEFAULTS, ...input } as AutoscaleSettings;
  if (s.min_replicas > s.max_replicas) throw fieldError(`${where}.min_replicas`, `must be ≤ max_replicas (${s.max_replicas})`, s.min_replicas);
  if (replicas < s.min_replicas || replicas > s.max_replicas) {
    throw fieldError(replicasField, `must lie within autoscale [min_replicas ${s.min_replicas}, max_replicas ${s.max_replicas}] (it is the count the run starts with)`, replicas);
  }
  if (s.metric === 'kv_utilization' || s.metric === 'gpu_busy') {
    if (s.target > 1) throw fieldError(`${where}.target`, `must be ≤ 1: ${s.metric} is a fraction`, s.target);
  }
  return s;
}
