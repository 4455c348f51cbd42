import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate } from '../../sim/index.js';
import type { Summary } from '../../sim/metrics/summary.js';
import { preemptingLongOutputs } from '../helpers.js';
import { tempDirs } from '../metrics/helpers.js';

const tmp = tempDirs();

/**
 * Decoding sequences read their token times from their replica's step stamps and pin them there
 * (Sequence.stampToken). A run whose stamps keep a window of 256 steps (pins by pages of 4) slides
 * them every few hundred steps under sequences that still read them, whose outputs of up to 900
 * tokens hold more than half of its buffer at times (it slides less, or grows); one with the
 * default window never slides in a run this short. Both must give the same files.
 */
describe('a run whose step stamps slide under the sequences reading them', () => {
  it('writes the files and summary of a run that keeps every step, preemptions and tokens.arrow included', () => {
    const input = preemptingLongOutputs(600);
    const [whole, sliding] = [join(tmp(), 'whole'), join(tmp(), 'sliding')];
    const a = simulate(input, { outDir: whole, writeTokens: true });
    simulate(input, { outDir: sliding, writeTokens: true, step_window: 256 });
    // Each replica steps thousands of times (many slides of the small window), with preemptions.
    expect(a.totals.steps).toBeGreaterThan(40 * 256);
    expect(a.totals.preemptions).toBeGreaterThan(50);
    const files = readdirSync(whole).filter((f) => f.endsWith('.arrow'));
    expect(files).toEqual(expect.arrayContaining(['requests.arrow', 'iterations.arrow', 'tokens.arrow']));
    for (const f of files) expect(readFileSync(join(sliding, f)).equals(readFileSync(join(whole, f))), f).toBe(true);
    const summary = (dir: string) => {
      // A gap at a step the window has dropped (a preempted request's, whose tokens are not one
      // stretch) is pooled as a value, not counted at its step: the same gaps, so the same
      // percentiles, count and maximum, but the ITL mean sums them in another order (gapPool.ts).
      const reviver = (key: string, v: unknown) => (key === 'itl_s' && v !== null && typeof v === 'object' && 'mean' in v ? { ...v, mean: Number((v.mean as number).toPrecision(13)) } : v);
      const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'), reviver) as Summary;
      // The simulator's own wall time and speed are the figures that depend on the machine.
      return { ...s, simulator: { ...s.simulator, events_per_s: 0, wall_s: 0 } };
    };
    expect(summary(sliding)).toEqual(summary(whole));
  });
});
