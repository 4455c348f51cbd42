import { describe, expect, it } from 'vitest';
import type { Request } from '../../sim/workload/request.js';
import { candidates, make } from './candidates.js';

/** A request for `adapter` (undefined: the base model). */
const forAdapter = (adapter?: number): Request => ({ id: 0, arrival_s: 0, input_tokens: 100, output_tokens: 1, ...(adapter === undefined ? {} : { adapter }) }) as Request;
const holds = (...adapters: number[]) => (a: number) => adapters.includes(a);

describe('lora-affinity', () => {
  const router = make('lora-affinity');

  it('sends a request to the lightest replica that holds its adapter, even past a lighter one without it', () => {
    const c = candidates([
      { waiting: 0, outstanding: 0, free_adapter_slots: 2 },
      { waiting: 3, outstanding: 9, has_adapter: holds(7) },
      { waiting: 2, outstanding: 9, has_adapter: holds(7, 1) },
      { waiting: 2, outstanding: 5, has_adapter: holds(1) },
    ]);
    // Replicas 1 and 2 hold adapter 7; 2 has fewer waiting.
    expect(router.route(forAdapter(7), c)).toBe(2);
    // Adapter 1: replicas 2 and 3 wait equally (2), 3 has fewer unfinished.
    expect(router.route(forAdapter(1), c)).toBe(3);
  });

  it('without a holder, the lightest with a free adapter slot; without one, the lightest', () => {
    const c = candidates([
      { waiting: 0, outstanding: 1, free_adapter_slots: 0 },
      { waiting: 4, outstanding: 4, free_adapter_slots: 1 },
      { waiting: 3, outstanding: 8, free_adapter_slots: 1 },
    ]);
    expect(router.route(forAdapter(5), c)).toBe(2);
    const full = candidates([
      { waiting: 4, outstanding: 1 },
      { waiting: 1, outstanding: 7 },
      { waiting: 1, outstanding: 6 },
    ]);
    expect(router.route(forAdapter(5), full)).toBe(2);
  });

  it('sends a base-model request to the lightest, whatever the adapters', () => {
    const c = candidates([
      { waiting: 1, outstanding: 0, has_adapter: holds(0), free_adapter_slots: 3 },
      { waiting: 0, outstanding: 5 },
      { waiting: 0, outstanding: 5 },
    ]);
    // Ties go to the first candidate.
    expect(router.route(forAdapter(), c)).toBe(1);
  });
});
