import { describe, expect, it } from 'vitest';
import { ARRIVAL, CONTROL, EVENT_KINDS, KV_TRANSFER_DONE, REPLICA_FAILED, REPLICA_READY, SCHEDULE, STEP_END, TIMEOUT } from '../../sim/cluster/events.js';
import type { RunControl } from '../../sim/cluster/lifecycle.js';
import { simulate } from '../../sim/index.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import { scenario } from '../helpers.js';

/** Runs with zero frontend latency, so the engine sees each request at its arrival time exactly. */
function run(patch: NonNullable<Parameters<typeof scenario>[0]>, control?: (c: RunControl) => void) {
  const left: RequestOutcome[] = [];
  simulate(scenario({ ...patch, engine: { frontend_input_ms: 0, ...(patch.engine as object) } }), {
    onRequest: (o) => left.push({ ...o }),
    control,
  });
  return left.sort((a, b) => a.request_id - b.request_id);
}

const workload = (n: number, arrival: object, extra: object = {}) => ({
  arrival,
  input_tokens: { dist: 'fixed', value: 200 },
  output_tokens: { dist: 'fixed', value: 20 },
  num_requests: n,
  ...extra,
});

describe('the event table', () => {
  it('orders the kinds as the design states: step end, KV landed, replica ready/failed, arrival, time-out, control, scheduling', () => {
    const p = (kind: number) => EVENT_KINDS[kind].priority;
    expect(p(STEP_END)).toBeLessThan(p(KV_TRANSFER_DONE));
    expect(p(KV_TRANSFER_DONE)).toBeLessThan(p(REPLICA_READY));
    expect(p(REPLICA_READY)).toBe(p(REPLICA_FAILED));
    expect(p(REPLICA_FAILED)).toBeLessThan(p(ARRIVAL));
    expect(p(ARRIVAL)).toBeLessThan(p(TIMEOUT));
    expect(p(TIMEOUT)).toBeLessThan(p(CONTROL));
    expect(p(CONTROL)).toBeLessThan(p(SCHEDULE));
    expect(new Set(EVENT_KINDS.map((k) => k.name)).size).toBe(EVENT_KINDS.length);
  });
});

describe('why each kind sits where it does', () => {
  it('arrivals before scheduling: requests that arrive together share their first step', () => {
    const left = run({ workload: workload(4, { process: 'burst' }) });
    expect(left.map((o) => o.first_scheduled_s)).toEqual([0, 0, 0, 0]);
  });

  it('a replica ready at an arrival instant takes that arrival', () => {
    // Replica 0 drains at 0.5 s; replica 1, added then, is ready at 2 s, when request 2 arrives.
    const left = run({ workload: workload(4, { process: 'constant', rate_per_s: 1 }) }, (c) =>
      c.at(0.5, () => {
        c.drainReplica(0);
        c.addReplica(1.5);
      }),
    );
    expect(left.map((o) => [o.status, o.replica])).toEqual([
      ['finished', 0],
      ['rejected', -1],
      ['finished', 1],
      ['finished', 1],
    ]);
  });

  it('control decisions see the arrivals of their instant', () => {
    const left = run({ workload: workload(4, { process: 'constant', rate_per_s: 1 }) }, (c) => c.at(2, () => c.drainReplica(0)));
    expect(left.map((o) => o.status)).toEqual(['finished', 'finished', 'finished', 'rejected']);
  });

  it('a time-out at the instant its request would be scheduled wins', () => {
    // One sequence at a time: request 1 waits for request 0 to finish, at T.
    const engine = { max_num_seqs: 1, max_num_batched_tokens: 8192 };
    const T = run({ engine, workload: workload(2, { process: 'burst' }) })[1].first_scheduled_s;
    expect(T).toBeGreaterThan(0);
    const at = run({ engine, workload: workload(2, { process: 'burst' }, { timeout_s: T }) });
    expect(at.map((o) => o.status)).toEqual(['finished', 'timed_out']);
    const after = run({ engine, workload: workload(2, { process: 'burst' }, { timeout_s: T * (1 + 1e-9) }) });
    expect(after.map((o) => o.status)).toEqual(['finished', 'finished']);
  });
});
