import type { SchedulerName } from '../scenario/types.js';
import type { SchedulerFactory } from './scheduler.js';
import { VllmV1Scheduler } from './vllmV1.js';

/** One line per policy: adding a scheduler is one file plus one entry here. */
export const SCHEDULERS: Record<SchedulerName, SchedulerFactory> = {
  vllm: (kv, limits) => new VllmV1Scheduler(kv, limits),
};
