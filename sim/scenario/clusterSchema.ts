import { z } from 'zod';
import { MAX_REPLICAS, MAX_REQUESTS, MAX_TIME_S, MAX_TOKEN_COUNT, shown } from './bounds.js';
import { bool, num, oneOf, positiveInt, text } from './leaves.js';

/*
 * The cluster vocabulary (types in types.ts): router settings, pools, traffic management.
 * Cross-references (a pool a split names, a router setting on the wrong router) are checked in
 * sim/setup, which knows the pools and the routers' traits.
 */

const weight = num({ gte: 0, lte: 1e6, why: 'a relative weight' });

/** The keys that choose and tune a router, at `cluster.*` or on a pool. */
export function routerSettings(routers: readonly string[]) {
  return {
    router: (oneOf(routers) as z.ZodType<string>).optional(),
    balance_threshold: num({ int: true, gte: 0, lte: MAX_REQUESTS, why: 'a count of requests' }).optional(),
    long_prompt_tokens: num({ int: true, gte: 1, lte: MAX_TOKEN_COUNT, why: 'the outputs store counts as int32' }).optional(),
    long_prompt_pool: text.optional(),
    latency_metric: oneOf(['ttft', 'e2e']).optional(),
    ewma_alpha: num({ gt: 0, lte: 1 }).optional(),
    weights: z
      .object({ queue: weight.optional(), kv: weight.optional(), prefix: weight.optional(), tokens: weight.optional() })
      .strict()
      .optional(),
  };
}

export const poolReplicas = num({ int: true, gte: 1, lte: MAX_REPLICAS, why: 'a simulation holds every replica in memory' });
/** A pool may start empty when its autoscaler may scale it from zero (checked in setup). */
const poolStartReplicas = num({ int: true, gte: 0, lte: MAX_REPLICAS, why: 'a simulation holds every replica in memory' });

const TIME = { lte: MAX_TIME_S, why: `simulated time is limited to ${shown(MAX_TIME_S)} s` };

/** An autoscaler's settings; cross-checks (min ≤ max, the pool's replicas within them) are setup's. */
export const autoscaleSchema = z
  .object({
    min_replicas: poolStartReplicas.optional(),
    max_replicas: poolReplicas.optional(),
    metric: oneOf(['concurrency', 'queue', 'kv_utilization', 'gpu_busy', 'ttft_p90_s']).optional(),
    target: num({ gt: 0, lte: 1e9, why: 'a per-replica figure' }).optional(),
    interval_s: num({ gt: 0, ...TIME }).optional(),
    tolerance: num({ gte: 0, lte: 10, why: 'a fraction of the target' }).optional(),
    scale_up_stabilization_s: num({ gte: 0, ...TIME }).optional(),
    scale_down_stabilization_s: num({ gte: 0, ...TIME }).optional(),
    scale_up_percent: num({ gt: 0, lte: 1e6, why: 'a percentage' }).optional(),
    scale_up_replicas: num({ int: true, gte: 0, lte: MAX_REPLICAS, why: 'a count of replicas' }).optional(),
    scale_down_percent: num({ gt: 0, lte: 100, why: 'a percentage of the replicas' }).optional(),
    policy_period_s: num({ gt: 0, ...TIME }).optional(),
  })
  .strict();

export const coldStartSchema = z
  .object({
    provisioning_s: num({ gte: 0, ...TIME }).optional(),
    storage: oneOf(['local_nvme', 'network_volume', 'object_store', 'host_cache']).optional(),
    load_bandwidth_gbps: num({ gt: 0, lte: 1e4, why: 'GB/s per GPU' }).optional(),
    startup_s: num({ gte: 0, ...TIME }).optional(),
  })
  .strict();

/** Random replica failures; defaults (sourced) are setup's. */
export const failuresSchema = z
  .object({
    mtbf_h: num({ gt: 0, lte: 1e9, why: 'hours' }).optional(),
    repair_s: num({ gte: 0, ...TIME }).optional(),
  })
  .strict();

/** Replica failures at given times; the pool and replica they name are checked in setup. */
export const faultsSchema = z
  .array(
    z
      .object({
        at_s: num({ gte: 0, ...TIME }),
        pool: text.optional(),
        replica: num({ int: true, gte: 0, lte: MAX_REPLICAS, why: 'a replica of the pool, from 0' }),
        down_s: num({ gte: 0, ...TIME }).optional(),
      })
      .strict(),
  )
  .min(1, { message: 'must list at least one fault' });

export const maxRetries = num({ int: true, gte: 0, lte: 100, why: 'a count of resends' });

/** A pool: its name and size, and the sections it overrides (their schemas are the top level's, all keys optional). */
export function poolSchema<H extends z.ZodTypeAny, P extends z.ZodTypeAny, E extends z.ZodTypeAny>(
  routers: readonly string[],
  sections: { hardware: H; precision: P; engine: E },
) {
  return z
    .object({
      name: z.custom<string>((v) => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v), {
        message: 'must be a name of letters, digits, _, . and - (it names the pool in every output)',
      }),
      replicas: poolStartReplicas,
      role: oneOf(['unified', 'prefill', 'decode']).optional(),
      model: text.optional(),
      hardware: sections.hardware.optional(),
      precision: sections.precision.optional(),
      engine: sections.engine.optional(),
      autoscale: autoscaleSchema.optional(),
      cold_start: coldStartSchema.optional(),
      failures: failuresSchema.optional(),
      ...routerSettings(routers),
    })
    .strict();
}

const percent = num({ gt: 0, lte: 100 });

export const trafficSchema = z
  .object({
    split: z
      .array(z.object({ pool: text, weight: num({ gt: 0, lte: 1e6, why: 'a relative weight' }) }).strict())
      .min(1, { message: 'must list at least one pool' })
      .optional(),
    sticky_by: oneOf(['user', 'session', 'none']).optional(),
    canary: z
      .object({
        baseline: text,
        canary: text,
        steps: z
          .array(percent)
          .min(1, { message: 'must list at least one step (percent of traffic)' })
          .superRefine((steps, ctx) => {
            for (let i = 1; i < steps.length; i++) {
              if (steps[i] <= steps[i - 1]) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i], message: `must be > the step before (${steps[i - 1]})` });
            }
          }),
        interval_s: num({ gt: 0, lte: MAX_TIME_S, why: `simulated time is limited to ${shown(MAX_TIME_S)} s` }),
        metric: oneOf(['ttft_p99', 'e2e_p99', 'tpot_p99', 'error_rate']),
        max_regression: num({ gte: 0, lte: 100, why: 'a fraction: 0.2 allows 20 % worse' }),
        min_requests: positiveInt.optional(),
      })
      .strict()
      .optional(),
    shadow: z.object({ source: text, target: text, fraction: num({ gt: 0, lte: 1 }) }).strict().optional(),
  })
  .strict();

/** The prefill → decode KV link; defaults per link and the pools it joins are checked in setup. */
export const transferSchema = z
  .object({
    link: oneOf(['nvlink', 'infiniband', 'roce', 'pcie', 'tcp']).optional(),
    bandwidth_gbps: num({ gt: 0, lte: 1e5, why: 'Gb/s per GPU; no link is faster' }).optional(),
    latency_us: num({ gte: 0, lte: 1e7, why: 'microseconds; ten seconds is no link' }).optional(),
    layerwise: bool.optional(),
  })
  .strict();
