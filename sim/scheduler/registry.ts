import { Registry } from '../engine/registry.js';
import { DYNAMIC } from './dynamic.js';
import { ORCA } from './orca.js';
import type { SchedulerFactory } from './scheduler.js';
import { STATIC } from './static.js';
import { SARATHI, VLLM_V0 } from './vllmV0.js';
import { VLLM_V1 } from './vllmV1.js';

/** One line per built-in policy: adding a scheduler is one file plus one entry here. */
const registry = new Registry<SchedulerFactory>('scheduler', [VLLM_V1, VLLM_V0, SARATHI, ORCA, STATIC, DYNAMIC]);

/** Every policy engine.scheduler may name: the built-ins, then those registered at run time, in order. */
export const SCHEDULERS = registry.table;

/** The names engine.scheduler accepts, built-ins first. */
export function schedulerNames(): string[] {
  return registry.names();
}

/** Adds a scheduler written outside sim/scheduler/ (a test's toy scheduler, an experiment); returns its removal. */
export function registerScheduler(factory: SchedulerFactory): () => void {
  return registry.register(factory);
}
