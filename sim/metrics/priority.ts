import { GapPool } from './gapPool.js';
import { GroupAccumulator, summarizeClass, type GroupSummary, type SloTargets } from './group.js';
import type { RequestOutcome, RequestRow } from './records.js';
import type { SpillFile } from './spill.js';
import { summarize } from './stats.js';

interface PriorityClass {
  readonly acc: GroupAccumulator;
  /** The class's ITL gaps, one pool per replica. */
  readonly gaps: (GapPool | undefined)[];
}

/**
 * Requests by priority class: each keeps its own latency scalars and, once there are two classes,
 * pools its ITL gaps per replica (memory per engine step, see GapPool). While there is one class
 * its gaps are every gap, already pooled by the replicas: the second class to appear starts the
 * first one's pools as copies of the replicas'.
 */
export class PriorityClasses {
  private readonly classes = new Map<number, PriorityClass>();

  /** `replicaPools`: each replica's ITL pool, filled before `add` sees the request; `spill`: the classes' samples' (see GroupAccumulator). */
  constructor(
    private readonly replicaPools: readonly GapPool[],
    private readonly spill?: SpillFile,
  ) {}

  /**
   * Call with each request's priority before the replicas pool its gaps: when it is the second
   * class to appear, the first class's pools start as copies of the replicas' (every gap so far).
   */
  prepare(priority: number): void {
    if (this.classes.size !== 1 || this.classes.has(priority)) return;
    const first = this.classes.values().next().value as PriorityClass;
    first.gaps.push(...this.replicaPools.map((p) => p.clone()));
  }

  /** `pooled`: the request's gaps belong in the ITL statistics (measured and finished, on a replica). */
  add(o: RequestOutcome, row: RequestRow, measured: boolean, slo: SloTargets, pooled: boolean): void {
    let c = this.classes.get(o.priority);
    if (c === undefined) this.classes.set(o.priority, (c = { acc: new GroupAccumulator(undefined, this.spill), gaps: [] }));
    c.acc.add(o, row, measured, slo);
    if (!pooled || this.classes.size < 2) return;
    const pool = (c.gaps[o.replica] ??= new GapPool(this.replicaPools[o.replica].stamps));
    pool.addTokens(o.token_times_s, o.token_steps, o.token_times_s.length, o.token_stretch_step ?? -1);
  }

  /**
   * One summary per class, by priority ascending. `overall`: the run's overall figures; a lone
   * class's ITL is theirs, and so are its other order statistics when `overallClientOnly` (the
   * overall figures' groups hold no mirrored copy): then every request they cover is the class's.
   */
  summarize(overall: GroupSummary, overallClientOnly: boolean, makespan_s: number | null, window_s: number | null): (GroupSummary & { priority: number })[] {
    const lone = this.classes.size < 2;
    return [...this.classes.keys()]
      .sort((a, b) => a - b)
      .map((priority) => {
        const pools = (this.classes.get(priority) as PriorityClass).gaps;
        const itl = lone ? overall.itl_s : summarize(pools.flatMap((p) => p?.samples() ?? []));
        const same = lone && overallClientOnly ? overall : undefined;
        return { priority, ...summarizeClass((this.classes.get(priority) as PriorityClass).acc, itl, makespan_s, window_s, same) };
      });
  }
}
