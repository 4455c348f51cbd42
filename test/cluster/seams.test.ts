import { describe, expect, it } from 'vitest';
import type { RunControl } from '../../sim/cluster/lifecycle.js';
import { Replica } from '../../sim/cluster/replica.js';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { emptyPlan, type ReplicaScheduler, type StepPlan } from '../../sim/scheduler/scheduler.js';
import { Sequence } from '../../sim/scheduler/sequence.js';
import { InfersimError, simulate } from '../../sim/index.js';
import type { LatencyModel } from '../../sim/latency/model.js';
import type { Request } from '../../sim/workload/request.js';
import type { RequestOutcome } from '../../sim/metrics/records.js';
import { scenario } from '../helpers.js';

const FRONT_IN_S = 0.001;

describe('replicas come and go during a run', () => {
  // Two replicas from the start; a third added at 2 s that takes 1 s to start; replica 0 drained at 5 s.
  const outcomes: RequestOutcome[] = [];
  let control: RunControl | undefined;
  const result = simulate(
    scenario({ cluster: { replicas: 2, router: 'round-robin' }, engine: { frontend_input_ms: FRONT_IN_S * 1000 } }),
    {
      onRequest: (o) => outcomes.push({ ...o }),
      control: (c) => {
        control = c;
        c.at(2, () => expect(c.addReplica(1)).toBe(2));
        c.at(5, () => c.drainReplica(0));
      },
    },
  );
  const summary = result.summary as any;
  const seen_s = (o: RequestOutcome) => o.arrival_s + FRONT_IN_S;
  const on = (r: number) => outcomes.filter((o) => o.replica === r);

  it('routes to an added replica only once it is ready, and to a drained one no more', () => {
    expect(on(2).length).toBeGreaterThan(20);
    expect(Math.min(...on(2).map(seen_s))).toBeGreaterThanOrEqual(3);
    expect(Math.max(...on(0).map(seen_s))).toBeLessThanOrEqual(5);
    expect(Math.max(...on(1).map(seen_s))).toBeGreaterThan(5);
    expect(outcomes.length).toBe(200);
    expect(outcomes.every((o) => o.status === 'finished')).toBe(true);
    expect(control?.state(0)).toBe('stopped');
    expect(control?.state(2)).toBe('ready');
  });

  it('reports every replica that served, with its lifetime and GPU-hours', () => {
    expect(summary.per_replica.map((r: any) => r.replica)).toEqual([0, 1, 2]);
    const [r0, r1, r2] = summary.per_replica;
    expect(r0.requests.total + r1.requests.total + r2.requests.total).toBe(200);
    expect(r2.start_s).toBe(2);
    expect(r2.end_s).toBeNull();
    expect(r1.start_s).toBeNull();
    // Replica 0 stops when its last step ends: its last token reaches the client frontend_output_ms later.
    const lastFinish_s = Math.max(...on(0).map((o) => o.finish_s));
    expect(r0.end_s).toBeGreaterThan(5);
    expect(r0.end_s).toBeCloseTo(lastFinish_s - 0.0002, 9);
    // GPU-hours: one GPU each, from its start (or the first arrival) to its end (or the run's end).
    const first_s = Math.min(...outcomes.map((o) => o.arrival_s));
    const end_s = first_s + summary.makespan_s;
    expect(r0.gpu_hours).toBeCloseTo((r0.end_s - first_s) / 3600, 12);
    expect(r1.gpu_hours).toBeCloseTo((end_s - first_s) / 3600, 12);
    expect(r2.gpu_hours).toBeCloseTo((end_s - 2) / 3600, 12);
    expect(summary.cost.gpu_hours).toBeCloseTo(r0.gpu_hours + r1.gpu_hours + r2.gpu_hours, 12);
  });

  it('rejects what arrives while no replica is ready, and keeps the books', () => {
    const left: RequestOutcome[] = [];
    const r = simulate(scenario({ engine: { frontend_input_ms: FRONT_IN_S * 1000 } }), {
      onRequest: (o) => left.push({ ...o }),
      control: (c) => c.at(4, () => c.drainReplica(0)),
    });
    const late = left.filter((o) => seen_s(o) > 4);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((o) => o.status === 'rejected' && o.replica === -1)).toBe(true);
    expect(r.totals.rejected).toBe(late.length);
    expect(left.filter((o) => seen_s(o) <= 4).every((o) => o.status === 'finished')).toBe(true);
  });
});

describe('a draining replica', () => {
  it('stops when its last request leaves by timing out, and its GPU-hours end there', () => {
    // The dynamic batcher waits 10 s to fill a batch, so all five requests time out at arrival + 1 s.
    let control: RunControl | undefined;
    const left: RequestOutcome[] = [];
    const r = simulate(
      scenario({
        engine: { scheduler: 'dynamic', max_batch_size: 64, batch_timeout_ms: 10000, orca_reservation: 'oracle' },
        workload: {
          arrival: { process: 'poisson', rate_per_s: 20 },
          input_tokens: { dist: 'uniform', min: 50, max: 200 },
          output_tokens: { dist: 'uniform', min: 1, max: 30 },
          num_requests: 5,
          timeout_s: 1,
        },
      }),
      { onRequest: (o) => left.push({ ...o }), control: (c) => c.at(0.2, () => (control = c).drainReplica(0)) },
    );
    expect(r.totals.timed_out).toBe(5);
    expect(control?.state(0)).toBe('stopped');
    const lastTimeout_s = Math.max(...left.map((o) => o.finish_s)) - 0.0002;
    const entry = (r.summary as any).per_replica[0];
    expect(entry.end_s).toBeCloseTo(lastTimeout_s, 9);
  });
});

