/**
 * The worker thread that runs `infersim run` (runWorker.ts), started as early as the command is
 * known: bin/infersim.js starts it before the CLI's own modules and yargs load, so the thread loads
 * the simulator while this one parses the command line (on two cores that hides most of either's
 * start-up). The thread waits for the parsed arguments (`begin`); until then it keeps the process
 * alive only if the command takes it, so `infersim run --help` or a bad flag exits as before.
 */
import { readFileSync, statSync } from 'node:fs';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { tsxApi } from '../sourceMode.js';

export interface RunThread {
  worker: Worker;
  /** Replies come here (RunReply); `begin` sends the arguments through it. */
  port: MessagePort;
  /** How the thread ended: `crash` is its uncaught error (undefined after a normal exit). */
  exited: Promise<{ crash: unknown }>;
}

let early: RunThread | undefined;

/** Starts the thread ahead of the command line's parsing, not holding the process open. */
export function prestartRunThread(): void {
  // The raw arguments, for the thread to read the scenario's files while they are parsed here (runPrepare.ts).
  early ??= startRunThread(process.argv.slice(2));
  early.worker.unref();
}

/** The thread started ahead if any, else a new one; it holds the process open from now on. */
export function takeRunThread(): RunThread {
  const thread = early ?? startRunThread();
  early = undefined;
  thread.worker.ref();
  return thread;
}

/** Lets the thread run the command with `args` (run.ts's RunArgs), once. */
export function begin(thread: RunThread, args: object): void {
  thread.port.postMessage(args);
}

function startRunThread(argv?: string[]): RunThread {
  const { port1, port2 } = new MessageChannel();
  // A worker's process.stderr is a pipe to this thread: it learns from here whether progress has a terminal.
  const workerData = { port: port2, stderrIsTTY: process.stderr.isTTY === true, argv };
  const options = { workerData, transferList: [port2], stdout: false, stderr: false };
  const here = import.meta.url;
  // Compiled: the bundle of runWorker.js, or runWorker.js; from the sources, runWorker.ts behind tsx's loader (a worker thread does not inherit it).
  let worker: Worker;
  if (!here.endsWith('.ts')) worker = new Worker(bundledRunWorker(here) ?? new URL('./runWorker.js', here), options);
  else {
    const entry = new URL('./runWorker.ts', here).href;
    const code = `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
    worker = new Worker(code, { ...options, eval: true });
  }
  // Listened to from the start: a thread that fails while the command line is parsed is reported when the command takes it.
  const exited = new Promise<{ crash: unknown }>((done) => {
    worker.once('error', (crash) => done({ crash }));
    worker.once('exit', () => done({ crash: undefined }));
  });
  return { worker, port: port1, exited };
}

/**
 * The run thread's body as one script with V8's code cache (scripts/bundle.mjs, part of `npm run
 * build`): it starts ~0.15 s sooner than runWorker.js's ~250 ES modules, which Node 20 compiles
 * anew at every start (docs/performance.md). Undefined, and runWorker.js runs, where there is no
 * bundle, where it holds another build (`tsc` run since: it rewrites every file), or with
 * INFERSIM_BUNDLE=0. Either runs the same code: the outputs are the same.
 */
export function bundledRunWorker(here: string): URL | undefined {
  if (process.env.INFERSIM_BUNDLE === '0') return undefined;
  const dir = new URL('../../bundle/', here);
  try {
    const stamp = JSON.parse(readFileSync(new URL('stamp.json', dir), 'utf8')) as { runWorker_mtime_ms?: unknown };
    if (stamp.runWorker_mtime_ms !== statSync(new URL('./runWorker.js', here)).mtimeMs) return undefined;
    return new URL('runWorker-load.cjs', dir);
  } catch {
    return undefined;
  }
}
