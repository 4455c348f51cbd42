import type { SchedulerName } from '../scenario/types.js';
import { DYNAMIC } from './dynamic.js';
import { ORCA } from './orca.js';
import type { SchedulerFactory } from './scheduler.js';
import { STATIC } from './static.js';
import { VLLM_V1 } from './vllmV1.js';

/** One line per policy: adding a scheduler is one file plus one entry here. */
export const SCHEDULERS: Partial<Record<SchedulerName, SchedulerFactory>> = {
  vllm: VLLM_V1,
  orca: ORCA,
  static: STATIC,
  dynamic: DYNAMIC,
};
