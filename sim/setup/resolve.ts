import type { ScenarioInput } from '../scenario/types.js';
import { resolvePool } from './pool.js';
import { resolvePools } from './pools.js';
import { checkTraffic } from './traffic.js';
import { DEFAULT_POOL, type ResolvedPool, type RunSetup } from './types.js';
import { fieldError } from '../errors.js';
import { resolveFaults } from './faults.js';

export { engineDefaults, type ResolvedEngine } from './engine.js';
export { gpuPrice, resolveRouting, routerOptions } from './pool.js';
export { DEFAULT_POOL, type PoolSetup, type ResolvedPool, type ResolvedRouting, type ResolvedScenario, type ResolvedTransfer, type RunSetup } from './types.js';

/**
 * A validated scenario → the run it describes: each pool's hardware and parallelism checked, its
 * engine resolved against its scheduling policy's traits, its profile loaded, its KV cache sized,
 * every default filled; then the pools and traffic checked against each other. Throws the first
 * problem found, in a fixed order.
 */
export function resolveScenario(input: ScenarioInput): RunSetup {
  if (input.pools !== undefined) return resolvePools(input);
  if (input.traffic !== undefined) throw fieldError('traffic', 'divides traffic between pools: list them in pools', Object.keys(input.traffic));
  if (input.transfer !== undefined) throw fieldError('transfer', 'is the KV link from prefill to decode pools: list them in pools, with role prefill and role decode', Object.keys(input.transfer));
  if (input.cluster?.router === 'prompt-length') {
    throw fieldError('cluster.router', 'prompt-length sends long prompts to a pool of their own: list the pools in pools', input.cluster.router);
  }
  const setup = resolvePool(input);
  checkTraffic(input, [{ name: DEFAULT_POOL, model: setup.scenario.model } as ResolvedPool]);
  const s = setup.scenario;
  const faults = resolveFaults(input.faults, [{ name: DEFAULT_POOL, max_replicas: Math.max(s.cluster.replicas, s.autoscale?.max_replicas ?? 0), repair_s: s.failures?.repair_s }]);
  if (faults !== undefined) s.faults = faults;
  return setup;
}
