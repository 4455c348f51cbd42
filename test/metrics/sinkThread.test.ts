import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { MetricsSinkOptions } from '../../sim/metrics/sink.js';
import type { ScenarioInput } from '../../sim/scenario/types.js';
import { preemptingLongOutputs, scenario } from '../helpers.js';
import { outcome, tempDirs } from './helpers.js';

/*
 * A run's sink in a thread of its own (sim/metrics/sinkThread.ts). The thread runs the compiled
 * sink (dist/), which `npm test` builds just before (INFERSIM_TEST_DIST=1); from the sources alone
 * every run keeps its sink in its thread, which the other tests cover, and the ring and codec
 * have their own tests (sinkRing.test.ts).
 */
const DIST = process.env.INFERSIM_TEST_DIST === '1';
const dist = (file: string): string => pathToFileURL(resolve('dist/sim', file)).href;
type Lib = typeof import('../../sim/index.js');
type Threads = typeof import('../../sim/metrics/sinkThread.js');
const tmp = tempDirs();

async function loaded(): Promise<{ lib: Lib; threads: Threads }> {
  return { lib: (await import(dist('index.js'))) as Lib, threads: (await import(dist('metrics/sinkThread.js'))) as Threads };
}

/** Runs `f` with INFERSIM_SINK_THREAD set to `mode`. */
function withThread<T>(mode: '0' | '1', f: () => T): T {
  const before = process.env.INFERSIM_SINK_THREAD;
  process.env.INFERSIM_SINK_THREAD = mode;
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.INFERSIM_SINK_THREAD;
    else process.env.INFERSIM_SINK_THREAD = before;
  }
}

/** summary.json without the simulator's own wall time and speed, and the folder it names. */
function summaryOf(dir: string): unknown {
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  return { ...s, simulator: { ...s.simulator, wall_s: 0, events_per_s: 0, uncertainty_wall_s: 0 }, scenario: { ...s.scenario, output: undefined } };
}

/** Runs `input` with its sink in this thread and in its own; expects the same files and summary. */
async function sameBothWays(input: ScenarioInput, hooks: { writeTokens?: boolean; step_window?: number } = {}): Promise<{ files: string[] }> {
  const { lib, threads } = await loaded();
  const [here, there] = [join(tmp(), 'here'), join(tmp(), 'there')];
  withThread('0', () => lib.simulate(structuredClone(input), { ...hooks, outDir: here }));
  const started = threads.SinkThread.started;
  withThread('1', () => lib.simulate(structuredClone(input), { ...hooks, outDir: there }));
  expect(threads.SinkThread.started).toBe(started + 1);
  const files = readdirSync(here).sort();
  expect(readdirSync(there).sort()).toEqual(files);
  for (const f of files.filter((f) => f.endsWith('.arrow'))) expect(readFileSync(join(there, f)).equals(readFileSync(join(here, f))), f).toBe(true);
  expect(summaryOf(there)).toEqual(summaryOf(here));
  return { files };
}

/** A shipped scenario, shortened, without its band re-runs (they never use the sink thread). */
function shipped(lib: Lib, file: string, workload: Record<string, unknown>): ScenarioInput {
  const { input } = lib.loadScenario(file);
  delete input.output;
  input.metrics = { ...(input.metrics ?? {}), uncertainty: false };
  input.workload = { ...input.workload, ...workload };
  return input;
}

