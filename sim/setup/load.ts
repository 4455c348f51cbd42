import * as scenario from '../scenario/load.js';
import type { ScenarioInput } from '../scenario/types.js';
import { schedulerNames } from '../scheduler/registry.js';

export { ScenarioValidationError, type LoadedScenario, type LoadOptions } from '../scenario/load.js';

/*
 * Loading as the run sees it: engine.scheduler may name any registered policy, built in or
 * registered at run time (sim/scenario/ knows only the built-in names, as it imports no policy).
 */

/** Scenario file + command-line overrides → validated input with absolute paths. */
export function loadScenario(file: string, opts: scenario.LoadOptions = {}): scenario.LoadedScenario {
  return scenario.loadScenario(file, { schedulers: schedulerNames(), ...opts });
}

/** Validation only (no files, no path resolution); a `null` value counts as absent. */
export function parseScenarioObject(obj: unknown): ScenarioInput {
  return scenario.parseScenarioObject(obj, { schedulers: schedulerNames() });
}
