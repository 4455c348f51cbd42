/*
 * What a sweep records per point: the metric columns and points/<index>.json's record. It sits
 * below every other sweep module (it imports none of them), so the planner, the runner, the
 * store, the table and the report all read one vocabulary and their imports run one way.
 */

/** The summary figures a sweep keeps per point (sweep.arrow's metric columns, in order). */
export const METRIC_NAMES = [
  'requests_per_s',
  'output_tokens_per_s',
  'goodput_req_per_s',
  'slo_attainment',
  'ttft_p50_s',
  'ttft_p90_s',
  'ttft_p99_s',
  'tpot_p50_s',
  'tpot_p90_s',
  'tpot_p99_s',
  'e2e_p50_s',
  'e2e_p90_s',
  'e2e_p99_s',
  'kv_mean_utilization',
  'preemptions',
  'usd_per_million_output_tokens',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type PointMetrics = Record<MetricName, number | null>;

/** `--find-max-rate` figures: null max_rate_per_s when even the lowest rate tried missed the target. */
export interface MaxRateResult {
  max_rate_per_s: number | null;
  /** Simulations the search ran for this point. */
  rate_runs: number;
}

/** points/<index>.json: one finished point, written atomically as soon as it finishes. */
export interface PointRecord {
  plan: string;
  index: number;
  /** Aligned with the plan's keys. */
  values: unknown[];
  status: 'ok' | 'failed';
  error: string | null;
  metrics: PointMetrics | null;
  max_rate: MaxRateResult | null;
  wall_s: number;
}
