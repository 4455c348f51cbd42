import { describe, expect, it } from 'vitest';
import { checkInvariants, newTotals } from '../../sim/cluster/invariants.js';
import { runSimulation } from '../../sim/cluster/simulate.js';
import { resolveScenario } from '../../sim/setup/resolve.js';
import { createRequestStream, type WorkloadStream } from '../../sim/workload/index.js';
import { scenario } from '../helpers.js';

/**
 * The run's own invariant check must catch a workload stream that breaks its contract, so that no
 * fault in a generator passes as results. Each stream here wraps a real one and breaks one rule.
 */
const input = scenario({
  metrics: { uncertainty: false },
  workload: {
    arrival: { process: 'poisson', rate_per_s: 5 },
    input_tokens: { dist: 'fixed', value: 100 },
    output_tokens: { dist: 'fixed', value: 10 },
    num_requests: 5,
  },
});
const setup = () => resolveScenario(input);

function wrapped(change: (inner: WorkloadStream) => Partial<WorkloadStream>): WorkloadStream {
  const inner = createRequestStream(setup().scenario.workload, 7);
  return { next: () => inner.next(), exhausted: () => inner.exhausted(), onFinished: (id, t) => inner.onFinished(id, t), info: inner.info, ...change(inner) };
}

function messageOf(stream: WorkloadStream): string {
  try {
    runSimulation(setup(), { stream });
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

describe('run invariants', () => {
  it('the unchanged stream passes: 5 drawn, 5 arrived, 5 finished', () => {
    const { totals } = runSimulation(setup(), { stream: wrapped(() => ({})) });
    expect([totals.drawn, totals.requests, totals.finished]).toEqual([5, 5, 5]);
  });

  it('a request with a NaN arrival time (once an event that compared as "not before now")', () => {
    const stream = wrapped((inner) => ({
      next: () => {
        const r = inner.next();
        if (r?.id === 2) r.arrival_s = NaN;
        return r;
      },
    }));
    expect(messageOf(stream)).toMatch(/^invariant broken: event time NaN s after [\d.]+ s \(times must be finite/);
  });

  it('a stream that stops early but says it is exhausted (NaN gaps once ended a run after 1 of 50)', () => {
    let yielded = 0;
    const stream = wrapped((inner) => ({
      next: () => (yielded < 3 ? (yielded++, inner.next()) : undefined),
      exhausted: () => yielded >= 3,
    }));
    expect(messageOf(stream)).toBe('invariant broken: the workload promised 5 requests and yielded 3, of which 3 arrived (0 never did)');
  });

  it('a replica whose pool counts unused slots with no block held (its fill accounting drifted)', () => {
    const totals = { ...newTotals(), end_s: 1, kv_blocks_used_at_end: [0, 0], kv_slots_unused_at_end: [0, 5] };
    expect(() => checkInvariants(totals, 0, undefined)).toThrow('invariant broken: replica 1 holds no KV blocks but counts 5 unused slots');
    expect(() => checkInvariants({ ...totals, kv_slots_unused_at_end: [0, 0] }, 0, undefined)).not.toThrow();
  });

  it('a replica whose step stamps a sequence still reads (it would keep them from ever sliding)', () => {
    const totals = { ...newTotals(), end_s: 1, stamp_pins_at_end: [0, 0, 2] };
    expect(() => checkInvariants(totals, 0, undefined)).toThrow("invariant broken: 2 sequences still read replica 2's step stamps");
    expect(() => checkInvariants({ ...totals, stamp_pins_at_end: [0, 0, 0] }, 0, undefined)).not.toThrow();
  });
});
