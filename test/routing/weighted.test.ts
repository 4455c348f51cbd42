import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTER_OPTIONS } from '../../sim/routing/router.js';
import { candidates, make, prompt } from './candidates.js';

const only = (w: Partial<typeof DEFAULT_ROUTER_OPTIONS.weights>) => make('weighted', { weights: { queue: 0, kv: 0, prefix: 0, tokens: 0, ...w } });
const req = prompt(100);

describe('weighted', () => {
  it('queue alone: the fewest waiting requests', () => {
    // Min-max over waiting [4, 2, 6]: (6−4)/4 = 0.5, (6−2)/4 = 1, 0.
    expect(only({ queue: 1 }).route(req, candidates([{ waiting: 4 }, { waiting: 2 }, { waiting: 6 }]))).toBe(1);
  });

  it('tokens alone: the fewest tokens in flight; all equal: the first', () => {
    const r = only({ tokens: 1 });
    expect(r.route(req, candidates([{ outstanding_tokens: 3000 }, { outstanding_tokens: 1000 }, { outstanding_tokens: 2000 }]))).toBe(1);
    expect(r.route(req, candidates([{ outstanding_tokens: 500 }, { outstanding_tokens: 500 }]))).toBe(0);
  });

  it('a cached half of the prompt outweighs a shorter queue when prefix weighs twice as much', () => {
    // 100-token prompt; waiting [1, 3, 5]; cached [0, 50, 0] tokens.
    // queue: (5−1)/4 = 1, (5−3)/4 = 0.5, 0.  prefix: 0, 50/100 = 0.5, 0.
    const three = candidates([
      { waiting: 1 },
      { waiting: 3, cached_prefix_tokens: () => 50 },
      { waiting: 5 },
    ]);
    // queue 1, prefix 2: 1, 0.5 + 2 × 0.5 = 1.5, 0.
    expect(only({ queue: 1, prefix: 2 }).route(req, three)).toBe(1);
    // queue 1, prefix 1: 1, 0.5 + 0.5 = 1, 0: a tie, which the first wins.
    expect(only({ queue: 1, prefix: 1 }).route(req, three)).toBe(0);
  });

  it('scores KV as 1 − use, not min-max, as llm-d does', () => {
    // waiting [0, 1], KV use [0.5, 0.25]; queue 1, kv 3.
    // 1 − use: 1 + 3 × 0.5 = 2.5 against 0 + 3 × 0.75 = 2.25 (min-max would give 1 against 3).
    const two = candidates([{ waiting: 0, kv_used_fraction: 0.5 }, { waiting: 1, kv_used_fraction: 0.25 }]);
    expect(only({ queue: 1, kv: 3 }).route(req, two)).toBe(0);
    expect(only({ kv: 1 }).route(req, two)).toBe(1);
  });

  it('never asks for the cached prefix when prefix weighs nothing', () => {
    const probed = candidates([0, 1].map((waiting) => ({ waiting, cached_prefix_tokens: () => { throw new Error('probed'); } })));
    expect(only({ queue: 2, kv: 2, tokens: 1 }).route(req, probed)).toBe(0);
  });

  it("by default (llm-d's queue 2, kv 2, prefix 3) prefers a full prefix hit over an empty queue", () => {
    // waiting [0, 4], cached [0, 100] of 100: 2 × 1 + 2 × 1 = 4 against 0 + 2 × 1 + 3 × 1 = 5.
    const two = candidates([{ waiting: 0 }, { waiting: 4, cached_prefix_tokens: () => 100 }]);
    expect(make('weighted').route(req, two)).toBe(1);
  });
});
