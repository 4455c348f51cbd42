import { describe, expect, it } from 'vitest';
import { GroupAccumulator, LatencyMemo } from '../../sim/metrics/group.js';
import { summarize } from '../../sim/metrics/stats.js';

/** A group whose TTFT samples are `values`, pushed in order. */
function group(values: number[]): GroupAccumulator {
  const g = new GroupAccumulator();
  for (const v of values) g.ttft_s.push(v);
  return g;
}

describe('LatencyMemo: statistics shared by figures over the same groups', () => {
  // Values whose float sum depends on the order they are added in: a memo must not hand one
  // order's mean to a figure that sums them in another.
  const a = group([1e16, 1, 1]);
  const b = group([-1e16, 3]);
  const empty = group([]);

  it('gives the statistics of the groups taken in order, empty groups skipped', () => {
    const memo = new LatencyMemo();
    const ab = memo.of('ttft_s', [a, empty, b]);
    expect(ab).toEqual(summarize([...a.ttft_s.samples(), ...b.ttft_s.samples()]));
    // The same groups again (with or without the empty one): the very same object.
    expect(memo.of('ttft_s', [a, b])).toBe(ab);
  });

  it('does not reuse across another order, another metric, or another set of groups', () => {
    const memo = new LatencyMemo();
    const ab = memo.of('ttft_s', [a, b]);
    const ba = memo.of('ttft_s', [b, a]);
    expect(ba).toEqual(summarize([...b.ttft_s.samples(), ...a.ttft_s.samples()]));
    // 1e16 + 1 + 1 − 1e16 + 3 against −1e16 + 3 + 1e16 + 1 + 1: the sums differ in floating point.
    expect(ba.mean).not.toBe(ab.mean);
    const c = group([2, 5]);
    expect(memo.of('ttft_s', [a, c])).toEqual(summarize([...a.ttft_s.samples(), ...c.ttft_s.samples()]));
    expect(memo.of('e2e_s', [a, b])).toEqual(summarize([]));
    expect(memo.of('ttft_s', [a])).toEqual(summarize(a.ttft_s.samples()));
  });
});
