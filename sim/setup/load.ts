import * as scenario from '../scenario/load.js';
import type { PolicyNames, ScenarioInput } from '../scenario/types.js';
import { routerNames } from '../routing/registry.js';
import { schedulerNames } from '../scheduler/registry.js';

export { ScenarioValidationError, type LoadedScenario } from '../scenario/load.js';

/** What the command line and the API give loading; the policy names come from the registries. */
export type LoadOptions = Omit<scenario.LoadOptions, 'policies'>;

/*
 * Loading as the run sees it: engine.scheduler and cluster.router may name any registered policy,
 * built in or registered at run time (sim/scenario/ imports no policy, so it is told the names).
 */
function policies(): PolicyNames {
  return { schedulers: schedulerNames(), routers: routerNames() };
}

/** Scenario file + command-line overrides → validated input with absolute paths. */
export function loadScenario(file: string, opts: LoadOptions = {}): scenario.LoadedScenario {
  return scenario.loadScenario(file, { ...opts, policies: policies() });
}

/** Validation only (no files, no path resolution); a `null` value counts as absent. */
export function parseScenarioObject(obj: unknown): ScenarioInput {
  return scenario.parseScenarioObject(obj, { policies: policies() });
}
