import { rngStream, type Uniform } from '../engine/rng.js';
import { ROUTERS } from '../routing/registry.js';
import type { Router } from '../routing/router.js';
import { routerOptions, type PoolSetup, type ResolvedRouting, type RunSetup } from '../setup/resolve.js';
import type { TrafficInput } from '../scenario/types.js';
import type { Request } from '../workload/request.js';
import type { Cluster } from './cluster.js';
import type { Replica } from './replica.js';

/** Pools routed as one: the router chooses among the ready replicas of all of them. */
export class RouteGroup {
  private list: readonly Replica[] = [];
  private seen = -1;
  constructor(
    readonly router: Router,
    private readonly pools: readonly number[],
    private readonly cluster: Cluster,
    /** The pool's name for a group of one ('' for several): what a request rejected here records. */
    readonly pool_name: string,
    /** The model its pools serve. */
    readonly model: string,
    /** What a rejection here waits before the client hears it: the pool's frontend output latency, s. */
    readonly frontOut_s: number,
  ) {}

  /** The pool of a group of one; −1 for a group of several. */
  get pool_index(): number {
    return this.pools.length === 1 ? this.pools[0] : -1;
  }

  candidates(): readonly Replica[] {
    const c = this.cluster;
    if (this.pools.length === 1) return c.routableByPool[this.pools[0]];
    if (this.seen !== c.version) {
      this.list = c.routable.filter((r) => this.pools.includes(r.pool_index));
      this.seen = c.version;
    }
    return this.list;
  }
}

/** The share of one model's traffic each pool takes: a split's fixed weights, or a canary's current step. */
interface Division {
  /** Pools in order, and the cumulative share (0..1] each ends at. */
  pools: number[];
  bounds: number[];
}

/**
 * The gateway's traffic rules: which pools a request may go to (its model's; a split's or a
 * canary's share), and whether it is mirrored to a shadow pool. A group of one pool is routed by
 * that pool's router; several pools of a model with no division by the top-level router.
 */
export class Traffic {
  /** Per pool: the group routing within it. */
  readonly poolGroups: RouteGroup[];
  private readonly modelGroups = new Map<string, RouteGroup>();
  private readonly divisions = new Map<string, Division>();
  readonly default_model: string;
  private readonly rule: TrafficInput | undefined;
  private readonly draw: Uniform;
  private readonly mirror: Uniform;
  private readonly seed: number;
  private readonly shadow: { source: number; target: number; fraction: number } | undefined;
  /** Per pool: for a prefill pool, the group of its model's decode pools it hands KV to. */
  readonly decodeGroups: (RouteGroup | undefined)[];

  constructor(setup: RunSetup, cluster: Cluster) {
    const s = setup.scenario;
    this.seed = s.seed;
    this.rule = s.traffic;
    this.default_model = s.model;
    this.draw = rngStream(s.seed, 'traffic');
    this.mirror = rngStream(s.seed, 'shadow');
    const pools = setup.pools;
    // Without `pools:` the one router takes the scenario seed itself, as it always did; with pools each
    // group's seed comes from its name, so adding, removing or reordering other pools changes no draw.
    const seedOf = (name: string): number => (s.pools === undefined ? s.seed : namedSeed(s.seed, name));
    this.poolGroups = pools.map(
      (p, i) => new RouteGroup(makeRouter(p.setup.scenario.cluster, seedOf(`pool:${p.name}`)), [i], cluster, p.name, p.setup.scenario.model, frontOut(p)),
    );
    const index = (name: string): number => pools.findIndex((p) => p.name === name);
    const sh = this.rule?.shadow;
    this.shadow = sh === undefined ? undefined : { source: index(sh.source), target: index(sh.target), fraction: sh.fraction };
    const byModel = new Map<string, number[]>();
    pools.forEach((p, i) => {
      // A decode pool takes its requests from prefill pools, never from the gateway.
      if (p.shadow || p.role === 'decode') return;
      const model = p.setup.scenario.model;
      byModel.set(model, [...(byModel.get(model) ?? []), i]);
    });
    for (const [model, members] of byModel) {
      const group =
        members.length === 1
          ? this.poolGroups[members[0]]
          : new RouteGroup(makeRouter(s.cluster, seedOf(`model:${model}`)), members, cluster, '', model, frontOut(pools[members[0]]));
      this.modelGroups.set(model, group);
    }
    this.decodeGroups = this.decodeGroupsOf(setup, cluster, seedOf);
    const split = this.rule?.split;
    if (split !== undefined) this.divide(pools[index(split[0].pool)].setup.scenario.model, split.map((x) => index(x.pool)), split.map((x) => x.weight));
  }

