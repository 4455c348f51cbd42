import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { infersim, ROOT } from '../cli/cli.js';
import type { Summary } from '../../sim/metrics/summary.js';
import type { RunSetup } from '../../sim/setup/resolve.js';

/*
 * The uncertainty band's re-runs in worker threads (sim/cluster/bandThreads.ts). A worker runs the
 * compiled simulator (dist/), which `npm test` builds just before (INFERSIM_TEST_DIST=1); from the
 * sources alone the band runs stay in the calling thread, which the other tests cover.
 */
const DIST = process.env.INFERSIM_TEST_DIST === '1';
const dist = (file: string): string => pathToFileURL(resolve('dist/sim', file)).href;
type Lib = typeof import('../../sim/index.js');
type Threads = typeof import('../../sim/cluster/bandThreads.js');

const dir = mkdtempSync(join(tmpdir(), 'infersim-band-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A summary without its wall-clock figures, which differ from run to run. */
const results = (s: Summary): string => JSON.stringify({ ...s, simulator: undefined });

async function loaded(): Promise<{ lib: Lib; threads: Threads }> {
  return { lib: (await import(dist('index.js'))) as Lib, threads: (await import(dist('cluster/bandThreads.js'))) as Threads };
}

/** The quickstart scenario, made short; its shipped profile states an error band, so the band runs apply. */
function quickSetup(lib: Lib, requests = 120): RunSetup {
  const { input } = lib.loadScenario('scenarios/quickstart.yaml');
  input.workload.num_requests = requests;
  delete input.output;
  return lib.resolveScenario(input);
}

const SLEEP = new Int32Array(new SharedArrayBuffer(4));
/** Blocks (as runSimulation's caller would) until a worker has claimed `edge`, or 30 s have passed: a wait before that claims the edge here. */
function untilClaimed(bands: { holder(edge: 'low' | 'high'): string }, edge: 'low' | 'high'): void {
  const since = Date.now();
  while (bands.holder(edge) === 'nobody' && Date.now() - since < 30_000) Atomics.wait(SLEEP, 0, 0, 5);
}

const bandSetup = (setup: RunSetup): RunSetup => ({ ...setup, scenario: { ...setup.scenario, metrics: { ...setup.scenario.metrics, uncertainty: false } } });

describe.skipIf(!DIST)('band re-runs in worker threads (needs the build: run through npm test)', () => {
  it('give the same summary, bounds included, as the band runs made in this thread', async () => {
    const { lib, threads } = await loaded();
    const here = lib.runSimulation(quickSetup(lib), { band_threads: false }).summary;
    // Each edge's summary must come from its thread, not from the in-thread fallback.
    const wait = threads.BandThreads.prototype.wait;
    const claim = threads.BandThreads.prototype.claim;
    const answered: boolean[] = [];
    // This thread claims no edge before the workers have claimed theirs.
    threads.BandThreads.prototype.claim = function (this: Threads['BandThreads']['prototype'], edge: 'low' | 'high') {
      untilClaimed(this, edge);
      return claim.call(this, edge);
    };
    threads.BandThreads.prototype.wait = function (this: Threads['BandThreads']['prototype'], ...args: Parameters<typeof wait>) {
      const summary = wait.apply(this, args);
      answered.push(summary !== undefined);
      return summary;
    };
    let threaded: Summary;
    try {
      threaded = lib.runSimulation(quickSetup(lib), { band_threads: { after_ms: 0, min_cores: 1, workers: 2 } }).summary;
    } finally {
      threads.BandThreads.prototype.wait = wait;
      threads.BandThreads.prototype.claim = claim;
    }
    expect(answered).toEqual([true, true]);
    expect(here.uncertainty).not.toBeNull();
    expect(results(threaded)).toBe(results(here));
  });

  it('one worker and this thread share the edges (each claimed once), with the same summary', async () => {
    const { lib, threads } = await loaded();
    const here = lib.runSimulation(quickSetup(lib), { band_threads: false }).summary;
    const claim = threads.BandThreads.prototype.claim;
    const wait = threads.BandThreads.prototype.wait;
    const taken: string[] = [];
    threads.BandThreads.prototype.claim = function (this: Threads['BandThreads']['prototype'], edge: 'low' | 'high') {
      untilClaimed(this, 'low');
      const mine = claim.call(this, edge);
      if (mine) taken.push(`here:${edge}`);
      return mine;
    };
    threads.BandThreads.prototype.wait = function (this: Threads['BandThreads']['prototype'], ...args: Parameters<typeof wait>) {
      const summary = wait.apply(this, args);
      if (summary !== undefined) taken.push(`worker:${args[0]}`);
      return summary;
    };
    let shared: Summary;
    try {
      shared = lib.runSimulation(quickSetup(lib, 600), { band_threads: { after_ms: 0, min_cores: 1, workers: 1 } }).summary;
    } finally {
      threads.BandThreads.prototype.claim = claim;
      threads.BandThreads.prototype.wait = wait;
    }
    // The worker starts from the low edge and this thread from the high one (once the worker holds the low one).
    expect(taken).toEqual(['here:high', 'worker:low']);
    expect(results(shared)).toBe(results(lib.runSimulation(quickSetup(lib, 600), { band_threads: false }).summary));
    expect(here.uncertainty).not.toBeNull();
  });

  it('an edge this thread claims first is never run by a worker, and waiting for an unclaimed edge claims it', async () => {
    const { lib, threads } = await loaded();
    const setup = bandSetup(quickSetup(lib));
    const bands = threads.BandThreads.for(setup, undefined, { after_ms: 0, min_cores: 1, workers: 2 });
    expect(bands!.claim('low')).toBe(true);
    expect(bands!.claim('low')).toBe(true);
    bands!.poll();
    untilClaimed(bands!, 'high');
    expect(bands!.holder('low')).toBe('here');
    const high = bands!.wait('high');
    expect(bands!.wait('low')).toBeUndefined();
    expect(results(high as Summary)).toBe(results(lib.runSimulation(setup, { band_edge: 'high', band_threads: false, iterations: false }).summary));
    bands!.stop();
    const idle = threads.BandThreads.for(setup, undefined, { after_ms: 60_000, min_cores: 1 });
    idle!.poll();
    expect(idle!.wait('high')).toBeUndefined();
    expect(idle!.claim('high')).toBe(true);
  });

  it('a worker returns its edge run\'s own summary (the thread ran, and ran that edge)', async () => {
    const { lib, threads } = await loaded();
    const setup = bandSetup(quickSetup(lib));
    const bands = threads.BandThreads.for(setup, undefined, { after_ms: 0, min_cores: 1, workers: 2 });
    bands!.poll();
    untilClaimed(bands!, 'high');
    untilClaimed(bands!, 'low');
    const high = bands!.wait('high');
    const low = bands!.wait('low');
    expect(high).toBeDefined();
    expect(low).toBeDefined();
    expect(results(high as Summary)).toBe(results(lib.runSimulation(setup, { band_edge: 'high', band_threads: false, iterations: false }).summary));
    expect(results(low as Summary)).toBe(results(lib.runSimulation(setup, { band_edge: 'low', band_threads: false, iterations: false }).summary));
    // The slow edge's steps are longer: its requests take longer end to end.
    expect((high as Summary).overall.e2e_s.mean as number).toBeGreaterThan((low as Summary).overall.e2e_s.mean as number);
  });

  it('a run that fails in its worker is reported as failed, for the caller to re-run here and raise its error', async () => {
    const { lib, threads } = await loaded();
    const setup = bandSetup(quickSetup(lib));
    const broken: RunSetup = { ...setup, scenario: { ...setup.scenario, workload: { trace: '/nonexistent/trace.csv', format: 'azure' } as never } };
    const bands = threads.BandThreads.for(broken, undefined, { after_ms: 0, min_cores: 1, workers: 2 });
    bands!.poll();
    untilClaimed(bands!, 'low');
    expect(bands!.holder('low')).toBe('worker');
    expect(bands!.wait('low')).toBeUndefined();
    bands!.stop();
  });

  it('a thread that cannot start (its job cannot be copied to it) leaves its edge to the caller, without an error', async () => {
    const { lib, threads } = await loaded();
    const unclonable = { ...bandSetup(quickSetup(lib)), extra: () => 1 } as unknown as RunSetup;
    const bands = threads.BandThreads.for(unclonable, undefined, { after_ms: 0, min_cores: 1 });
    expect(() => bands!.poll()).not.toThrow();
    expect(bands!.wait('low')).toBeUndefined();
    expect(bands!.wait('high')).toBeUndefined();
  });

  it('INFERSIM_BAND_THREADS=0 starts none, =1 starts them whatever the cores, anything else is refused by name', async () => {
    const { lib, threads } = await loaded();
    const setup = bandSetup(quickSetup(lib));
    const before = process.env.INFERSIM_BAND_THREADS;
    try {
      process.env.INFERSIM_BAND_THREADS = '0';
      expect(threads.BandThreads.for(setup, undefined, { after_ms: 0, min_cores: 1 })).toBeUndefined();
      process.env.INFERSIM_BAND_THREADS = '1';
      expect(threads.BandThreads.for(setup, undefined, { min_cores: 100_000 })).toBeDefined();
      process.env.INFERSIM_BAND_THREADS = 'yes';
      expect(() => threads.BandThreads.for(setup, undefined)).toThrow('INFERSIM_BAND_THREADS is "yes": use 1');
    } finally {
      if (before === undefined) delete process.env.INFERSIM_BAND_THREADS;
      else process.env.INFERSIM_BAND_THREADS = before;
    }
  });

  it('infersim run: threads inside the run\'s own worker give the summary.json of a run without them; a bad setting is one line and leaves no output', () => {
    const runs = ['1', '0'].map((value) => {
      const out = join(dir, `cli-${value}`);
      const r = infersim(['run', 'scenarios/quickstart.yaml', '--out', out, '--quiet', '--set', 'workload.num_requests=80'], ROOT, { INFERSIM_BAND_THREADS: value });
      expect(r.status, r.stderr).toBe(0);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
      expect(summary.uncertainty).not.toBeNull();
      return results({ ...summary, scenario: { ...(summary.scenario as object), output: undefined } } as Summary);
    });
    expect(runs[0]).toBe(runs[1]);
    const bad = infersim(['run', 'scenarios/quickstart.yaml', '--out', join(dir, 'cli-bad'), '--quiet'], ROOT, { INFERSIM_BAND_THREADS: 'on' });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('INFERSIM_BAND_THREADS is "on"');
    expect(existsSync(join(dir, 'cli-bad'))).toBe(false);
  });

  it('too few cores, or a main run shorter than after_ms, starts none: the edges are run here, with the same bounds', async () => {
    const { lib, threads } = await loaded();
    expect(threads.BandThreads.for(bandSetup(quickSetup(lib)), undefined, { after_ms: 0, min_cores: 100_000 })).toBeUndefined();
    const bands = threads.BandThreads.for(bandSetup(quickSetup(lib)), undefined, { after_ms: 60_000, min_cores: 1 });
    bands!.poll();
    expect(bands!.wait('low')).toBeUndefined();
    const late = lib.runSimulation(quickSetup(lib), { band_threads: { after_ms: 60_000, min_cores: 1 } }).summary;
    expect(results(late)).toBe(results(lib.runSimulation(quickSetup(lib), { band_threads: false }).summary));
  });
});
