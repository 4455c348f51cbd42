import { describe, expect, it } from 'vitest';
import { candidates, make, prompt } from './candidates.js';

const req = prompt(100);

describe('latency-aware', () => {
  it('picks the replica with the lowest moving average of time to first token', () => {
    const router = make('latency-aware', { ewma_alpha: 0.3 });
    const two = candidates([{}, {}]);
    router.observe!(0, 0.5, 2);
    router.observe!(1, 0.1, 9);
    // Averages: replica 0 at 0.5 s, replica 1 at 0.1 s (a first observation sets the average).
    expect(router.route(req, two)).toBe(1);
    // 0.3 × 0.9 + 0.7 × 0.1 = 0.34 s: still under 0.5.
    router.observe!(1, 0.9, 9);
    expect(router.route(req, two)).toBe(1);
    // 0.3 × 0.9 + 0.7 × 0.34 = 0.508 s: now over 0.5.
    router.observe!(1, 0.9, 9);
    expect(router.route(req, two)).toBe(0);
  });

  it('averages end-to-end latency when latency_metric is e2e, and skips requests without a first token under ttft', () => {
    const e2e = make('latency-aware', { latency_metric: 'e2e', ewma_alpha: 0.5 });
    const ttft = make('latency-aware', { latency_metric: 'ttft', ewma_alpha: 0.5 });
    const two = candidates([{}, {}]);
    for (const r of [e2e, ttft]) {
      r.observe!(0, 0.2, 4);
      r.observe!(1, 0.4, 2);
      // No token: under ttft nothing is learned; under e2e replica 0 averages 0.5 × 1 + 0.5 × 4 = 2.5.
      r.observe!(0, null, 1);
    }
    expect(ttft.route(req, two)).toBe(0); // 0.2 vs 0.4
    expect(e2e.route(req, two)).toBe(1); // 2.5 vs 2
  });

  it('scores a replica not yet observed as the mean of the observed candidates, then prefers fewer unfinished requests', () => {
    const router = make('latency-aware');
    const fresh = candidates([{ outstanding: 2 }, { outstanding: 5 }, { outstanding: 0 }]);
    // Nothing observed: every score is 0, so the fewest unfinished requests decides.
    expect(router.route(req, fresh)).toBe(2);
    router.observe!(0, 0.2, 1);
    router.observe!(1, 0.6, 1);
    // Replica 2 scores (0.2 + 0.6) / 2 = 0.4: replica 0 is still faster.
    expect(router.route(req, fresh)).toBe(0);
    // Without replica 0 the mean is replica 1's 0.6: a tie, which the idle replica 2 wins.
    expect(router.route(req, [fresh[1], fresh[2]])).toBe(1);
  });

  it('learns per cluster index, wherever the replica stands among the candidates', () => {
    const router = make('latency-aware');
    const two = candidates([{ index: 4 }, { index: 7 }]);
    router.observe!(7, 0.1, 1);
    router.observe!(4, 0.5, 1);
    expect(router.route(req, two)).toBe(1);
    expect(router.route(req, [two[1], two[0]])).toBe(0);
  });
});
