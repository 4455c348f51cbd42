import { fieldError, InfersimError } from '../errors.js';
import type { PoolInput, ScenarioInput } from '../scenario/types.js';
import { checkTraffic } from './traffic.js';
import { DEFAULT_MAX_RETRIES, resolveFaults, type ResolvedFault } from './faults.js';
import { resolveDisaggregation, roleOf } from './disagg.js';
import { resolvePool, resolveRouting } from './pool.js';
import type { PoolSetup, ResolvedPool, ResolvedRouting, RunSetup } from './types.js';

/**
 * A scenario with `pools:` → one setup per pool, each resolved as a scenario of its own (the
 * top-level sections with the pool's keys merged over them), then checked together: names,
 * routers, traffic, the models requests name. The run's setup is the first pool's, listing all.
 */
export function resolvePools(input: ScenarioInput): RunSetup {
  const pools = input.pools as PoolInput[];
  if (input.cluster?.replicas !== undefined) {
    throw fieldError('cluster.replicas', 'with pools, each pool gives its own replicas (pools[].replicas); remove cluster.replicas', input.cluster.replicas);
  }
  checkNames(pools);
  const top = resolveRouting(input.cluster, 'cluster');
  const shadowTarget = input.traffic?.shadow?.target;
  const setups: PoolSetup[] = pools.map((pool, i) => ({
    name: pool.name, role: roleOf(pool), setup: inPool(i, pool, () => resolvePool(merged(input, pool), 'replicas')), shadow: pool.name === shadowTarget,
  }));
  const routing = pools.map((pool, i) => inPool(i, pool, () => poolRouting(pool, i, top)));
  const resolved: ResolvedPool[] = setups.map((p, i) => {
    const s = p.setup.scenario;
    const scaled = {
      ...(s.autoscale === undefined ? {} : { autoscale: s.autoscale }),
      ...(s.cold_start === undefined ? {} : { cold_start: s.cold_start }),
      ...(s.failures === undefined ? {} : { failures: s.failures }),
    };
    return { name: p.name, replicas: pools[i].replicas, role: p.role, model: s.model, ...routing[i], hardware: s.hardware, precision: s.precision, engine: s.engine, usd_per_gpu_hour: s.cost.usd_per_gpu_hour, emulates: s.emulates, ...scaled };
  });
  const max_retries = input.cluster?.max_retries ?? DEFAULT_MAX_RETRIES;
  setups.forEach((p, i) => (p.setup.scenario.cluster = { replicas: pools[i].replicas, max_retries, ...routing[i] }));
  checkCrossPoolRouter(top, resolved, input);
  const first = setups[0].setup;
  const total = pools.reduce((acc, p) => acc + p.replicas, 0);
  const traffic = checkTraffic(input, resolved);
  // `model` is what a request that names none asks for: the top-level one, whichever pool comes first.
  // Autoscaling, cold starts and failures are each pool's: the top level lists them under pools[] only.
  const { autoscale: _autoscale, cold_start: _cold, failures: _failures, faults: _faults, ...firstOwn } = first.scenario;
  const faults = poolFaults(input, resolved);
  const transfer = resolveDisaggregation(input, setups);
  const scenario = {
    ...firstOwn, model: input.model, cluster: { replicas: total, max_retries, ...top }, pools: resolved,
    ...(traffic === undefined ? {} : { traffic }), ...(faults === undefined ? {} : { faults }), ...(transfer === undefined ? {} : { transfer }),
  };
  return { ...first, scenario, pools: setups };
}

/** The faults checked against the pools (each may start up to the most its autoscaler allows). */
function poolFaults(input: ScenarioInput, pools: readonly ResolvedPool[]): ResolvedFault[] | undefined {
  return resolveFaults(
    input.faults,
    pools.map((p) => ({ name: p.name, max_replicas: Math.max(p.replicas, p.autoscale?.max_replicas ?? 0), repair_s: p.failures?.repair_s })),
  );
}

