import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunTotals } from '../../sim/cluster/simulate.js';
import { InfersimError } from '../../sim/errors.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { BlockManager } from '../../sim/kv/blockManager.js';
import { SCHEDULERS } from '../../sim/scheduler/registry.js';
import type { ResolvedScenario } from '../../sim/setup/resolve.js';
import { expectInvariants, run, scenario, type Observed } from '../helpers.js';
import { releaseAllCases } from './releaseAllChecks.js';
import { capsOf, traitsAgreeWithSetup, type Caps } from './traitChecks.js';

/**
 * The scheduler conformance suite, for any registered policy (built in, or registered by a test:
 * see toy.test.ts). What a policy allows (KV paging, priority, swap, request-level batch sizes,
 * chunking, block sizes) is read from its factory's traits, not probed; `traitsAgreeWithSetup`
 * checks once per policy that the setup layer enforces exactly those traits.
 *
 * - `schedulerConformance(name)`: small hostile workloads keep the engine's invariants, every step
 *   stays within the configured limits, runs are reproducible byte for byte, requests are causal,
 *   and edge configurations are served or refused up front.
 * - `releaseAllCases(name)` (releaseAllChecks.ts): a replica failure releases every sequence and its KV, from any state.
 * - `randomConfigurations(names, …)` (randomConfigs.ts): random valid configurations keep the invariants.
 */

