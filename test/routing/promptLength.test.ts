import { describe, expect, it } from 'vitest';
import { candidates, make, prompt } from './candidates.js';

describe('prompt-length', () => {
  const router = make('prompt-length', { long_prompt_tokens: 8192, long_prompt_pool: 'long' });
  // The long pool's replica is the busiest: the split, not the load, must send long prompts there.
  const mixed = candidates([
    { pool: 'short', outstanding: 2 },
    { pool: 'long', outstanding: 5 },
    { pool: 'short', outstanding: 1 },
  ]);

  it('sends prompts of at least long_prompt_tokens to the long pool, the others elsewhere (fewest unfinished within)', () => {
    expect(router.route(prompt(9000), mixed)).toBe(1);
    expect(router.route(prompt(8192), mixed)).toBe(1);
    expect(router.route(prompt(8191), mixed)).toBe(2);
    expect(router.route(prompt(100), mixed)).toBe(2);
  });

  it('picks the fewest unfinished requests within the side, the first on a tie', () => {
    const two = candidates([
      { pool: 'long', outstanding: 3 },
      { pool: 'short', outstanding: 0 },
      { pool: 'long', outstanding: 1 },
      { pool: 'long', outstanding: 1 },
    ]);
    expect(router.route(prompt(9000), two)).toBe(2);
  });

  it('gives short prompts every pool but the long one', () => {
    const three = candidates([
      { pool: 'long', outstanding: 0 },
      { pool: 'a', outstanding: 4 },
      { pool: 'b', outstanding: 3 },
    ]);
    expect(router.route(prompt(100), three)).toBe(2);
  });

  it('falls back to the fewest unfinished of all when the side has no ready replica', () => {
    const noLong = candidates([{ pool: 'short', outstanding: 4 }, { pool: 'short', outstanding: 2 }]);
    expect(router.route(prompt(9000), noLong)).toBe(1);
    const onlyLong = candidates([{ pool: 'long', outstanding: 4 }, { pool: 'long', outstanding: 2 }]);
    expect(router.route(prompt(100), onlyLong)).toBe(1);
  });

  it('with no long pool named (the default), is least-outstanding for every prompt', () => {
    const plain = make('prompt-length');
    const three = candidates([{ outstanding: 3 }, { outstanding: 1 }, { outstanding: 1 }]);
    expect(plain.route(prompt(100_000), three)).toBe(1);
    expect(plain.route(prompt(10), three)).toBe(1);
  });
});
