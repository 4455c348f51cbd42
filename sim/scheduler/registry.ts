import { DYNAMIC } from './dynamic.js';
import { ORCA } from './orca.js';
import type { SchedulerFactory } from './scheduler.js';
import { STATIC } from './static.js';
import { SARATHI, VLLM_V0 } from './vllmV0.js';
import { VLLM_V1 } from './vllmV1.js';

/** One line per built-in policy: adding a scheduler is one file plus one entry here. */
const BUILT_IN: readonly SchedulerFactory[] = [VLLM_V1, VLLM_V0, SARATHI, ORCA, STATIC, DYNAMIC];

/** Every policy engine.scheduler may name: the built-ins, then those registered at run time, in order. */
export const SCHEDULERS: Readonly<Record<string, SchedulerFactory>> = Object.fromEntries(BUILT_IN.map((f) => [f.name, f]));

/** The names engine.scheduler accepts, built-ins first. */
export function schedulerNames(): string[] {
  return Object.keys(SCHEDULERS);
}

/**
 * Adds a policy written outside sim/scheduler/ (a test's toy scheduler, an experiment): from now
 * on a scenario may name it. Returns a function that removes it again. A name already taken is
 * refused, so a built-in cannot be replaced by accident.
 */
export function registerScheduler(factory: SchedulerFactory): () => void {
  const { name } = factory;
  if (Object.hasOwn(SCHEDULERS, name)) throw new Error(`a scheduler named '${name}' is already registered`);
  const table = SCHEDULERS as Record<string, SchedulerFactory>;
  table[name] = factory;
  return () => {
    if (table[name] === factory) delete table[name];
  };
}
