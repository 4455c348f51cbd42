import type { LoopTicker } from '../engine/loop.js';
import type { BandThreads } from './bandThreads.js';
import type { RunTotals } from './invariants.js';

/**
 * The main run's ticks, every `every_events` events: they start the band's threads once the run
 * has lasted long enough and report progress. A class, not an object with an arrow function:
 * the loop's call to `tick` is then one target to V8 whichever run it ticks, where a function made
 * per run discarded the optimised loop at the band's first re-run.
 */
export class RunTicker implements LoopTicker {
  constructor(
    readonly every_events: number,
    private readonly totals: RunTotals,
    private readonly threads: BandThreads | undefined,
    private readonly onProgress: ((sim_s: number, requests_done: number, pass: number, passes: number) => void) | undefined,
    /** The pass these ticks report, of how many. */
    private readonly progress: { pass: number; passes: number },
  ) {}

  tick(now_s: number): void {
    this.threads?.poll();
    const t = this.totals;
    this.onProgress?.(now_s, t.finished + t.rejected + t.timed_out + t.failed - t.mirrored_left, this.progress.pass, this.progress.passes);
  }
}
