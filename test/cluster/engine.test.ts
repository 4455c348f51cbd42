import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { expectInvariants, run, scenario } from '../helpers.js';

describe('engine behaviour', () => {
  it('requests sent together all join the first step', () => {
    const observed = run(
      scenario({
        workload: {
          arrival: { process: 'burst' },
          input_tokens: { dist: 'fixed', value: 32 },
          output_tokens: { dist: 'fixed', value: 16 },
          num_requests: 8,
        },
      }),
    );
    const firstScheduled = new Set(observed.outcomes.map((o) => o.first_scheduled_s));
    const firstTokens = new Set(observed.outcomes.map((o) => (o.token_times_s as number[])[0]));
    expect(firstScheduled.size).toBe(1);
    expect(firstTokens.size).toBe(1);
    // 1 prefill step for all 8, then 15 decode steps in which all 8 decode together.
    expect(observed.result.totals.steps).toBe(16);
    expectInvariants(observed);
  });

  it('keeps every invariant on a mixed Poisson load', () => {
    const observed = run(scenario());
    expectInvariants(observed);
    expect(observed.result.totals.finished).toBe(200);
  });

  it('under KV pressure preempts, still finishes everything, and reports preemptions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infersim-kv-'));
    try {
      const out = join(dir, 'out');
      const observed = run(
        scenario({
          engine: { num_gpu_blocks_override: 400, max_model_len: 4096 },
          workload: {
            arrival: { process: 'burst' },
            input_tokens: { dist: 'uniform', min: 200, max: 800 },
            output_tokens: { dist: 'uniform', min: 200, max: 600 },
            num_requests: 60,
          },
        }),
        out,
      );
      expectInvariants(observed);
      const t = observed.result.totals;
      expect(t.preemptions).toBeGreaterThan(0);
      expect(t.recomputed_tokens).toBeGreaterThan(0);
      expect(t.discarded_tokens).toBeGreaterThan(0);
      expect(t.finished).toBe(60);
      const perRequest = observed.outcomes.reduce((sum, o) => sum + o.preemptions, 0);
      expect(perRequest).toBe(t.preemptions);
      const requests = tableFromIPC(readFileSync(join(out, 'requests.arrow')));
      const preemptions = requests.getChild('preemptions')!.toArray() as Int32Array;
      expect(Array.from(preemptions).reduce((a, b) => a + b, 0)).toBe(t.preemptions);
      const iterations = tableFromIPC(readFileSync(join(out, 'iterations.arrow')));
      const preempted = Array.from(iterations.getChild('preempted')!.toArray() as Int32Array);
      expect(preempted.reduce((a, b) => a + b, 0)).toBe(t.preemptions);
      const used = Array.from(iterations.getChild('kv_blocks_used')!.toArray() as Int32Array);
      expect(Math.max(...used)).toBeLessThanOrEqual(400);
      // Simulated time never goes back: iterations of one replica are back to back or later.
      const start = iterations.getChild('start_s')!.toArray() as Float64Array;
      const end = iterations.getChild('end_s')!.toArray() as Float64Array;
      for (let i = 0; i < start.length; i++) {
        expect(end[i]).toBeGreaterThan(start[i]);
        if (i > 0) expect(start[i]).toBeGreaterThanOrEqual(end[i - 1]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects requests longer than max_model_len and finishes the rest', () => {
    const observed = run(
      scenario({
        engine: { max_model_len: 1000 },
        workload: {
          arrival: { process: 'constant', rate_per_s: 10 },
          input_tokens: { dist: 'uniform', min: 100, max: 1500 },
          output_tokens: { dist: 'fixed', value: 50 },
          num_requests: 100,
        },
      }),
    );
    expectInvariants(observed);
    const tooLong = observed.outcomes.filter((o) => o.input_tokens + 50 > 1000);
    expect(tooLong.length).toBeGreaterThan(0);
    expect(tooLong.every((o) => o.status === 'rejected')).toBe(true);
    expect(observed.result.totals.rejected).toBe(tooLong.length);
    expect(observed.result.summary.overall.requests.rejected).toBe(tooLong.length);
  });

  it('closed loop keeps at most `concurrency` requests in flight, and reaches it', () => {
    const observed = run(
      scenario({
        workload: {
          concurrency: 4,
          input_tokens: { dist: 'fixed', value: 100 },
          output_tokens: { dist: 'fixed', value: 20 },
          num_requests: 40,
        },
      }),
    );
    expectInvariants(observed);
    // At each arrival, requests that arrived by then and have not finished: never more than 4,
    // and exactly 4 at every arrival (each new request replaces one that just left).
    for (const o of observed.outcomes) {
      const inFlight = observed.outcomes.filter((p) => p.arrival_s <= o.arrival_s && p.finish_s > o.arrival_s);
      expect(inFlight.length).toBe(4);
    }
  });

  it('spreads load over replicas indexed from 0 with per-replica summaries', () => {
    const observed = run(scenario({ cluster: { replicas: 3, router: 'round-robin' } }));
    expectInvariants(observed);
    const replicas = observed.outcomes.map((o) => o.replica);
    expect(new Set(replicas)).toEqual(new Set([0, 1, 2]));
    // Round robin: request k goes to replica k mod 3.
    for (const o of observed.outcomes) expect(o.replica).toBe(o.request_id % 3);
    const per = observed.result.summary.per_replica;
    expect(per.length).toBe(3);
    expect(per.reduce((sum, r) => sum + r.requests.total, 0)).toBe(200);
  });

  it('least-outstanding and random routers keep the invariants', () => {
    for (const router of ['least-outstanding', 'random']) {
      const observed = run(scenario({ cluster: { replicas: 2, router } }));
      expectInvariants(observed);
      expect(new Set(observed.outcomes.map((o) => o.replica))).toEqual(new Set([0, 1]));
    }
  });
});