describe('run control refuses what cannot happen', () => {
  const attempt = (act: (c: RunControl) => void) => () => simulate(scenario({ cluster: { replicas: 2 } }), { control: (c) => c.at(1, () => act(c)) });

  it.each([
    ['an action in the past', (c: RunControl) => c.at(0.5, () => {}), /not before now \(1 s\), got 0.5/],
    ['a negative start-up time', (c: RunControl) => c.addReplica(-1), /startup_s must be finite and ≥ 0, got -1/],
    ['a replica that does not exist', (c: RunControl) => c.drainReplica(5), /no replica 5 \(the cluster has 2/],
    [
      'draining a stopped replica',
      (c: RunControl) => {
        const i = c.addReplica(1);
        c.drainReplica(i);
        c.drainReplica(i);
      },
      /replica 2: a stopped replica cannot become draining/,
    ],
  ])('%s', (_what, act, message) => {
    expect(attempt(act)).toThrow(InfersimError);
    expect(attempt(act)).toThrow(message);
  });
});

/** Schedules each waiting sequence alone, one per step, prompt and first token at once (a pipeline's stages each take one). */
class OneAtATime implements ReplicaScheduler {
  private readonly waiting: Sequence[] = [];
  waiting_count = 0;
  running_count = 0;
  swapped_count = 0;
  constructor(private readonly kv: BlockManager) {}
  enqueue(seq: Sequence): void {
    this.waiting.push(seq);
    this.waiting_count++;
  }
  schedule(now_s: number): StepPlan {
    const plan = emptyPlan();
    const seq = this.waiting.shift();
    if (seq === undefined) return plan;
    this.waiting_count--;
    this.running_count++;
    seq.first_scheduled_s = now_s;
    seq.scheduled_tokens = seq.known_tokens - seq.computed_tokens;
    this.kv.allocateSlots(seq, seq.known_tokens);
    plan.scheduled.push(seq);
    plan.batch.prefill_tokens += seq.scheduled_tokens;
    return plan;
  }
  afterStep(): void {}
  cancelWaiting(): boolean {
    return false;
  }
  releaseAll(): void {
    throw new Error('no replica of these tests fails');
  }
}

describe('a replica with several steps in flight', () => {
  const latency = { iterationTime_s: () => 0.01 } as unknown as LatencyModel;
  const transfer = { bytes_per_block: 1, pcie_one_direction_bytes_per_s: 1, hbm_bytes_per_s: 1 };
  const request = (id: number): Request => ({ id, arrival_s: 0, input_tokens: 20, output_tokens: 1 }) as Request;

  it('starts up to its stage count, then completes the oldest step first', () => {
    const kv = new BlockManager(100, 16, { prefix_caching: false, swap_blocks: 0 });
    const replica = new Replica(0, new OneAtATime(kv), kv, latency, transfer, 2);
    const [a, b, c] = [0, 1, 2].map((id) => new Sequence(request(id), 0));
    for (const seq of [a, b, c]) replica.admit(seq, 0);
    expect(replica.startStep(0).scheduled).toEqual([a]);
    expect(replica.busy).toBe(false);
    expect(replica.startStep(0.005).scheduled).toEqual([b]);
    expect(replica.busy).toBe(true);
    expect(replica.steps_in_flight).toBe(2);
    const finished: Sequence[] = [];
    replica.completeStep(0.01, finished);
    expect(finished).toEqual([a]);
    // The step that completed is the oldest: it started at 0, not at the latest start (0.005).
    expect(replica.completed_step_start_s).toBe(0);
    expect(a.tokens.steps[0]).toBe(0);
    expect(b.generated_tokens).toBe(0);
    expect(replica.busy).toBe(false);
    expect(replica.startStep(0.01).scheduled).toEqual([c]);
    replica.completeStep(0.015, finished);
    expect(replica.completed_step_start_s).toBe(0.005);
    replica.completeStep(0.02, finished);
    expect(replica.completed_step_start_s).toBe(0.01);
    expect(finished).toEqual([a, b, c]);
    expect([b.tokens.steps[0], c.tokens.steps[0]]).toEqual([1, 2]);
    expect(replica.steps_in_flight).toBe(0);
    expect(() => replica.completeStep(0.03, finished)).toThrow(/none in flight/);
  });

  it('refuses a sequence scheduled again while a step holding it is in flight', () => {
    const kv = new BlockManager(100, 16, { prefix_caching: false, swap_blocks: 0 });
    const replica = new Replica(0, new OneAtATime(kv), kv, latency, transfer, 2);
    const a = new Sequence(request(0), 0);
    replica.admit(a, 0);
    replica.startStep(0);
    replica.admit(a, 0);
    expect(() => replica.startStep(0.005)).toThrow(/request 0 was scheduled while a step holding it is in flight/);
  });

  it('runs one step at a time by default', () => {
    const kv = new BlockManager(100, 16, { prefix_caching: false, swap_blocks: 0 });
    const replica = new Replica(0, new OneAtATime(kv), kv, latency, transfer);
    for (const id of [0, 1]) replica.admit(new Sequence(request(id), 0), 0);
    replica.startStep(0);
    expect(replica.busy).toBe(true);
  });
});
