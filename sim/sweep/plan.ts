import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InfersimError } from '../errors.js';
import { loadScenario } from '../scenario/load.js';
import type { ScenarioInput } from '../scenario/types.js';
import type { MetricName } from './point.js';
import { latencyMetricFor } from './report.js';
import { combineGrid, expandGrid, keyKind, setText, type KeyKind, type SweptList } from './grid.js';

export const RATE_KEY = 'workload.arrival.rate_per_s';

export interface FindMaxRate {
  /** SLO attainment the rate must keep (0..1]. */
  target: number;
  /** Relative width of the final bracket: (high − low) ÷ low ≤ precision. */
  precision: number;
}

export interface SweepOptions {
  scenario: string;
  grid?: SweptList[];
  zip?: SweptList[];
  /** `--set` overrides applied to every point before its swept values. */
  set?: string[];
  seed?: number;
  findMaxRate?: FindMaxRate;
  cwd?: string;
}

/** A sweep, fully determined before any point runs. */
export interface SweepPlan {
  /** Absolute path of the scenario file. */
  scenario: string;
  set: string[];
  seed: number | null;
  keys: string[];
  kinds: KeyKind[];
  /** `values[i]` = point i's values, aligned with `keys`. */
  values: unknown[][];
  grid: Record<string, unknown[]>;
  zip: Record<string, unknown[]>;
  findMaxRate: FindMaxRate | null;
  /** The Pareto front's latency axis (from the scenario's SLO) and whether the scenario has an SLO. */
  latency: MetricName;
  slo: boolean;
  /**
   * Hash of what decides every point's result: the scenario file's text, the overrides, the
   * swept values and the mode. Point files, shards and reruns must carry the same one.
   */
  fingerprint: string;
}

export function buildPlan(opts: SweepOptions): SweepPlan {
  const cwd = opts.cwd ?? process.cwd();
  const set = opts.set ?? [];
  const base = loadScenario(opts.scenario, { set, seed: opts.seed, cwd });
  const grid = combineGrid(base.input.sweep, opts.grid ?? [], opts.zip ?? []);
  const values = expandGrid(grid);
  const findMaxRate = opts.findMaxRate ?? null;
  if (findMaxRate) checkFindMaxRate(base.input, grid.keys, findMaxRate);
  const plan: SweepPlan = {
    scenario: base.sourcePath,
    set,
    seed: opts.seed ?? null,
    keys: grid.keys,
    kinds: grid.keys.map((_, k) => keyKind(values.map((v) => v[k]))),
    values,
    grid: Object.fromEntries(grid.grid.map((l) => [l.key, l.values])),
    zip: Object.fromEntries(grid.zip.map((l) => [l.key, l.values])),
    findMaxRate,
    latency: latencyMetricFor(base.input.slo),
    slo: Object.keys(base.input.slo ?? {}).length > 0,
    fingerprint: '',
  };
  const text = readFileSync(base.sourcePath, 'utf8');
  plan.fingerprint = createHash('sha256')
    .update(JSON.stringify({ text, set, seed: plan.seed, keys: plan.keys, values, findMaxRate }))
    .digest('hex')
    .slice(0, 16);
  return plan;
}

/**
 * Point i's scenario: the file, then `--set`, then the point's values, exactly as
 * `infersim run --set …` would load it (same typing, same errors naming the key). The main
 * thread loads every point before any runs, so a typo in a key stops the sweep at once; errors
 * only resolving can find (an invalid combination, a model that does not fit) are the point's.
 * Band re-runs are off unless the file, `--set` or the grid turns them on: they triple a point's cost.
 */
export function loadPoint(plan: SweepPlan, index: number, cwd = process.cwd()): ScenarioInput {
  const pointSet = plan.keys.map((key, k) => setText(key, plan.values[index][k]));
  const { input } = loadScenario(plan.scenario, { set: [...plan.set, ...pointSet], seed: plan.seed ?? undefined, cwd });
  if (input.metrics?.uncertainty === undefined) input.metrics = { ...(input.metrics ?? {}), uncertainty: false };
  delete input.sweep;
  delete input.output;
  return input;
}

function checkFindMaxRate(input: ScenarioInput, keys: readonly string[], f: FindMaxRate): void {
  if (!(f.target > 0 && f.target <= 1)) throw new InfersimError(`--target: must be > 0 and ≤ 1 (a fraction of requests meeting the SLO), got ${f.target}`);
  if (keys.includes(RATE_KEY)) {
    throw new InfersimError(`--find-max-rate searches ${RATE_KEY} itself; leave it out of the grid`);
  }
  const arrival = input.workload.arrival;
  if (arrival === undefined || !('rate_per_s' in arrival) || input.workload.trace !== undefined || input.workload.concurrency !== undefined) {
    throw new InfersimError(
      `--find-max-rate needs an open-loop generated load with ${RATE_KEY} (workload.arrival.process poisson, gamma or constant)` +
        `; this scenario has ${input.workload.trace ? 'a trace' : input.workload.concurrency !== undefined ? 'a closed loop (workload.concurrency)' : `arrival ${arrival?.process ?? 'none'}`}`,
    );
  }
  const slo = input.slo ?? {};
  if (slo.ttft_ms === undefined && slo.tpot_ms === undefined && slo.e2e_ms === undefined) {
    throw new InfersimError('--find-max-rate needs an SLO to attain: give slo.ttft_ms, slo.tpot_ms or slo.e2e_ms in the scenario (or --set slo.ttft_ms=…)');
  }
}
