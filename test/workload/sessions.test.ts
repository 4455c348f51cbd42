import { describe, expect, it } from 'vitest';
import { InfersimError } from '../../sim/errors.js';
import type { WorkloadSpec } from '../../sim/scenario/types.js';
import { createRequestStream } from '../../sim/workload/index.js';
import { driveStream, errorOf, tempFile } from './helpers.js';

const fixed = (value: number) => ({ dist: 'fixed' as const, value });
const lengths: WorkloadSpec = { input_tokens: fixed(100), output_tokens: fixed(10) };

describe('multi-turn sessions', () => {
  it('closed loop, one client: turns wait think time after each completion, then the next session starts at once', () => {
    const stream = createRequestStream({ ...lengths, concurrency: 1, num_requests: 5, sessions: { turns: fixed(3), think_time_s: 2 } }, 1);
    expect(stream.next()).toMatchObject({ id: 0, arrival_s: 0, input_tokens: 100, output_tokens: 10, session: 0 });
    expect(stream.next()).toBeUndefined();
    expect(stream.exhausted()).toBe(false);
    expect(stream.onFinished(0, 1)).toBe(1);
    // Turn 2's prompt: turn 1's prompt (100) + its answer (10) + a new message (100).
    expect(stream.next()).toMatchObject({ id: 1, arrival_s: 3, input_tokens: 210, output_tokens: 10, session: 0 });
    expect(stream.onFinished(1, 4)).toBe(1);
    expect(stream.next()).toMatchObject({ id: 2, arrival_s: 6, input_tokens: 320, session: 0 });
    // The session's last turn frees the client: a new session, no think time.
    expect(stream.onFinished(2, 7)).toBe(1);
    expect(stream.next()).toMatchObject({ id: 3, arrival_s: 7, input_tokens: 100, session: 1 });
    expect(stream.onFinished(3, 8)).toBe(1);
    expect(stream.next()).toMatchObject({ id: 4, arrival_s: 10, input_tokens: 210, session: 1 });
    // num_requests counts turns: the fifth request used the budget, so session 1 ends after two turns.
    expect(stream.exhausted()).toBe(true);
    expect(stream.onFinished(4, 11)).toBe(0);
    expect(stream.next()).toBeUndefined();
  });

  it('open loop, pulled as the engine pulls: turns interleave with session starts, ids in return order', () => {
    const spec: WorkloadSpec = { ...lengths, arrival: { process: 'constant', rate_per_s: 1 }, num_requests: 4, sessions: { turns: fixed(2), think_time_s: 0.5 } };
    const stream = createRequestStream(spec, 1);
    expect(stream.next()).toMatchObject({ id: 0, arrival_s: 0, session: 0 }); // engine start
    expect(stream.next()).toMatchObject({ id: 1, arrival_s: 1, session: 1 }); // after arrival 0
    expect(stream.onFinished(0, 0.25)).toBe(1);
    expect(stream.next()).toMatchObject({ id: 2, arrival_s: 0.75, input_tokens: 210, session: 0 });
    expect(stream.next()).toMatchObject({ id: 3, arrival_s: 2, input_tokens: 100, session: 2 }); // after arrival 0.75
    // Four requests are out: session 1's second turn never comes.
    expect(stream.exhausted()).toBe(true);
    expect(stream.onFinished(1, 1.5)).toBe(0);
    expect(stream.next()).toBeUndefined();
  });

  it('a released turn holds its num_requests slot before it is returned', () => {
    const spec: WorkloadSpec = { ...lengths, arrival: { process: 'constant', rate_per_s: 1 }, num_requests: 4, sessions: { turns: fixed(2), think_time_s: 5 } };
    const stream = createRequestStream(spec, 1);
    expect(stream.next()).toMatchObject({ id: 0, arrival_s: 0, session: 0 });
    expect(stream.next()).toMatchObject({ id: 1, arrival_s: 1, session: 1 });
    expect(stream.onFinished(0, 0.5)).toBe(1); // session 0's turn 2 at 5.5: the third slot
    expect(stream.next()).toMatchObject({ id: 2, arrival_s: 2, session: 2 }); // the fourth
    expect(stream.onFinished(1, 1.5)).toBe(0);
    expect(stream.exhausted()).toBe(false);
    expect(stream.next()).toMatchObject({ id: 3, arrival_s: 5.5, session: 0, input_tokens: 210 });
    expect(stream.exhausted()).toBe(true);
  });

  it('duration_s stops session starts, not turns', () => {
    const spec: WorkloadSpec = { ...lengths, arrival: { process: 'constant', rate_per_s: 1 }, duration_s: 2, sessions: { turns: fixed(3), think_time_s: 1 } };
    const requests = driveStream(createRequestStream(spec, 1), () => 0.5).map((d) => d.request);
    expect(requests.map((r) => [r.session, r.arrival_s])).toEqual([
      [0, 0],
      [1, 1],
      [0, 1.5],
      [1, 2.5],
      [0, 3],
      [1, 4],
    ]);
    expect(requests.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('closed loop with duration_s: a session ending at or after it starts no new one', () => {
    const spec: WorkloadSpec = { ...lengths, concurrency: 2, duration_s: 3, sessions: { turns: fixed(2), think_time_s: 0 } };
    const requests = driveStream(createRequestStream(spec, 1), () => 1).map((d) => d.request);
    // Each client: turn 1 at 0, turn 2 at 1, session 2 at 2 (ends at 4 > 3, nothing more).
    expect(requests.map((r) => [r.session, r.arrival_s])).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [2, 2],
      [3, 2],
      [2, 3],
      [3, 3],
    ]);
  });

  it('the number of turns is drawn per session from its own stream', () => {
    const spec: WorkloadSpec = { ...lengths, concurrency: 1, num_requests: 2000, sessions: { turns: { dist: 'uniform', min: 1, max: 4 }, think_time_s: 0 } };
    const requests = driveStream(createRequestStream(spec, 3), () => 1).map((d) => d.request);
    const turns = new Map<number, number>();
    for (const r of requests) turns.set(r.session!, (turns.get(r.session!) ?? 0) + 1);
    const counts = [...turns.values()].slice(0, -1); // the last session may be cut by num_requests
    expect(Math.min(...counts)).toBe(1);
    expect(Math.max(...counts)).toBe(4);
    expect(counts.reduce((a, b) => a + b, 0) / counts.length).toBeCloseTo(2.5, 0);
    // Another length distribution leaves the turn counts alone.
    const other = driveStream(createRequestStream({ ...spec, output_tokens: fixed(99) }, 3), () => 1).map((d) => d.request);
    expect(other.map((r) => r.session)).toEqual(requests.map((r) => r.session));
  });

  it('is lazy in open loop: a billion-request workload starts at once', () => {
    const spec: WorkloadSpec = { ...lengths, arrival: { process: 'poisson', rate_per_s: 10 }, num_requests: 1e9, sessions: { turns: fixed(5), think_time_s: 1 } };
    const started = performance.now();
    const stream = createRequestStream(spec, 1);
    for (let i = 0; i < 1000; i++) stream.next();
    expect(performance.now() - started).toBeLessThan(500);
    expect(stream.exhausted()).toBe(false);
  });

  it('completions it does not know, repeated or running backwards are engine bugs', () => {
    const stream = createRequestStream({ ...lengths, concurrency: 2, num_requests: 10, sessions: { turns: fixed(2), think_time_s: 0 } }, 1);
    stream.next();
    stream.next();
    expect(() => stream.onFinished(5, 1)).toThrow(/request 5 finished but is not in flight/);
    stream.onFinished(0, 2);
    expect(() => stream.onFinished(0, 3)).toThrow(/not in flight/);
    expect(() => stream.onFinished(1, 1)).toThrow(/before an earlier one/);
  });

  it('rejects a trace, with a message saying why', () => {
    const path = tempFile('t.csv', 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,1\n');
    const error = errorOf(() => createRequestStream({ trace: { path, format: 'vidur' }, sessions: { turns: fixed(2), think_time_s: 1 } }, 1));
    expect(error).toBeInstanceOf(InfersimError);
    expect(error.message).toMatch(/^workload\.sessions: needs a synthetic workload .*a trace gives whole requests/);
  });

  it('checks the turns distribution and the think time', () => {
    const base: WorkloadSpec = { ...lengths, concurrency: 1, num_requests: 5 };
    expect(errorOf(() => createRequestStream({ ...base, sessions: { turns: { dist: 'uniform', min: 3, max: 2 }, think_time_s: 0 } }, 1)).message).toBe(
      'workload.sessions.turns.min: must be ≤ max (2), got 3',
    );
    expect(errorOf(() => createRequestStream({ ...base, sessions: { turns: fixed(2), think_time_s: -1 } }, 1)).message).toBe(
      'workload.sessions.think_time_s: must be a number ≥ 0, got -1',
    );
  });
});
