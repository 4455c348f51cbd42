import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate } from '../../sim/index.js';
import { DEFAULT_GPU_MTBF_H } from '../../sim/setup/faults.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { arrowRows, expectInvariants, run, scenario, suiteDir } from '../helpers.js';

/**
 * Llama-3.1-8B's weights, bf16, on one GPU: 8,030,261,248 parameters × 2 bytes = 16,060,522,496
 * bytes, read from local NVMe at 1 GB/s = 16.060522496 s; then 35 s of engine start-up.
 */
const COLD_START_S = 16.060522496 + 35;
const FAULT_S = 30;
const DOWN_S = 10;

/** Four replicas under steady load; no frontend latency, so a request is on its replica from arrival_s to finish_s. */
const fleet = (patch: Partial<Record<keyof ScenarioInput, unknown>> = {}): ScenarioInput =>
  scenario({
    seed: 11,
    cluster: { replicas: 4, router: 'least-outstanding' },
    engine: { frontend_input_ms: 0, frontend_output_ms: 0 },
    cold_start: { storage: 'local_nvme' },
    metrics: { uncertainty: false, interval_s: 10 },
    workload: {
      arrival: { process: 'poisson', rate_per_s: 16 },
      input_tokens: { dist: 'uniform', min: 200, max: 1500 },
      output_tokens: { dist: 'uniform', min: 20, max: 300 },
      duration_s: 150,
    },
    ...patch,
  });

const oneFault = { faults: [{ at_s: FAULT_S, replica: 1, down_s: DOWN_S }] };

describe('one of four replicas fails at t = 30 s', () => {
  const dir = suiteDir();
  // The same run without the fault is identical up to t (a scripted fault draws nothing): what replica 1 held then.
  const calm = run(fleet());
  const held = calm.outcomes.filter((o) => o.replica === 1 && o.arrival_s < FAULT_S && o.finish_s > FAULT_S).length;
  const faulty = run(fleet(oneFault), dir);
  const events = faulty.result.summary.events as any[];
  const failedEvent = events.find((e) => e.kind === 'replica_failed');

  it('keeps every invariant, tokens conserved with the lost work counted as recomputed', () => {
    expectInvariants(faulty);
    const t = faulty.result.totals;
    expect(t.preemptions).toBe(0);
    // All the recomputed and discarded work is the failure's: the calm run has none.
    expect(calm.result.totals.recomputed_tokens).toBe(0);
    expect(t.recomputed_tokens).toBeGreaterThan(0);
    expect(t.discarded_tokens).toBeGreaterThan(0);
    expect(t.lost_sequences).toBe(held);
  });

  it('resends every request the replica held at t, and fails none (three replicas remain)', () => {
    expect(held).toBeGreaterThan(0);
    expect(failedEvent).toMatchObject({ time_s: FAULT_S, replica: 1, held, retried: held, failed: 0 });
    const resent = faulty.outcomes.filter((o) => (o.retries ?? 0) > 0);
    expect(resent.length).toBe(held);
    for (const o of resent) {
      expect(o.status).toBe('finished');
      expect(o.retries).toBe(1);
      expect(o.replica).not.toBe(1);
      expect(o.arrival_s).toBeLessThan(FAULT_S);
      // Resent from scratch: its first token comes after the failure.
      expect((o.token_times_s as number[])[0]).toBeGreaterThan(FAULT_S);
    }
    const rows = arrowRows(dir, 'requests.arrow');
    expect(rows.filter((r) => r.retries === 1).map((r) => r.request_id).sort()).toEqual(resent.map((o) => o.request_id).sort());
  });

  it('brings capacity back after the repair plus a cold start', () => {
    const back = events.find((e) => e.kind === 'replica_recovered');
    expect(back.time_s).toBeCloseTo(FAULT_S + DOWN_S + COLD_START_S, 9);
    expect(back.time_to_recover_s).toBeCloseTo(DOWN_S + COLD_START_S, 9);
    const ready = (at: number) => arrowRows(dir, 'cluster.arrow').find((r) => r.time_s === at);
    expect(ready(20)).toMatchObject({ ready: 4, starting: 0, failed: 0 });
    // The replacement starts at once and takes the repair and its cold start to be ready.
    expect(ready(30)).toMatchObject({ ready: 3, starting: 1, failed: 1 });
    expect(ready(90)).toMatchObject({ ready: 3, starting: 1 });
    expect(ready(100)).toMatchObject({ ready: 4, starting: 0, failed: 1 });
    const f = faulty.result.summary.faults!;
    expect(f).toMatchObject({ failures: 1, requests_held: held, retried: held, failed: 0, recovered: 1 });
    expect(f.time_to_recover_s.max).toBeCloseTo(DOWN_S + COLD_START_S, 9);
  });

  it('bills the failed replica to its failure and the replacement from then on', () => {
    const lives = faulty.result.summary.per_replica;
    expect(lives[1].end_s).toBe(FAULT_S);
    expect(lives[4].start_s).toBe(FAULT_S);
  });

  it('is byte-identical when repeated', () => {
    const again = suiteDir();
    simulate(fleet(oneFault), { outDir: again });
    for (const file of ['requests.arrow', 'events.arrow', 'cluster.arrow']) {
      expect(readFileSync(join(again, file)).equals(readFileSync(join(dir, file)))).toBe(true);
    }
  });

  it('with max_retries 0, ends each of those requests failed, with no token', () => {
    const strict = run(fleet({ ...oneFault, cluster: { replicas: 4, router: 'least-outstanding', max_retries: 0 } }));
    expectInvariants(strict);
    const failed = strict.outcomes.filter((o) => o.status === 'failed');
    expect(failed.length).toBe(held);
    for (const o of failed) {
      expect(o).toMatchObject({ replica: 1, output_tokens: 0, finish_s: FAULT_S });
      expect(o.retries ?? 0).toBe(0);
    }
    expect(strict.result.summary.overall.requests.failed).toBe(held);
    expect(strict.result.totals.failed).toBe(held);
  });
});