describe.skipIf(!DIST)('a sink in a thread of its own (needs the build: run through npm test)', () => {
  const CASES: [string, string, Record<string, number>][] = [
    ['pd-chat-1p1d.yaml', 'hand-offs between prefill and decode replicas', { num_requests: 150 }],
    ['replica-failure.yaml', 'a failure: events, resent and failed requests', { duration_s: 120 }],
    ['canary-rollback.yaml', 'pools, a canary rolled back, cluster rows', {}],
    ['autoscale-step-load.yaml', 'replicas added and retired', { duration_s: 400 }],
    ['priority-overload-h100.yaml', 'priorities, a queue limit, time-outs', { num_requests: 400 }],
  ];
  it.each(CASES)('%s (%s): the same files and summary as in the run\'s thread', async (file, _what, workload) => {
    const { lib } = await loaded();
    const { files } = await sameBothWays(shipped(lib, `scenarios/${file}`, workload));
    expect(files).toEqual(expect.arrayContaining(['requests.arrow', 'iterations.arrow', 'cluster.arrow', 'events.arrow', 'summary.json']));
  });

  it('samples, swaps and tokens.arrow: the same files', async () => {
    const { lib } = await loaded();
    const { files } = await sameBothWays(shipped(lib, 'scenarios/vllm-v0-samples-swap-l4.yaml', {}), { writeTokens: true });
    expect(files).toContain('tokens.arrow');
  });

  it('a small step window that slides under pinned sequences: the thread\'s copy slides as the run\'s did', async () => {
    // As test/cluster/stepWindow.test.ts: preemptions, outputs up to 900 tokens, a window of 256 steps.
    const input = preemptingLongOutputs(300);
    // Here the ITL mean is compared to the last digit too: both sides drop the same steps at the same points.
    await sameBothWays(input, { writeTokens: true, step_window: 256 });
  });

  const options = (dir: string, replicas = 1): MetricsSinkOptions => ({ dir, writeTokens: false, replicas, warmup_s: 0, slo: {} });

  it('an error in the thread is thrown in the run\'s thread, and no output or temporary folder is left', async () => {
    const { threads } = await loaded();
    const dir = join(tmp(), 'out');
    const sink = new threads.SinkThread(options(dir));
    sink.recordStepStamp(0, 0, 1.5);
    sink.recordRequest(outcome({ request_id: 7, replica: 3, token_times_s: [1.5] }));
    expect(() => sink.finish({ gpus: 1, usd_per_gpu_hour: 1 })).toThrow('request 7: replica 3 outside 0..0');
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(join(dir, '..')).filter((f) => f.startsWith('out'))).toEqual([]);
    expect(() => sink.recordRequest(outcome())).toThrow('MetricsSink is aborted');
  });

  it('abort removes what the thread wrote; a finished sink publishes the folder', async () => {
    const { threads } = await loaded();
    const dir = join(tmp(), 'out');
    const aborted = new threads.SinkThread(options(dir));
    aborted.recordStepStamp(0, 0, 1.5);
    aborted.recordRequest(outcome({ token_times_s: [1.5] }));
    aborted.abort();
    expect(readdirSync(join(dir, '..'))).toEqual([]);
    const sink = new threads.SinkThread(options(dir, 2));
    expect(sink.addReplica(3, 1)).toBe(2);
    sink.recordStepStamp(2, 0, 4.5);
    sink.recordRequest(outcome({ replica: 2, arrival_s: 4, first_scheduled_s: 4, token_times_s: [4.5] }));
    const summary = sink.finish({ gpus: 2, usd_per_gpu_hour: 1 });
    expect(summary.overall.requests.total).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['cluster.arrow', 'events.arrow', 'iterations.arrow', 'requests.arrow', 'summary.json']);
  });

  it('a folder the run may not replace is refused before the thread starts, as in the run\'s thread', async () => {
    const { threads } = await loaded();
    const file = join(tmp(), 'taken');
    writeFileSync(file, 'not a folder');
    const started = threads.SinkThread.started;
    expect(() => new threads.SinkThread(options(file))).toThrow(/exists and is not a folder/);
    expect(threads.SinkThread.started).toBe(started);
    rmSync(file);
  });

  it('a library called from `node -e` gets its sink thread working (a worker must not run the caller\'s code again)', () => {
    const out = join(tmp(), 'eval');
    const code = `const lib = await import(${JSON.stringify(dist('index.js'))}); const r = lib.simulate(${JSON.stringify(scenario({ metrics: { uncertainty: false }, workload: { arrival: { process: 'poisson', rate_per_s: 10 }, input_tokens: { dist: 'fixed', value: 100 }, output_tokens: { dist: 'fixed', value: 20 }, num_requests: 30 } }))}, { outDir: ${JSON.stringify(out)} }); console.log(r.summary.overall.requests.total);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, INFERSIM_SINK_THREAD: '1' }, timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('30');
    expect(existsSync(join(out, 'requests.arrow'))).toBe(true);
  });

  it('runs of fewer requests than SINK_THREAD_FROM_REQUESTS keep their sink, unless forced', async () => {
    const { threads } = await loaded();
    const saved = process.env.INFERSIM_SINK_THREAD;
    delete process.env.INFERSIM_SINK_THREAD;
    try {
      expect(threads.sinkThreadWanted(threads.SINK_THREAD_FROM_REQUESTS - 1)).toBe(false);
    } finally {
      if (saved !== undefined) process.env.INFERSIM_SINK_THREAD = saved;
    }
    expect(withThread('1', () => threads.sinkThreadWanted(10))).toBe(true);
    expect(withThread('0', () => threads.sinkThreadWanted(Infinity))).toBe(false);
  });
});
