import type { F64List } from './f64list.js';
import { GroupAccumulator, summarizeClass, type GroupSummary, type SloTargets } from './group.js';
import type { RequestOutcome, RequestRow } from './records.js';
import { summarize, type Stats } from './stats.js';

interface PriorityClass {
  readonly acc: GroupAccumulator;
  /** Triples (pool, start, count): where each of the class's requests put its ITL gaps. */
  readonly gaps: number[];
}

/**
 * Requests by priority class. A class keeps its own latency scalars but no copy of its ITL gaps:
 * it notes where each request's gaps lie in a replica's pool, and `gatherGaps` copies them out at
 * the end, only when there is more than one class (a single class's gaps are every gap).
 */
export class PriorityClasses {
  private readonly classes = new Map<number, PriorityClass>();

  add(o: RequestOutcome, row: RequestRow, measured: boolean, slo: SloTargets, pool: number, gapStart: number, gapCount: number): void {
    let c = this.classes.get(o.priority);
    if (c === undefined) this.classes.set(o.priority, (c = { acc: new GroupAccumulator(false), gaps: [] }));
    c.acc.add(o, row, measured, slo);
    if (gapCount > 0) c.gaps.push(pool, gapStart, gapCount);
  }

  /** Each class's ITL gaps, joined; undefined with fewer than two classes. */
  gatherGaps(pools: readonly F64List[]): Map<number, Float64Array> | undefined {
    if (this.classes.size < 2) return undefined;
    const gathered = new Map<number, Float64Array>();
    for (const [priority, { gaps }] of this.classes) {
      let total = 0;
      for (let i = 2; i < gaps.length; i += 3) total += gaps[i];
      const out = new Float64Array(total);
      for (let i = 0, at = 0; i < gaps.length; i += 3) {
        pools[gaps[i]].copyRange(gaps[i + 1], gaps[i + 2], out, at);
        at += gaps[i + 2];
      }
      gathered.set(priority, out);
    }
    return gathered;
  }

  /** One summary per class, by priority ascending. `overallItl` stands in for a lone class's ITL. */
  summarize(
    gathered: Map<number, Float64Array> | undefined,
    overallItl: Stats,
    makespan_s: number | null,
    window_s: number | null,
  ): (GroupSummary & { priority: number })[] {
    return [...this.classes.keys()]
      .sort((a, b) => a - b)
      .map((priority) => {
        const gaps = gathered?.get(priority);
        const itl = gaps === undefined ? overallItl : summarize([gaps]);
        return { priority, ...summarizeClass((this.classes.get(priority) as PriorityClass).acc, itl, makespan_s, window_s) };
      });
  }
}
