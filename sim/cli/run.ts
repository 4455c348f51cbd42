import { existsSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { receiveMessageOnPort } from 'node:worker_threads';
import type { Argv } from 'yargs';
import { InfersimError } from '../errors.js';
import { recoverPublish } from '../fsErrors.js';
import { numericOption } from './flags.js';
import { oneLine } from './guarded.js';
import { begin, takeRunThread } from './runThread.js';

export interface RunArgs {
  scenario: string;
  set?: string[];
  out?: string;
  /** The typed text (numericOption); runWorker parses it. */
  seed?: string | number;
  tokens?: boolean;
  quiet?: boolean;
  /** Also write DIR/report.html once the outputs are written. */
  report?: boolean;
}

/** What the run's worker thread tells the command: where it writes, then how it ended. */
export type RunReply =
  | { kind: 'writing'; dir: string }
  /** The output is in place and complete (the summary is still to be printed). */
  | { kind: 'published' }
  | { kind: 'done' }
  | { kind: 'failed'; line: string }
  /** A bug: the error itself where it could be sent, else its name, message and stack. */
  | { kind: 'bug'; error: unknown };

export function runCommandBuilder(y: Argv): Argv<RunArgs> {
  const c = y
    .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file (.yaml, .yml or .json)' })
    .option('set', { type: 'string', array: true, describe: 'override a key: --set engine.max_num_seqs=64 (repeatable)' })
    .option('out', { type: 'string', describe: 'output folder (default: output.dir, else out/<scenario name>)' });
  return numericOption(c, 'seed', { describe: 'override the scenario seed (integer ≥ 0)' })
    .option('tokens', { type: 'boolean', describe: 'also write tokens.arrow (one row per output token)' })
    .option('quiet', { type: 'boolean', describe: 'print only the output folder' })
    .option('report', { type: 'boolean', describe: 'also write DIR/report.html (infersim report DIR)' }) as unknown as Argv<RunArgs>;
}

/** 128 + the signal's number, as a shell reports a process the signal ended. SIGHUP: the terminal or ssh session closed. */
const EXIT_CODE = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
type Interrupt = keyof typeof EXIT_CODE;

/**
 * `infersim run`. The simulation is synchronous: a signal handler on its thread would run only
 * once it ended, so it runs in a worker thread (runWorker.ts) and this thread waits. On SIGINT or
 * SIGTERM it stops the worker, undoes its unfinished output (the temporary folder goes, a
 * previous output moved aside comes back) and exits 130 or 143 with one line saying so.
 */
export async function runCommand(args: RunArgs): Promise<void> {
  // Nothing is awaited before `begin`: yargs renders and caches the command's help (~20–30 ms) once
  // the handler returns its promise, and the run thread, already loaded, would wait for that.
  const thread = takeRunThread();
  const { worker, port: port1, exited } = thread;
  let dir: string | undefined;
  let published = false;
  let ended: RunReply | undefined;
  // Replies are read only here, synchronously, so none is missed when the worker is stopped.
  const drain = (): void => {
    for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1)) {
      const reply = m.message as RunReply;
      if (reply.kind === 'writing') dir = reply.dir;
      else if (reply.kind === 'published') published = true;
      else ended = reply;
    }
  };
  let onSignal: (signal: Interrupt) => void = () => undefined;
  const signalled = new Promise<Interrupt>((resolve) => (onSignal = resolve));
  // Kept until the process ends: a second Ctrl-C must not cut the clean-up short.
  for (const signal of Object.keys(EXIT_CODE) as Interrupt[]) process.on(signal, () => onSignal(signal));
  begin(thread, args);
  const first = await Promise.race([exited, signalled.then((signal) => ({ signal }))]);
  if ('signal' in first) {
    await worker.terminate();
    drain();
    // Finished before the signal was seen: a finished run, nothing to undo.
    if (ended?.kind !== 'done') {
      // Stopped after the output was complete (while printing the summary): nothing to undo.
      const what = published ? `${dir} was already written and is complete (its summary is in summary.json)` : undoSafely(dir);
      interrupted(first.signal, what);
    }
  }
  // The handlers stay: a signal during the few milliseconds left (the process ending) would
  // otherwise kill a finished run, which must exit as finished.
  drain();
  port1.close();
  if ('crash' in first && first.crash !== undefined) crashed(first.crash, published ? undefined : dir);
  if (ended === undefined) throw new Error('the run ended without a result');
  if (ended.kind === 'failed') throw new InfersimError(ended.line);
  if (ended.kind === 'bug') throw ended.error;
  if (args.report === true && dir !== undefined) await writeRunReport(dir, args.quiet === true);
}

/** `--report`: the run's output is complete; the page is written beside it. */
async function writeRunReport(dir: string, quiet: boolean): Promise<void> {
  const [{ writeReport }, { sizeText }] = await Promise.all([import('../report/index.js'), import('./report.js')]);
  const r = writeReport(dir);
  if (!quiet) console.log(`wrote ${r.file} (${sizeText(r.bytes)})`);
}

function interrupted(signal: Interrupt, what: string): never {
  // On a terminal the worker's progress line may still stand: clear it first.
  const clear = process.stderr.isTTY ? '\r\x1b[K' : '';
  process.stderr.write(`${clear}infersim: interrupted by ${signal}; ${what}\n`);
  process.exit(EXIT_CODE[signal]);
}

/**
 * The worker died (out of memory, a crash in Node): its unfinished output is undone first. Running
 * out of memory is the run's size meeting the heap limit, not a bug: one line saying what to change.
 */
function crashed(crash: unknown, dir: string | undefined): never {
  const undone = dir === undefined ? '' : `; ${undoSafely(dir)}`;
  if ((crash as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    const limit_mib = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
    throw new InfersimError(
      `the run ran out of memory (a JavaScript heap of ${limit_mib} MiB): give it more with NODE_OPTIONS=--max-old-space-size=<MiB>, ` +
        `or make it smaller (fewer requests, replicas or output.tokens)${undone}`,
    );
  }
  if (dir !== undefined) process.stderr.write(`infersim: the run crashed${undone}\n`);
  throw crash;
}

function undoSafely(dir: string | undefined): string {
  try {
    return undo(dir);
  } catch (err) {
    return `could not undo its unfinished output: ${oneLine(err) ?? String(err)}`;
  }
}

/** Undoes the stopped run's output in `dir` and says what became of it. */
function undo(dir: string | undefined): string {
  if (dir === undefined) return 'nothing was written';
  const { removed, restored } = recoverPublish(dir, process.pid);
  const tmp = `${dir}.tmp-${process.pid}`;
  if (removed.includes(`${dir}.old-${process.pid}`)) return `the run had just replaced ${dir}; removed the previous output it had moved aside`;
  const before = restored !== undefined || existsSync(dir) ? `${dir} is as it was` : `${dir} was not written`;
  return removed.includes(tmp) ? `removed the unfinished output ${tmp}; ${before}` : `nothing was written; ${before}`;
}
