import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tsxLoader } from '../sourceMode.js';
import type { PointJob, PointOutcome } from './point.js';

/**
 * How to start a worker process. Compiled (dist/): worker.js with plain node. From the
 * TypeScript sources (tests, `INFERSIM_FROM_SOURCE=1`, a checkout without a build): worker.ts
 * with tsx's loader registered by `--import` (in a child process, unlike a worker thread, that
 * registers it before the entry module loads).
 */
function startWorker(): ChildProcess {
  const here = import.meta.url;
  const source = here.endsWith('.ts');
  const entry = fileURLToPath(new URL(source ? './worker.ts' : './worker.js', here));
  // (A larger young generation, --max-semi-space-size=32/64, and --single-threaded-gc were tried: no measurable gain.)
  const execArgv = source ? ['--import', tsxLoader()] : [];
  // 'advanced' serialization (structured clone): Infinity and the like survive the trip, as they did between threads.
  return fork(entry, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/**
 * What became of a job. `done`: the worker answered (ok, failed, or crashed by an internal
 * error the worker caught). `died`: the worker process ended mid-point (out of memory, a native
 * crash, a module that would not load), reported as a crashed outcome.
 */
export interface PoolResult {
  /** Set when the pool stopped early: a fresh worker died before finishing any point (it would likely die again). */
  stopped: string | null;
  /** Jobs never started because the pool stopped. */
  notRun: number[];
}

export interface Pool {
  /**
   * Runs jobs on the pool's workers, each kept for many points (a worker's start, and in source
   * mode its TypeScript compile, is paid once). `onDone` sees outcomes as they finish, in
   * completion order, including crashed ones. A worker that dies mid-point crashes that point
   * and is replaced, unless it had not finished a point yet: then the pool stops taking jobs
   * (the points in flight finish) and says why. If `onDone` throws, the pool shuts down at once
   * (no further outcomes, no new workers) and `run` rejects with that error.
   */
  run(jobs: readonly PointJob[], onDone: (o: PointOutcome) => void): Promise<PoolResult>;
  /** Ends every worker (idempotent). */
  close(): Promise<void>;
}

/**
 * Starts `size` worker processes at once, so they load the simulator while the caller builds its
 * plan. Worker processes rather than threads: on identical work they scale better (each has its
 * own heap and garbage collector threads).
 */
export function startPool(size: number): Pool {
  const idle: ChildProcess[] = [];
  const all = new Set<ChildProcess>();
  let shutdown = false;

  const spawn = (): ChildProcess => {
    const w = startWorker();
    all.add(w);
    live.add(w);
    w.once('exit', () => live.delete(w));
    // An idle worker's failure is noticed when it is next given a job; never an unhandled 'error'.
    w.on('error', () => undefined);
    w.once('exit', () => all.delete(w));
    return w;
  };
  for (let i = 0; i < size; i++) idle.push(spawn());

  const close = async (): Promise<void> => {
    shutdown = true;
    idle.length = 0;
    await Promise.all(
      [...all].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null || w.signalCode !== null) return resolve();
            w.once('exit', () => resolve());
            w.kill('SIGKILL');
          }),
      ),
    );
  };

  const run = async (jobsList: readonly PointJob[], onDone: (o: PointOutcome) => void): Promise<PoolResult> => {
    const queue = [...jobsList];
    let stopped: string | null = null;
    let failure: { err: unknown } | undefined;
    const width = Math.max(1, Math.min(size, queue.length));
    // Workers beyond what the jobs need are not kept waiting.
    for (const w of idle.splice(width)) w.kill('SIGKILL');

    const drive = async (): Promise<void> => {
      let worker: ChildProcess | undefined = idle.shift();
      let finished = 0;
      while (!shutdown && stopped === null) {
        const job = queue.shift();
        if (job === undefined) break;
        worker ??= spawn();
        const result = await runOn(worker, job);
        // Shut down meanwhile (onDone threw elsewhere, or close()): the exit we saw is our own kill.
        if (shutdown) return;
        if (result.died) {
          worker = undefined;
          if (finished === 0) stopped ??= `a new worker process died before finishing any point (${result.outcome.error})`;
        } else finished++;
        try {
          onDone(result.outcome);
        } catch (err) {
          failure ??= { err };
          await close();
          return;
        }
      }
      if (worker) idle.push(worker);
    };

    await Promise.all(Array.from({ length: width }, () => drive()));
    if (failure) throw failure.err;
    return { stopped, notRun: queue.map((j) => j.index) };
  };

  return { run, close };
}

/** Every worker process not yet ended, of every pool: `process.exit` (Ctrl-C, an error) ends them too. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const w of live) w.kill('SIGKILL');
});

function runOn(worker: ChildProcess, job: PointJob): Promise<{ outcome: PointOutcome; died: boolean }> {
  const start = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const crashed = (why: string): PointOutcome => ({
      index: job.index,
      status: 'crashed',
      error: why,
      metrics: null,
      maxRate: null,
      wall_s: (performance.now() - start) / 1000,
    });
    const finish = (outcome: PointOutcome, died: boolean) => {
      if (settled) return;
      settled = true;
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (died && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
      resolve({ outcome, died });
    };
    const onMessage = (o: PointOutcome) => finish(o, false);
    const onError = (err: Error) => finish(crashed(`worker process error: ${err.message.split('\n')[0]}`), true);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(crashed(`worker process ${signal ? `killed by ${signal}` : `exited with code ${code}`}`), true);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    if (worker.exitCode !== null || worker.signalCode !== null || !worker.connected) {
      finish(crashed(`worker process ${worker.signalCode ? `killed by ${worker.signalCode}` : `exited with code ${worker.exitCode}`} before the point started`), true);
      return;
    }
    worker.send(job, (err) => {
      if (err) onError(err);
    });
  });
}