describe('a request whose replica fails twice', () => {
  // Two replicas; the first fails at 30 s (its requests go to the other), then that one at 30.5 s.
  const twice = run(
    fleet({
      cluster: { replicas: 2, router: 'least-outstanding' },
      workload: { arrival: { process: 'poisson', rate_per_s: 8 }, input_tokens: { dist: 'uniform', min: 200, max: 1500 }, output_tokens: { dist: 'uniform', min: 100, max: 300 }, duration_s: 60 },
      faults: [{ at_s: 30, replica: 0 }, { at_s: 30.5, replica: 0 }],
    }),
  );
  const [first, second] = (twice.result.summary.events as any[]).filter((e) => e.kind === 'replica_failed');

  it('fails once resent max_retries (1) times, and when no replica is left to resend to', () => {
    expectInvariants(twice);
    expect(first).toMatchObject({ replica: 0, failed: 0 });
    // At 30.5 s the only other replica is starting: nothing can take a resend.
    expect(second).toMatchObject({ replica: 1, retried: 0, failed: second.held });
    const failed = twice.outcomes.filter((o) => o.status === 'failed' && o.finish_s === 30.5);
    expect(failed.length).toBe(second.held);
    const twiceFailed = failed.filter((o) => o.retries === 1);
    expect(twiceFailed.length).toBeGreaterThan(0);
    expect(twiceFailed.length).toBeLessThanOrEqual(first.retried);
  });
});

