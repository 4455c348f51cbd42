import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEDULERS, schedulerNames } from '../../sim/scheduler/registry.js';
import { expectInvariants, run, scenario } from '../helpers.js';
import { randomConfigurations, schedulerConformance } from './conformanceSuite.js';

/**
 * The conformance suite (conformanceSuite.ts) on every registered scheduler: a new entry in
 * sim/scheduler/registry.ts is covered without touching this file. Below it, regressions of
 * particular policies.
 */

const dir = mkdtempSync(join(tmpdir(), 'infersim-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the scheduler registry', () => {
  it('holds each factory under its own name', () => {
    for (const name of schedulerNames()) expect(SCHEDULERS[name].name).toBe(name);
  });
});

for (const name of schedulerNames()) schedulerConformance(name);

describe('every scheduler on random valid configurations', () => {
  randomConfigurations(schedulerNames(), { numRuns: 300, seed: 20261122 });
});

describe('regressions found by review', () => {
  it('sarathi with priorities and samples split by recompute never schedules a sample twice', () => {
    const input = scenario({
      seed: 0,
      engine: {
        scheduler: 'sarathi', block_size: 16, max_model_len: 182, num_gpu_blocks_override: 14, max_num_seqs: 9,
        max_num_batched_tokens: 13, enable_prefix_caching: true, preemption: 'swap', swap_space_gb: 1, scheduling_policy: 'priority',
      },
      workload: {
        concurrency: 3, input_tokens: { dist: 'uniform', min: 1, max: 23 }, output_tokens: { dist: 'uniform', min: 1, max: 80 },
        num_requests: 10, n: 4, best_of: 5, priority: { classes: [{ priority: 0, weight: 1 }, { priority: 3, weight: 1 }] },
      },
    });
    expectInvariants(run(input));
  });

  it('vllm-v0: a high-priority prompt is not held back by a low-priority request swapping out and in', () => {
    // Seed 6 draws priority 5 for the first request and 0 for the second (asserted below).
    const input = scenario({
      seed: 6,
      engine: { scheduler: 'vllm-v0', scheduling_policy: 'priority', preemption: 'swap', num_gpu_blocks_override: 102, max_model_len: 1250 },
      workload: {
        arrival: { process: 'constant', rate_per_s: 5 },
        input_tokens: { dist: 'fixed', value: 800 },
        output_tokens: { dist: 'fixed', value: 400 },
        num_requests: 2,
        priority: { classes: [{ priority: 5, weight: 1 }, { priority: 0, weight: 1 }] },
      },
    });
    const observed = run(input);
    expectInvariants(observed);
    const [first, second] = observed.outcomes.sort((a, b) => a.arrival_s - b.arrival_s);
    expect([first.priority, second.priority]).toEqual([5, 0]);
    // The low-priority request is recomputed once and the high-priority prompt runs at once
    // (swapping the victim out made it ping-pong for ~380 steps and wait ~4 s).
    const ttft = (second.token_times_s as number[])[0] - second.arrival_s;
    expect(ttft).toBeLessThan(0.1);
    expect(observed.result.totals.preemptions).toBe(1);
    expect(observed.result.totals.swap_out_blocks).toBe(0);
  });
});

describe('requests.arrow for one-token requests', () => {
  // Regression: every nullable f64 column once shared one validity bitmap, so a one-token
  // request (null ITL) read back null schedule and first-token times.
  it('keeps first_scheduled_s and first_token_s of finished requests whose itl is null', () => {
    const out = join(dir, 'one-token');
    const { outcomes } = run(
      scenario({
        engine: { max_model_len: 100, num_gpu_blocks_override: 100 },
        workload: { arrival: { process: 'poisson', rate_per_s: 20 }, input_tokens: { dist: 'uniform', min: 10, max: 150 }, output_tokens: { dist: 'fixed', value: 1 }, num_requests: 10 },
      }),
      out,
    );
    const finished = outcomes.filter((o) => o.status === 'finished');
    expect(finished.length).toBeGreaterThan(0);
    expect(finished.length).toBeLessThan(outcomes.length); // some prompts are too long: rejected rows with nulls
    const requests = tableFromIPC(readFileSync(join(out, 'requests.arrow')));
    const status = requests.getChild('status');
    const scheduled = requests.getChild('first_scheduled_s');
    const first = requests.getChild('first_token_s');
    for (let i = 0; i < requests.numRows; i++) {
      if (status?.get(i) !== 'finished') continue;
      expect([scheduled?.get(i), first?.get(i)]).not.toContain(null);
    }
  });
});