/** The top-level sections with the pool's merged over them, key by key; the pool's own replicas. */
function merged(input: ScenarioInput, pool: PoolInput): ScenarioInput {
  const firstPool = (input.pools as PoolInput[])[0].name;
  const { pools: _pools, traffic: _traffic, cluster: _cluster, autoscale: _autoscale, cold_start: _cold, failures: _failures, faults, ...rest } = input;
  return {
    ...rest,
    model: pool.model ?? input.model,
    hardware: { ...input.hardware, ...pool.hardware },
    precision: { ...input.precision, ...pool.precision },
    engine: { ...input.engine, ...pool.engine },
    cluster: { replicas: pool.replicas },
    ...(input.autoscale === undefined && pool.autoscale === undefined ? {} : { autoscale: { ...input.autoscale, ...pool.autoscale } }),
    ...(input.cold_start === undefined && pool.cold_start === undefined ? {} : { cold_start: { ...input.cold_start, ...pool.cold_start } }),
    ...(input.failures === undefined && pool.failures === undefined ? {} : { failures: { ...input.failures, ...pool.failures } }),
    // A pool some fault names pays a cold start for its replacement (checked against the pools later).
    ...(faults?.some((f) => (f.pool ?? firstPool) === pool.name) ? { faults } : {}),
    // A price map names GPUs: the pool's GPU must be in it (checked when the pool resolves).
    cost: input.cost,
  };
}

/** Errors of one pool name it: `pools[1] (a100): engine.max_num_seqs: …`. */
function inPool<T>(i: number, pool: PoolInput, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof InfersimError) throw new InfersimError(`pools[${i}] (${pool.name}): ${err.message}`);
    throw err;
  }
}

function checkNames(pools: readonly PoolInput[]): void {
  const seen = new Map<string, number>();
  pools.forEach((p, i) => {
    const before = seen.get(p.name);
    if (before !== undefined) throw fieldError(`pools[${i}].name`, `repeats pools[${before}].name: every pool needs its own name`, p.name);
    seen.set(p.name, i);
  });
  pools.forEach((p, i) => {
    if (p.engine?.frontend_input_ms !== undefined) {
      throw fieldError(
        `pools[${i}].engine.frontend_input_ms`,
        'is the gateway’s time before routing, the same for every pool: set it in the top-level engine section',
        p.engine.frontend_input_ms,
      );
    }
  });
}

/** A pool routes within itself with its own router, or the top-level one. */
function poolRouting(pool: PoolInput, i: number, top: ResolvedRouting): ResolvedRouting {
  // Under a prompt-length gateway a pool without a router of its own balances on load.
  const fallback: ResolvedRouting = top.router === 'prompt-length' ? { router: 'least-outstanding' } : top;
  const routing = resolveRouting(pool, `pools[${i}]`, fallback);
  if (routing.router === 'prompt-length') {
    throw fieldError(`pools[${i}].router`, 'prompt-length chooses between pools; set it as cluster.router (a pool routes within itself)', routing.router);
  }
  return routing;
}

/**
 * prompt-length routes between the undivided pools of one model: its long-prompt pool must exist,
 * be under no traffic rule (a rule picks its requests itself), and have a peer for short prompts.
 */
function checkCrossPoolRouter(top: ResolvedRouting, pools: readonly ResolvedPool[], input: ScenarioInput): void {
  if (top.router !== 'prompt-length') return;
  const field = 'cluster.long_prompt_pool';
  const name = top.long_prompt_pool ?? '';
  const target = pools.find((p) => p.name === name);
  if (target === undefined) throw fieldError(field, `must name the pool long prompts go to, one of ${pools.map((p) => p.name).join(', ')}`, name);
  const t = input.traffic;
  const ruled = new Set([...(t?.split ?? []).map((x) => x.pool), t?.canary?.baseline, t?.canary?.canary, t?.shadow?.target]);
  if (ruled.has(name)) throw fieldError(field, 'names a pool under a traffic rule (split, canary or shadow), which picks its requests itself', name);
  if (!pools.some((p) => p.model === target.model && p.name !== name && !ruled.has(p.name))) {
    throw fieldError(field, `names the only pool serving ${target.model}: prompt-length needs another pool of that model for the shorter prompts`, name);
  }
}