describe('faults and other lifecycles', () => {
  it('a draining replica that fails is not replaced (it was leaving)', () => {
    const observed: RequestOutcome[] = [];
    const result = simulate(fleet({ faults: [{ at_s: 30, replica: 3 }] }), {
      onRequest: (o) => observed.push({ ...o, token_times_s: Array.from(o.token_times_s) }),
      control: (c) => c.at(29.999, () => c.drainReplica(3)),
    });
    expectInvariants({ result, outcomes: observed });
    const events = result.summary.events as any[];
    expect(events.find((e) => e.kind === 'replica_failed')).toMatchObject({ replica: 3 });
    expect(events.find((e) => e.kind === 'replica_failed').held).toBeGreaterThan(0);
    expect(events.some((e) => e.kind === 'replica_recovered')).toBe(false);
    expect(result.summary.per_replica.length).toBe(4);
  });

  it('a fault naming a replica the pool does not have up at its time is skipped and said so', () => {
    // Replica 1 drains from 5 s and stops; at 100 s the pool has one replica up (position 0).
    const result = simulate(fleet({ cluster: { replicas: 2 }, faults: [{ at_s: 100, replica: 1 }] }), { control: (c) => c.at(5, () => c.drainReplica(1)) });
    expect(result.summary.events).toEqual([{ time_s: 100, kind: 'fault_skipped', pool: 'default', detail: 'replica 1 of the pool is not up (1 are)', position: 1, up: 1 }]);
    expect(result.summary.faults).toMatchObject({ failures: 0, skipped: 1, requests_held: 0 });
  });

  it('a replacement that fails while starting hands its wait on: recovery counts from the first failure', () => {
    const result = simulate(fleet({ cluster: { replicas: 2 }, faults: [{ at_s: 10, replica: 1 }, { at_s: 10.5, replica: 1 }] }));
    const events = result.summary.events as any[];
    // At 10.5 s the pool's positions are replica 0 (ready) and the replacement, replica 2 (starting).
    expect(events.map((e) => [e.kind, e.replica])).toEqual([['replica_failed', 1], ['replica_failed', 2], ['replica_recovered', 3]]);
    expect(events[1].held).toBe(0);
    expect(events[2].time_to_recover_s).toBeCloseTo(0.5 + COLD_START_S, 9);
    expect(result.summary.faults).toMatchObject({ failures: 2, recovered: 1 });
  });

  it('an autoscaled pool holds the resent requests until a replica is ready, failing none', () => {
    const observed: RequestOutcome[] = [];
    const result = simulate(
      fleet({
        cluster: { replicas: 1 },
        autoscale: { min_replicas: 1, max_replicas: 1, metric: 'concurrency', target: 100 },
        workload: { arrival: { process: 'poisson', rate_per_s: 4 }, input_tokens: { dist: 'uniform', min: 200, max: 1500 }, output_tokens: { dist: 'uniform', min: 20, max: 300 }, duration_s: 60 },
        faults: [{ at_s: 30, replica: 0 }],
      }),
      { onRequest: (o) => observed.push({ ...o, token_times_s: Array.from(o.token_times_s) }) },
    );
    expectInvariants({ result, outcomes: observed });
    const f = result.summary.faults!;
    expect(f.requests_held).toBeGreaterThan(0);
    expect(f.failed).toBe(0);
    // Held, then served by the replacement once it is ready.
    for (const o of observed.filter((x) => (x.retries ?? 0) > 0)) expect((o.token_times_s as number[])[0]).toBeGreaterThanOrEqual(30 + COLD_START_S);
    expect(result.summary.overall.requests.rejected).toBe(0);
  });
});

describe('random failures (pools[].failures)', () => {
  // One-GPU replicas failing every 90 s on average: several failures in a 300 s run.
  const input = fleet({
    cluster: { replicas: 3, router: 'least-outstanding' },
    failures: { mtbf_h: 90 / 3600, repair_s: 5 },
    workload: { arrival: { process: 'poisson', rate_per_s: 12 }, input_tokens: { dist: 'uniform', min: 200, max: 1500 }, output_tokens: { dist: 'uniform', min: 20, max: 300 }, duration_s: 300 },
  });
  const a = run(input);

  it('fail replicas on a seeded clock, keeping every invariant', () => {
    expectInvariants(a);
    const f = a.result.summary.faults!;
    expect(f.failures).toBeGreaterThan(2);
    expect(f.requests_held).toBe(f.retried + f.failed);
    const events = a.result.summary.events as any[];
    // Repair plus cold start, or longer where a replacement itself failed while starting.
    const took = events.filter((x) => x.kind === 'replica_recovered').map((e) => e.time_to_recover_s as number);
    expect(Math.min(...took)).toBeCloseTo(5 + COLD_START_S, 9);
    for (const t of took) expect(t).toBeGreaterThanOrEqual(5 + COLD_START_S - 1e-9);
  });

  it('repeat exactly with the same seed, and fail elsewhere with another', () => {
    const times = (r: typeof a) => (r.result.summary.events as any[]).filter((e) => e.kind === 'replica_failed').map((e) => e.time_s);
    expect(times(run(input))).toEqual(times(a));
    expect(times(run({ ...input, seed: 12 }))).not.toEqual(times(a));
  });

  it('default to the Llama 3 interruption rate per GPU', () => {
    expect(DEFAULT_GPU_MTBF_H).toBeCloseTo((16384 * 54 * 24) / 419, 9);
    const s = simulate(fleet({ failures: {}, workload: { ...fleet().workload, duration_s: 20 } })).setup.scenario;
    expect(s.failures).toEqual({ mtbf_h: DEFAULT_GPU_MTBF_H, repair_s: 0 });
    expect(s.cluster.max_retries).toBe(1);
  });
});

