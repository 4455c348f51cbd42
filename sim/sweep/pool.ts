import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { PointJob, PointOutcome } from './point.js';

/**
 * How to start a worker. Compiled (dist/): the worker's .js file directly. From the TypeScript
 * sources (tests, `INFERSIM_FROM_SOURCE=1`, a checkout without a build): a small bootstrap that
 * registers tsx in the worker before importing worker.ts. On Node 20, hooks registered in the
 * main thread do not reach workers, and `execArgv: ['--import', 'tsx']` registers them too late
 * for the worker's own entry module, so the bootstrap imports it after registering.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here));
  const entry = new URL('./worker.ts', here).href;
  const code =
    `import(${JSON.stringify(tsxApi())}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })` +
    `.catch((err) => { process.nextTick(() => { throw err; }); });`;
  return new Worker(code, { eval: true });
}

function tsxApi(): string {
  const meta = import.meta as ImportMeta & { resolve?: (specifier: string) => string };
  if (typeof meta.resolve === 'function') return meta.resolve('tsx/esm/api');
  // Hosts without import.meta.resolve (some test runners): the ESM build beside tsx's package.json.
  return new URL('dist/esm/api/index.mjs', pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json'))).href;
}

/**
 * Runs jobs on up to `jobs` worker threads, each kept for many points (a worker's start, and in
 * source mode its TypeScript compile, is paid once). `onDone` sees outcomes as they finish, in
 * completion order. A worker that dies mid-point (out of memory, a native crash) fails that
 * point and is replaced.
 */
export async function runPool(jobsList: readonly PointJob[], jobs: number, onDone: (o: PointOutcome) => void): Promise<void> {
  const queue = [...jobsList];
  const workers: Worker[] = [];
  const width = Math.max(1, Math.min(jobs, queue.length));
  try {
    await Promise.all(Array.from({ length: width }, () => drive()));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }

  async function drive(): Promise<void> {
    let worker: Worker | undefined;
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      worker ??= spawn();
      const outcome = await runOn(worker, job);
      if (outcome.crashed) worker = undefined;
      onDone(outcome.outcome);
    }
  }

  function spawn(): Worker {
    const w = startWorker();
    workers.push(w);
    return w;
  }
}

function runOn(worker: Worker, job: PointJob): Promise<{ outcome: PointOutcome; crashed: boolean }> {
  const start = performance.now();
  return new Promise((resolve) => {
    const finish = (outcome: PointOutcome, crashed: boolean) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      resolve({ outcome, crashed });
    };
    const failed = (why: string): PointOutcome => ({
      index: job.index,
      status: 'failed',
      error: why,
      metrics: null,
      maxRate: null,
      wall_s: (performance.now() - start) / 1000,
    });
    const onMessage = (o: PointOutcome) => finish(o, false);
    const onError = (err: Error) => {
      void worker.terminate();
      finish(failed(`internal error (worker): ${err.message.split('\n')[0]}`), true);
    };
    const onExit = (code: number) => finish(failed(`worker exited with code ${code}`), true);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(job);
  });
}
