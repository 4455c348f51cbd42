import { Registry } from '../engine/registry.js';
import type { RouterFactory } from './router.js';
import { PREFIX_AFFINITY, SESSION_AFFINITY } from './affinity.js';
import { LEAST_KV, LEAST_QUEUE } from './leastLoaded.js';
import { LATENCY_AWARE } from './latencyAware.js';
import { LORA_AFFINITY } from './loraAffinity.js';
import { LEAST_OUTSTANDING } from './leastOutstanding.js';
import { LEAST_TOKENS } from './leastTokens.js';
import { POWER_OF_TWO } from './powerOfTwo.js';
import { PROMPT_LENGTH } from './promptLength.js';
import { RANDOM } from './random.js';
import { ROUND_ROBIN } from './roundRobin.js';
import { WEIGHTED } from './weighted.js';

/** One line per built-in policy: adding a router is one file plus one entry here. */
const registry = new Registry<RouterFactory>('router', [
  ROUND_ROBIN,
  LEAST_OUTSTANDING,
  RANDOM,
  LEAST_QUEUE,
  LEAST_KV,
  POWER_OF_TWO,
  PREFIX_AFFINITY,
  SESSION_AFFINITY,
  LEAST_TOKENS,
  PROMPT_LENGTH,
  LATENCY_AWARE,
  WEIGHTED,
  LORA_AFFINITY,
]);

/** Every policy cluster.router may name: the built-ins, then those registered at run time, in order. */
export const ROUTERS = registry.table;

/** The names cluster.router accepts, built-ins first. */
export function routerNames(): string[] {
  return registry.names();
}

/** Adds a router written outside sim/routing/ (an experiment, a test's toy); returns its removal. */
export function registerRouter(factory: RouterFactory): () => void {
  return registry.register(factory);
}