describe('bad fault input: one clear line each', () => {
  const refuse = (patch: Partial<Record<keyof ScenarioInput, unknown>>) => () => simulate(fleet(patch));
  it.each([
    ['a fault on a missing replica', { faults: [{ at_s: 10, replica: 4 }] }, 'faults[0].replica: names a missing replica: pool default has at most 4 (replicas are numbered from 0, so 0 to 3), got 4'],
    ['a fault on a missing pool', { faults: [{ at_s: 10, pool: 'gpu', replica: 0 }] }, 'faults[0].pool: names no pool (pools are default), got "gpu"'],
    ['a negative fault time', { faults: [{ at_s: -1, replica: 0 }] }, /^faults\[0\]\.at_s: must be ≥ 0/],
    ['an MTBF of 0', { failures: { mtbf_h: 0 } }, /^failures\.mtbf_h: must be > 0, got 0/],
    ['negative retries', { cluster: { replicas: 4, max_retries: -1 } }, /^cluster\.max_retries: must be an integer ≥ 0/],
    ['a pool fault past the autoscaler\'s most', { pools: [{ name: 'a', replicas: 1, autoscale: { max_replicas: 3, metric: 'queue', target: 2 } }], cluster: {}, faults: [{ at_s: 1, pool: 'a', replica: 3 }] }, /^faults\[0\]\.replica: names a missing replica: pool a has at most 3/],
  ])('%s', (_what, patch, message) => {
    expect(refuse(patch)).toThrow(message);
  });
});

describe('regressions found by review', () => {
  it('forked samples (vllm-v0, n 2) carry their request\'s resend count', () => {
    const forked = run(fleet({ ...oneFault, engine: { scheduler: 'vllm-v0', frontend_input_ms: 0, frontend_output_ms: 0 }, workload: { ...fleet().workload, n: 2 } }));
    expectInvariants(forked);
    const f = forked.result.summary.faults!;
    expect(f.retried).toBeGreaterThan(0);
    expect(forked.outcomes.filter((o) => o.retries === 1).length).toBe(f.retried);
  });

  it('a resent request that had started streams on: no time-out ends it, and its resend count stays', () => {
    const timed = run(fleet({ ...oneFault, workload: { ...fleet().workload, timeout_s: 2 } }));
    expectInvariants(timed);
    const f = timed.result.summary.faults!;
    const resent = timed.outcomes.filter((o) => (o.retries ?? 0) > 0);
    expect(resent.length).toBe(f.retried);
    // Those whose lost attempt had started cannot time out again; the others keep their deadline.
    for (const o of resent) if (o.status === 'timed_out') expect(o.finish_s).toBeCloseTo(o.arrival_s + 2, 9);
    expect(resent.filter((o) => o.status === 'finished').length).toBeGreaterThan(0);
  });

  it('requests resent at one instant share their first step on an idle replica', () => {
    const dir = suiteDir();
    const lines = Array.from({ length: 12 }, (_, i) => JSON.stringify({ t: i * 1e-3, in: 500, out: i % 2 === 0 ? 2 : 3000 }));
    writeFileSync(join(dir, 'burst.jsonl'), lines.join('\n'));
    const input = fleet({
      cluster: { replicas: 2, router: 'round-robin' },
      faults: [{ at_s: 2, replica: 1 }],
      workload: { trace: { path: join(dir, 'burst.jsonl'), format: 'jsonl', columns: { arrival: 't', input_tokens: 'in', output_tokens: 'out' } } },
    });
    simulate(input, { outDir: join(dir, 'out') });
    const steps = arrowRows(join(dir, 'out'), 'iterations.arrow').filter((r) => r.replica === 0 && r.start_s >= 2);
    expect(steps[0].start_s).toBe(2);
    expect(steps[0].prefill_seqs).toBe(6);
  });

  it('a replacement ready after the last request left does not stretch the run', () => {
    const late = (down_s: number) => simulate(fleet({ cluster: { replicas: 2 }, faults: [{ at_s: 140, replica: 1, down_s }] }));
    const short = late(0);
    const long = late(5000);
    expect((long.summary.events as any[]).some((e) => e.kind === 'replica_recovered')).toBe(false);
    expect(long.totals.end_s).toBeLessThan(200);
    expect(long.totals.end_s).toBe(short.totals.end_s);
  });
});
