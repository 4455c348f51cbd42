import type { SchedulerName } from '../scenario/types.js';
import { DYNAMIC } from './dynamic.js';
import { ORCA } from './orca.js';
import type { SchedulerFactory } from './scheduler.js';
import { STATIC } from './static.js';
import { SARATHI, VLLM_V0 } from './vllmV0.js';
import { VLLM_V1 } from './vllmV1.js';

/** One line per policy: adding a scheduler is one file plus one entry here. */
export const SCHEDULERS: Record<SchedulerName, SchedulerFactory> = {
  vllm: VLLM_V1,
  'vllm-v0': VLLM_V0,
  sarathi: SARATHI,
  orca: ORCA,
  static: STATIC,
  dynamic: DYNAMIC,
};
