import type { RouterName } from '../../scenario/types.js';
import type { RouterFactory } from '../router.js';
import { LEAST_OUTSTANDING } from './leastOutstanding.js';
import { RANDOM } from './random.js';
import { ROUND_ROBIN } from './roundRobin.js';

/** One line per policy: adding a router is one file plus one entry here. */
export const ROUTERS: Record<RouterName, RouterFactory> = {
  'round-robin': ROUND_ROBIN,
  'least-outstanding': LEAST_OUTSTANDING,
  random: RANDOM,
};