describe('regressions', () => {
  it('closed loop with rejections on several replicas keeps completions in time order', () => {
    for (const replicas of [1, 2, 4]) {
      const observed = run(
        scenario({
          cluster: { replicas, router: 'random' },
          engine: { max_model_len: 1024 },
          workload: {
            concurrency: 32,
            input_tokens: { dist: 'uniform', min: 1, max: 1500 },
            output_tokens: { dist: 'uniform', min: 1, max: 100 },
            num_requests: 1500,
          },
        }),
      );
      expectInvariants(observed);
      expect(observed.result.totals.rejected).toBeGreaterThan(0);
      // A rejection leaves through the same frontend path as a token.
      for (const o of observed.outcomes.filter((x) => x.status === 'rejected')) {
        expect(o.finish_s - o.arrival_s).toBeCloseTo((1.0 + 0.2) / 1000, 12);
      }
    }
  });

  it('a closed loop that rejects everything at one instant stops with a clear error', () => {
    // Lengths from a file, which the up-front check (every request longer than max_model_len) cannot see.
    const dir = mkdtempSync(join(tmpdir(), 'infersim-reject-'));
    const path = join(dir, 'lens.csv');
    writeFileSync(path, 'n\n2000\n2000\n');
    try {
      expect(() =>
        run(
          scenario({
            engine: { max_model_len: 1024, frontend_input_ms: 0, frontend_output_ms: 0 },
            workload: {
              concurrency: 4,
              input_tokens: { dist: 'empirical', path, column: 'n' },
              output_tokens: { dist: 'fixed', value: 10 },
              duration_s: 10,
            },
          }),
        ),
      ).toThrow(/no progress/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a workload whose every request exceeds max_model_len is refused before it runs', () => {
    const workload = { concurrency: 4, input_tokens: { dist: 'fixed', value: 2000 }, output_tokens: { dist: 'uniform', min: 10, max: 20 }, duration_s: 10 };
    expect(() => run(scenario({ engine: { max_model_len: 1024 }, workload }))).toThrow(
      'engine.max_model_len: every request needs at least 2010 tokens (prompt ≥ 2000, output ≥ 10), more than max_model_len 1024, so every one would be rejected; shorten the lengths or raise engine.max_model_len, got 1024',
    );
  });
});
