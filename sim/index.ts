/**
 * The programmatic API: `simulate(scenario)` runs one scenario and returns its summary and
 * totals. The CLI is a thin layer over these functions.
 */
import { runSimulation, type RunHooks, type RunResult } from './cluster/simulate.js';
import { resolveScenario } from './setup/resolve.js';
import type { ScenarioInput } from './scenario/types.js';
import { parseScenarioObject } from './setup/load.js';

export { loadScenario, parseScenarioObject } from './setup/load.js';
export { resolveScenario, type ResolvedScenario, type RunSetup } from './setup/resolve.js';
export { latencyModelFor } from './setup/latency.js';
export { runSimulation, type RunHooks, type RunResult, type RunTotals } from './cluster/simulate.js';
export type { ScenarioInput } from './scenario/types.js';
export { registerScheduler, schedulerNames } from './scheduler/registry.js';
export { registerRouter, routerNames } from './routing/registry.js';
export type { SchedulerFactory, SchedulerTraits, ReplicaScheduler, StepPlan } from './scheduler/scheduler.js';
export type { RouterFactory, Router, ReplicaLoad, ReplicaState } from './routing/router.js';
export type { RunControl } from './cluster/lifecycle.js';
export type { Summary, UncertaintySummary } from './metrics/summary.js';
export type { RequestOutcome } from './metrics/records.js';
export { InfersimError } from './errors.js';
export { runSweep, parseShard, type RunSweepOptions, type SweepResult } from './sweep/run.js';
export { mergeSweeps, type MergeResult } from './sweep/merge.js';
export { parseListFlag, type SweptList } from './sweep/grid.js';
export type { SweepPlan, FindMaxRate } from './sweep/plan.js';
export type { PointRecord } from './sweep/record.js';
export type { SweepManifest } from './sweep/store.js';

/**
 * Validates a scenario object (as parsed from YAML/JSON, paths already absolute), fills
 * defaults and runs it. Writes output files only when `hooks.outDir` is given.
 */
export function simulate(scenario: ScenarioInput | unknown, hooks: RunHooks = {}): RunResult {
  const input = parseScenarioObject(scenario);
  return runSimulation(resolveScenario(input), hooks);
}