  /** Each prefill pool's decode group: its model's one decode pool (routed by that pool's router), or several under the top-level router. */
  private decodeGroupsOf(setup: RunSetup, cluster: Cluster, seedOf: (name: string) => number): (RouteGroup | undefined)[] {
    const pools = setup.pools;
    const byModel = new Map<string, RouteGroup>();
    return pools.map((p) => {
      if (p.role !== 'prefill') return undefined;
      const model = p.setup.scenario.model;
      let group = byModel.get(model);
      if (group === undefined) {
        const members = pools.flatMap((q, i) => (q.role === 'decode' && q.setup.scenario.model === model ? [i] : []));
        group = members.length === 1
          ? this.poolGroups[members[0]]
          : new RouteGroup(makeRouter(setup.scenario.cluster, seedOf(`decode:${model}`)), members, cluster, '', model, frontOut(pools[members[0]]));
        byModel.set(model, group);
      }
      return group;
    });
  }

  /** Every distinct router (for observations). */
  routers(): Router[] {
    return [...new Set([...this.poolGroups, ...this.modelGroups.values(), ...this.decodeGroups.filter((g) => g !== undefined)].map((g) => g.router))];
  }

  /** The group that routes `request`; undefined when no pool serves its model. */
  groupFor(request: Request): RouteGroup | undefined {
    const model = request.model ?? this.default_model;
    const division = this.divisions.size === 0 ? undefined : this.divisions.get(model);
    if (division === undefined) return this.modelGroups.get(model);
    const u = this.stickyPoint(request) ?? this.draw();
    const bounds = division.bounds;
    let k = 0;
    while (k < bounds.length - 1 && u >= bounds[k]) k++;
    return this.poolGroups[division.pools[k]];
  }

  /**
   * Where a request resent after a failure in `pool` goes: its model's group when the model's pools
   * are routed as one, else that pool again (a split's or canary's share is not drawn anew, and a
   * mirrored copy stays in the shadow pool).
   */
  retryGroup(request: Request, pool: number): RouteGroup {
    const model = request.model ?? this.default_model;
    if (request.shadow === true || this.divisions.has(model)) return this.poolGroups[pool];
    return this.modelGroups.get(model) ?? this.poolGroups[pool];
  }

  /** Sets `model`'s division: `pools` take shares ∝ `weights` (a share of 0 takes nothing). */
  divide(model: string, pools: number[], weights: number[]): void {
    const total = weights.reduce((a, b) => a + b, 0);
    let acc = 0;
    const bounds = weights.map((w) => (acc += w / total));
    bounds[bounds.length - 1] = 1;
    this.divisions.set(model, { pools, bounds });
  }

  /** The pool a mirrored copy of a request served by `pool` goes to (undefined: not mirrored). */
  shadowOf(pool: number): RouteGroup | undefined {
    const sh = this.shadow;
    if (sh === undefined || pool !== sh.source) return undefined;
    return this.mirror() < sh.fraction ? this.poolGroups[sh.target] : undefined;
  }

  /** A user's (or session's) fixed point in [0, 1): the same client lands in the same share. */
  private stickyPoint(request: Request): number | undefined {
    const by = this.rule?.sticky_by;
    const id = by === 'user' ? request.user : by === 'session' ? request.session : undefined;
    return id === undefined ? undefined : hash01(this.seed, id);
  }
}

function makeRouter(routing: ResolvedRouting, seed: number): Router {
  return ROUTERS[routing.router].create(seed, routerOptions(routing));
}

/** A seed of its own for a named group, from the scenario's: an integer, as the routers take. */
function namedSeed(seed: number, name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return seed * 4294967296 + (h >>> 0);
}

/** The answer time of a rejection in a group: its (first) pool's frontend output latency. */
function frontOut(pool: PoolSetup): number {
  return pool.setup.scenario.engine.frontend_output_ms / 1000;
}

/** A 32-bit mix of (seed, id) mapped to [0, 1): a stable, well-spread point per client. */
export function hash01(seed: number, id: number): number {
  let h = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(id | 0, 0xc2b2ae35) ^ Math.floor(id / 4294967296);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}
