import { describe, expect, it } from 'vitest';
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
});
