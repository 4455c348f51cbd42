/**
 * The body of `infersim run`, in a worker thread started by run.ts: the simulation is synchronous,
 * so only another thread can stop it when a signal comes (see runCommand).
 */
import { writeSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { runSimulation, type RunResult } from '../cluster/simulate.js';
import { describeKvCapacity } from '../kv/capacity.js';
import { formatSummaryTable } from '../metrics/table.js';
import { loadScenario } from '../setup/load.js';
import { policyNamed } from '../setup/engine.js';
import { resolveScenario, type ResolvedScenario } from '../setup/resolve.js';
import { createRequestStream } from '../workload/index.js';
import { integerFlag } from './flags.js';
import { oneLine } from './guarded.js';
import { prepareRun } from './runPrepare.js';
import { createRunProgress } from './runProgress.js';
import type { RunArgs, RunReply } from './run.js';

/** Runs the scenario; `tell` hears the output folder before anything is written there, and when the output is complete. */
function run(args: RunArgs, stderrIsTTY: boolean, tell: (message: RunReply) => void): void {
  // --tokens is an override like --set, so summary.json's resolved scenario records it.
  const set = [...(args.set ?? []), ...(args.tokens ? ['output.tokens=true'] : [])];
  const { input } = loadScenario(args.scenario, { set, seed: integerFlag('--seed', args.seed, { min: 0 }), out: args.out });
  const setup = resolveScenario(input);
  const s = setup.scenario;
  // Reads and checks the trace or generator settings now, so a bad workload fails before any output.
  const stream = createRequestStream(s.workload, s.seed);
  const outDir = s.output.dir ?? resolve('out', basename(args.scenario, extname(args.scenario)));
  const writeTokens = s.output.tokens;
  const printBanner = (): void => {
    if (args.quiet) return;
    // One line per pool (a scenario without pools is one pool): its model, fleet, engine and KV capacity.
    for (const pool of setup.pools) {
      const p = pool.setup.scenario;
      const named = s.pools === undefined ? '' : `pool ${pool.name}${pool.shadow ? ' (shadow)' : ''}: `;
      console.log(`infersim: ${named}${poolBanner(p)}`);
      console.log(describeKvCapacity(pool.setup.kv, p.engine.max_model_len));
    }
  };
  tell({ kind: 'writing', dir: resolve(outDir) });
  // Written straight to the terminal's descriptor: the simulation never yields to flush a stream.
  const progress = createRunProgress({
    total_requests: stream.info.max_requests,
    duration_s: s.workload.duration_s,
    stream: { isTTY: stderrIsTTY, write: (text: string) => (writeSync(2, text), true) },
    // A test hook (test/cli/runProgress.test.ts): progress from the first tick, whatever the machine's speed.
    ...(process.env.INFERSIM_TEST_PROGRESS_NOW === '1' && { delay_s: 0, every_s: 0 }),
  });
  let result: RunResult;
  try {
    result = runSimulation(setup, { outDir, writeTokens, stream, onStart: printBanner, onProgress: progress.shown ? progress.tick : undefined });
  } finally {
    progress.end();
  }
  tell({ kind: 'published' });
  if (!args.quiet) {
    console.log('');
    console.log(formatSummaryTable(result.summary));
    const t = result.totals;
    const band_s = result.summary.simulator?.uncertainty_wall_s;
    console.log(
      `\nsimulated ${t.requests - t.mirrored} requests${t.mirrored > 0 ? ` (+ ${t.mirrored} mirrored copies)` : ''}, ${t.steps} steps in ${result.summary.simulator?.wall_s.toFixed(2) ?? '?'} s wall` +
        (typeof band_s === 'number' ? ` (+ ${band_s.toFixed(2)} s for the two runs at the latency band's edges)` : ''),
    );
  }
  console.log(`wrote ${outDir}/{requests.arrow,iterations.arrow,events.arrow,cluster.arrow,summary.json${writeTokens ? ',tokens.arrow' : ''}}`);
}

const { port, stderrIsTTY, argv } = workerData as { port: MessagePort; stderrIsTTY: boolean; argv?: string[] };
const reply = (message: RunReply): void => port.postMessage(message);
/** Runs the command with its parsed arguments, once. */
function start(args: RunArgs): void {
  try {
    run(args, stderrIsTTY, reply);
    reply({ kind: 'done' });
  } catch (err) {
    const line = oneLine(err);
    if (line !== undefined) reply({ kind: 'failed', line });
    else replyBug(err);
  }
  port.close();
  parentPort?.close();
}

// Started before the command line was parsed (runThread.ts): the scenario's files are read
// meanwhile, and the parsed arguments come once it is. A plain line (runPlain.ts) is parsed before
// this thread has even loaded: its arguments are here already, and reading ahead would only do
// twice what the run does.
const early = receiveMessageOnPort(port);
if (early !== undefined) start(early.message as RunArgs);
else {
  if (argv !== undefined) prepareRun(argv);
  port.once('message', start);
}

/**
 * A bug crosses to the main thread with its stack. Structured cloning keeps an Error's name,
 * message and stack but not its class or extra fields, and refuses some values outright: then
 * the stack alone is sent, as text.
 */
function replyBug(err: unknown): void {
  try {
    reply({ kind: 'bug', error: err });
  } catch {
    const e = err instanceof Error ? err : new Error(String(err));
    reply({ kind: 'bug', error: `${e.stack ?? `${e.name}: ${e.message}`}` });
  }
}

/** A pool's model, replicas, GPU and scheduler settings, in one line. */
function poolBanner(p: ResolvedScenario): string {
  const replicas = `${p.cluster.replicas} replica${p.cluster.replicas === 1 ? '' : 's'}`;
  const e = p.engine;
  const traits = policyNamed(e.scheduler).traits;
  const policy = traits.kv === 'reserved'
    ? `KV reserved per request: ${e.orca_reservation}` +
      (traits.keys.includes('max_batch_size') ? `, batches of ${e.max_batch_size}` : '') +
      (traits.keys.includes('batch_timeout_ms') ? ` or ${e.batch_timeout_ms} ms` : '')
    : `preemption ${e.preemption}${e.swap_space_gb > 0 ? ` (${e.swap_space_gb} GiB swap)` : ''}, ` +
      `prefix caching ${e.enable_prefix_caching ? 'on' : 'off'}${e.scheduling_policy === 'priority' ? ', priority policy' : ''}`;
  return (
    `${p.model} on ${replicas} × TP${p.hardware.tensor_parallel}${p.hardware.pipeline_parallel > 1 ? ` × PP${p.hardware.pipeline_parallel}` : ''} ${p.hardware.gpu}, ${e.scheduler} scheduler ` +
    `(max_num_seqs ${e.max_num_seqs}, max_num_batched_tokens ${e.max_num_batched_tokens}, block ${e.block_size}; ${policy})`
  );
}