// One folder for the runs' outputs per test file that imports the suite (vitest loads it once per file).
const dir = mkdtempSync(join(tmpdir(), 'infersim-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LENGTHS = {
  input_tokens: { dist: 'uniform', min: 16, max: 2000 },
  output_tokens: { dist: 'uniform', min: 1, max: 256 },
};

interface Workload {
  label: string;
  input: ScenarioInput;
  /** What the run must show to have tested what the label says (preemptions, swaps, rejections…). */
  exercises(t: RunTotals): void;
}

/**
 * The workloads every scheduler runs. Pools are small (1100 blocks of 16 = 4 whole-length
 * reservations of max_model_len 4096, a few dozen average paged requests), so preemption, swap,
 * queueing and reservation stalls all happen.
 */
function workloads(name: string, caps: Caps): Workload[] {
  const engine = { scheduler: name, max_model_len: 4096, num_gpu_blocks_override: 1100, max_num_seqs: 32 };
  const priority = { classes: [{ priority: 0, weight: 1 }, { priority: 1, weight: 2 }, { priority: 5, weight: 1 }] };
  const forks = SCHEDULERS[name].samples === 'fork';
  return [
    {
      label: 'burst on a tight pool, two replicas',
      input: scenario({
        cluster: { replicas: 2, router: 'round-robin' },
        engine,
        workload: { arrival: { process: 'burst' }, ...LENGTHS, num_requests: 120 },
      }),
      exercises: (t) => {
        expect(t.finished).toBe(120);
        if (caps.paged) expect(t.preemptions).toBeGreaterThan(0);
      },
    },
    {
      label: `samples (n 2, best_of 3) with max_tokens${forks ? ', forked copy-on-write' : ''}${caps.swap ? ', groups swapped' : ''}`,
      input: scenario({
        engine: { ...engine, num_gpu_blocks_override: 300 },
        workload: {
          arrival: { process: 'poisson', rate_per_s: 40 },
          input_tokens: { dist: 'uniform', min: 16, max: 1000 },
          output_tokens: { dist: 'uniform', min: 1, max: 200 },
          num_requests: 60, n: 2, best_of: 3, max_tokens: 128,
        },
      }),
      exercises: (t) => {
        expect(t.finished).toBe(60);
        expect(t.sequences_finished).toBe(180);
        if (forks) expect(t.prompt_shared_tokens).toBeGreaterThan(0);
        // V0's `auto` preemption swaps the sequences of a multi-sample request.
        if (caps.swap) expect(t.swap_out_blocks).toBeGreaterThan(0);
      },
    },
    {
      // Many requests in their prompt pass at once: where max_num_seqs must count samples not yet forked.
      label: 'samples (n 3) on a roomy pool, max_num_seqs binding',
      input: scenario({
        engine: { ...engine, num_gpu_blocks_override: 2000 },
        workload: {
          arrival: { process: 'burst' },
          input_tokens: { dist: 'uniform', min: 16, max: 400 },
          output_tokens: { dist: 'uniform', min: 2, max: 64 },
          num_requests: 40, n: 3,
        },
      }),
      exercises: (t) => {
        expect(t.finished).toBe(40);
        expect(t.sequences_finished).toBe(120);
      },
    },
    {
      label: `${caps.priority ? 'priority classes, ' : ''}time-outs and a bounded queue`,
      input: scenario({
        engine: { ...engine, max_queue_len: 80 },
        workload: {
          arrival: { process: 'burst' }, ...LENGTHS, num_requests: 150, timeout_s: 1.5,
          ...(caps.priority ? { priority } : {}),
        },
      }),
      exercises: (t) => {
        expect(t.rejected).toBe(70); // a burst of 150 into a queue of 80
        expect(t.timed_out).toBeGreaterThan(0);
        expect(t.finished).toBeGreaterThan(0);
      },
    },
    {
      label: `multi-turn sessions with shared prefixes${caps.paged ? ' (prefix caching on)' : ''}`,
      input: scenario({
        engine: { ...engine, ...(caps.paged ? { enable_prefix_caching: true } : {}) },
        workload: {
          arrival: { process: 'poisson', rate_per_s: 15 },
          input_tokens: { dist: 'uniform', min: 16, max: 600 },
          output_tokens: { dist: 'uniform', min: 1, max: 200 },
          num_requests: 80,
          sessions: { turns: { dist: 'uniform', min: 1, max: 4 }, think_time_s: 0.05 },
          prefix: { groups: 3, tokens: 512, fraction: 0.7 },
        },
      }),
      exercises: (t) => {
        expect(t.finished).toBe(80);
        if (caps.paged) expect(t.prompt_shared_tokens).toBeGreaterThan(0);
      },
    },
    {
      label: `closed loop, block size 32${caps.swap ? ', swap preemption with a small CPU pool' : ''}`,
      input: scenario({
        engine: { ...engine, block_size: 32, num_gpu_blocks_override: 400, ...(caps.swap ? { preemption: 'swap', swap_space_gb: 0.1 } : {}) },
        workload: {
          concurrency: 12,
          input_tokens: { dist: 'uniform', min: 16, max: 3000 },
          output_tokens: { dist: 'uniform', min: 1, max: 600 },
          num_requests: 100,
        },
      }),
      exercises: (t) => {
        expect(t.finished).toBe(100);
        if (caps.paged) expect(t.preemptions).toBeGreaterThan(0);
        if (caps.swap) expect(t.swap_out_blocks).toBeGreaterThan(0);
      },
    },
  ];
}

function column(table: Table, name: string): ArrayLike<number> {
  const c = table.getChild(name);
  if (c === null) throw new Error(`no column ${name}`);
  return c.toArray() as ArrayLike<number>;
}

/** Step-limit violations, by kind: `seats` (running > max_num_seqs or max_batch_size) and everything else. */
interface StepViolations {
  seats: string[];
  other: string[];
}

/** Every step within the engine's limits, and one step at a time per replica. */
function stepViolations(iterations: Table, s: ResolvedScenario, caps: Caps): StepViolations {
  const e = s.engine;
  const seats = caps.request_level ? e.max_batch_size : e.max_num_seqs;
  const c = Object.fromEntries(
    ['replica', 'start_s', 'end_s', 'prefill_tokens', 'decode_tokens', 'running', 'kv_blocks_used', 'kv_blocks_total', 'kv_blocks_cached'].map(
      (n) => [n, column(iterations, n)],
    ),
  );
  const lastEnd = new Map<number, number>();
  const v: StepViolations = { seats: [], other: [] };
  const fail = (list: string[], i: number, what: string) => list.length < 10 && list.push(`step ${i} (replica ${c.replica[i]}): ${what}`);
  for (let i = 0; i < iterations.numRows; i++) {
    const tokens = c.prefill_tokens[i] + c.decode_tokens[i];
    // Request-level batches prefill their whole prompts with no budget. Orca may run a lone prompt
    // over the budget, but the resolver keeps every whole-prompt budget ≥ max_model_len, so no
    // resolved scenario reaches that case: the budget binds every other scheduler strictly.
    if (!caps.request_level && tokens > e.max_num_batched_tokens) fail(v.other, i, `${tokens} tokens > budget ${e.max_num_batched_tokens}`);
    if (tokens <= 0) fail(v.other, i, 'an empty step');
    if (c.running[i] > seats) fail(v.seats, i, `${c.running[i]} running > ${seats}`);
    if (c.kv_blocks_used[i] > c.kv_blocks_total[i]) fail(v.other, i, `${c.kv_blocks_used[i]} blocks used of ${c.kv_blocks_total[i]}`);
    if (c.kv_blocks_used[i] + c.kv_blocks_cached[i] > c.kv_blocks_total[i]) {
      fail(v.other, i, `${c.kv_blocks_used[i]} used + ${c.kv_blocks_cached[i]} cached blocks > ${c.kv_blocks_total[i]}`);
    }
    if (!(c.start_s[i] < c.end_s[i])) fail(v.other, i, `starts at ${c.start_s[i]}, ends at ${c.end_s[i]}`);
    const prev = lastEnd.get(c.replica[i]);
    if (prev !== undefined && !(c.start_s[i] >= prev)) fail(v.other, i, `starts at ${c.start_s[i]} before the previous step ends at ${prev}`);
    lastEnd.set(c.replica[i], c.end_s[i]);
  }
  return v;
}

/** Per request: scheduled after arriving, first token after scheduling, tokens in order; early leavers never served. */
function requestViolations({ outcomes }: Observed, requests: Table, s: ResolvedScenario): string[] {
  const violations: string[] = [];
  const fail = (id: number, what: string) => violations.length < 10 && violations.push(`request ${id}: ${what}`);
  const timeout_s = s.workload.timeout_s;
  for (const o of outcomes) {
    const times = o.token_times_s as number[];
    if (o.status !== 'finished') {
      if (times.length !== 0 || !Number.isNaN(o.first_scheduled_s)) fail(o.request_id, `${o.status} but served`);
      if (o.status === 'timed_out' && !(timeout_s !== undefined && o.finish_s >= o.arrival_s + timeout_s)) {
        fail(o.request_id, `timed out at ${o.finish_s}, arrived ${o.arrival_s}, timeout ${timeout_s}`);
      }
      continue;
    }
    if (!(o.first_scheduled_s >= o.arrival_s)) fail(o.request_id, `scheduled at ${o.first_scheduled_s} before arriving at ${o.arrival_s}`);
    if (!(times[0] > o.first_scheduled_s)) fail(o.request_id, `first token at ${times[0]}, not after scheduling at ${o.first_scheduled_s}`);
    for (let k = 1; k < times.length; k++) if (!(times[k] > times[k - 1])) fail(o.request_id, `token ${k} not after token ${k - 1}`);
    if (timeout_s !== undefined && !(o.first_scheduled_s <= o.arrival_s + timeout_s)) {
      fail(o.request_id, `scheduled at ${o.first_scheduled_s}, after its time-out at ${o.arrival_s + timeout_s}`);
    }
  }
  // The Arrow table says the same (the sink wrote what the engine reported); unserved requests have nulls.
  expect(requests.numRows).toBe(outcomes.length);
  const get = (name: string) => {
    const c = requests.getChild(name);
    if (c === null) throw new Error(`no column ${name}`);
    return (i: number) => c.get(i) as number | string | null;
  };
  const [id, status, arrival, scheduled, first, finish] = ['request_id', 'status', 'arrival_s', 'first_scheduled_s', 'first_token_s', 'finish_s'].map(get);
  for (let i = 0; i < requests.numRows; i++) {
    const [a, s0, f0, end] = [arrival(i), scheduled(i), first(i), finish(i)] as (number | null)[];
    if (status(i) !== 'finished') {
      if (s0 !== null || f0 !== null) fail(id(i) as number, `requests.arrow: ${status(i)} with a schedule time ${s0} or a first token ${f0}`);
      continue;
    }
    if (!(a !== null && s0 !== null && f0 !== null && end !== null && s0 >= a && f0 > s0 && end >= f0)) {
      fail(id(i) as number, `requests.arrow: arrival ${a}, scheduled ${s0}, first token ${f0}, finish ${end}`);
    }
  }
  return violations;
}

let runs = 0;

interface Checked {
  observed: Observed;
  scenario: ResolvedScenario;
  files: { requests: Buffer[]; iterations: Buffer[] };
}

/** Runs a scenario twice (into two folders), once however many tests read the result. */
function twice(name: string, input: ScenarioInput): () => Checked {
  let done: Checked | undefined;
  return () => {
    if (done !== undefined) return done;
    const outs = [0, 1].map(() => join(dir, `${name}-${runs++}`));
    const observed = outs.map((out) => run(input, out))[0];
    const read = (f: string) => outs.map((out) => readFileSync(join(out, f)));
    done = { observed, scenario: observed.result.setup.scenario, files: { requests: read('requests.arrow'), iterations: read('iterations.arrow') } };
    return done;
  };
}

/** Whether the policy's scheduler, with decode runs allowed, offers steps of the runs alone (`runsStepNext`). */
function offersRunsSteps(name: string): boolean {
  const limits = { max_num_seqs: 16, max_num_batched_tokens: 512, enable_chunked_prefill: true, preemption: 'recompute' as const, scheduling_policy: 'fcfs' as const, max_model_len: 4096, orca_reservation: 'max' as const, max_batch_size: 16, batch_timeout_s: 0, decode_runs: true };
  return typeof SCHEDULERS[name].create(new BlockManager(64, 16), limits).runsStepNext === 'function';
}

/** Runs `input` to the end; a scenario the engine cannot serve must be refused as an input error, never crash the engine. */
function servedOrRefused(input: ScenarioInput): 'served' | 'refused' {
  try {
    expectInvariants(run(input));
    return 'served';
  } catch (err) {
    if (err instanceof InfersimError) return 'refused';
    throw err;
  }
}

/** The policy on the shared workloads (see `workloads`), each run twice. */
function workloadCases(name: string): void {
  const caps = capsOf(name);
  describe.each(workloads(name, caps).map((w) => [w.label, w] as const))('%s', (_label, { input, exercises }) => {
    const result = twice(name, input);

    it('keeps the invariants: conservation, each request leaves once, no leaked blocks', () => {
      const { observed, scenario: s } = result();
      expectInvariants(observed);
      expect(s.engine.scheduler).toBe(name);
    });

    it('exercises what its label says', () => {
      exercises(result().observed.result.totals);
    });

    it('is deterministic: a second run writes byte-identical requests.arrow and iterations.arrow', () => {
      const { files } = result();
      expect(files.requests[0].equals(files.requests[1])).toBe(true);
      expect(files.iterations[0].equals(files.iterations[1])).toBe(true);
    });

    it('keeps every step within its limits', () => {
      const { observed, scenario: s, files } = result();
      const iterations = tableFromIPC(files.iterations[0]);
      const t = observed.result.totals;
      expect(iterations.numRows).toBe(t.steps);
      let prefill = 0;
      let decode = 0;
      const p = column(iterations, 'prefill_tokens');
      const d = column(iterations, 'decode_tokens');
      for (let i = 0; i < iterations.numRows; i++) {
        prefill += p[i];
        decode += d[i];
      }
      expect([prefill, decode]).toEqual([t.prefill_tokens, t.decode_tokens]);
      // Every preemption and swap appears in some row (a step that only preempted is recorded with the next).
      const sum = (name: string) => Array.from(column(iterations, name)).reduce((a, b) => a + b, 0);
      expect([sum('preempted'), sum('swap_out_blocks'), sum('swap_in_blocks')]).toEqual([t.preemptions, t.swap_out_blocks, t.swap_in_blocks]);
      const v = stepViolations(iterations, s, caps);
      expect(v.other).toEqual([]);
      // Regression: V0 once counted only the admitted request's own samples, not those its
      // running leaders would still fork, so forks overshot max_num_seqs.
      expect(v.seats).toEqual([]);
    });

    // A policy that forms steps of decode runs alone without its pass (ReplicaScheduler.runsStepNext) must form the steps its pass would.
    if (offersRunsSteps(name)) it('writes the same files with every step formed by its full pass (INFERSIM_DECODE_RUN_STEPS=0)', () => {
      const out = join(dir, `${name}-${runs++}`);
      process.env.INFERSIM_DECODE_RUN_STEPS = '0';
      try {
        run(input, out);
      } finally {
        delete process.env.INFERSIM_DECODE_RUN_STEPS;
      }
      const { files } = result();
      expect(readFileSync(join(out, 'requests.arrow')).equals(files.requests[0])).toBe(true);
      expect(readFileSync(join(out, 'iterations.arrow')).equals(files.iterations[0])).toBe(true);
    });

    it('serves requests causally: scheduled after arrival, tokens after scheduling and in order', () => {
      const { observed, scenario: s, files } = result();
      expect(requestViolations(observed, tableFromIPC(files.requests[0]), s)).toEqual([]);
    });
  });
}

/** Edge configurations every scheduler must either serve or refuse up front (both once stalled the V0 family). */
function edgeCases(name: string): void {
  const forks = SCHEDULERS[name].samples === 'fork';
  const burst = (input_tokens: number, output_tokens: number, extra: Record<string, unknown> = {}) => ({
    arrival: { process: 'burst' }, input_tokens: { dist: 'fixed', value: input_tokens }, output_tokens: { dist: 'fixed', value: output_tokens },
    num_requests: 3, ...extra,
  });

  // V0 runs all samples at once: more samples than max_num_seqs is an input error there.
  it('serves (or refuses as an input error) a request whose samples outnumber max_num_seqs', () => {
    const input = scenario({ engine: { scheduler: name, max_num_seqs: 2, max_model_len: 4096, num_gpu_blocks_override: 2000 }, workload: burst(100, 10, { n: 3 }) });
    expect(servedOrRefused(input)).toBe(forks ? 'refused' : 'served');
  });

  // V0 keeps a 1 % watermark free at admission (vLLM V0 refuses such prompts as never admissible):
  // resolve refuses a max_model_len that only fits without it.
  it('serves (or refuses) a prompt of max_model_len on a pool that just fits it', () => {
    const input = scenario({ engine: { scheduler: name, max_model_len: 3184, num_gpu_blocks_override: 200 }, workload: burst(3180, 4) });
    expect(servedOrRefused(input)).toBe(forks ? 'refused' : 'served');
  });
}

/**
 * The suite for one registered policy: its traits agree with what the setup layer enforces; the
 * shared workloads (invariants, what each exercises, determinism, step limits, causality);
 * `releaseAll` after a replica failure; the edges of its limits.
 */
export function schedulerConformance(name: string): void {
  describe(`scheduler ${name} conforms`, () => {
    it('declares traits that the setup layer enforces', () => {
      traitsAgreeWithSetup(name);
    });
    workloadCases(name);
  });
  describe(`scheduler ${name} releases everything when its replica fails`, () => releaseAllCases(name));
  describe(`scheduler ${name} at the edges of its limits`, () => edgeCases(name));
}

export { randomConfigurations } from './randomConfigs.js';
