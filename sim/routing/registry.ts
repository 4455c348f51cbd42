import type { RouterFactory } from './router.js';
import { LEAST_OUTSTANDING } from './leastOutstanding.js';
import { RANDOM } from './random.js';
import { ROUND_ROBIN } from './roundRobin.js';

/** One line per built-in policy: adding a router is one file plus one entry here. */
const BUILT_IN: readonly RouterFactory[] = [ROUND_ROBIN, LEAST_OUTSTANDING, RANDOM];

/** Every policy cluster.router may name, by name: the built-ins, then those registered at run time, in order. */
export const ROUTERS: Readonly<Record<string, RouterFactory>> = Object.fromEntries(BUILT_IN.map((f) => [f.name, f]));

/** The names cluster.router accepts, built-ins first. */
export function routerNames(): string[] {
  return Object.keys(ROUTERS);
}

/**
 * Adds a router written outside sim/routing/ (an experiment, a test's toy): from now on a scenario
 * may name it. Returns a function that removes it again. A name already taken is refused, so a
 * built-in cannot be replaced by accident.
 */
export function registerRouter(factory: RouterFactory): () => void {
  const { name } = factory;
  if (Object.hasOwn(ROUTERS, name)) throw new Error(`a router named '${name}' is already registered`);
  const table = ROUTERS as Record<string, RouterFactory>;
  table[name] = factory;
  return () => {
    if (table[name] === factory) delete table[name];
  };
}
