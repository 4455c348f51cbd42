import type { SchedulerName } from '../scenario/types.js';
import type { SchedulerFactory } from './scheduler.js';
import { VLLM_V1 } from './vllmV1.js';

/** One line per policy: adding a scheduler is one file plus one entry here. */
export const SCHEDULERS: Partial<Record<SchedulerName, SchedulerFactory>> = {
  vllm: VLLM_V1,
};
