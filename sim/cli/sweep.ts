import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import type { Pool } from '../sweep/pool.js';
import { InfersimError } from '../errors.js';
import { integerFlag, numberFlag, numericOption } from './flags.js';
import { guarded } from './guarded.js';

/** Each job is a Node process of ~100 MB or more: beyond this a machine runs out of memory before cores. */
const MAX_JOBS = 256;
// The sweep's modules (the planner, the scenario loader, Arrow) are imported by the handlers, after
// the worker processes are started: the workers load the simulator while this process loads the rest.

export interface SweepArgs {
  scenario: string;
  grid?: string[];
  zip?: string[];
  set?: string[];
  /** Numeric flags hold the typed text (numericOption); the handler parses them. */
  seed?: string | number;
  jobs?: string | number;
  out?: string;
  shard?: string;
  keepRuns?: boolean;
  retryFailed?: boolean;
  findMaxRate?: boolean;
  target?: string | number;
  /** Also write OUT/report.html (the points, the Pareto front, heat maps). */
  report?: boolean;
}

export interface SweepMergeArgs {
  dirs: string[];
  out: string;
}

/** `infersim sweep SCENARIO …` and `infersim sweep merge DIR… --out DIR`. */
export function sweepCommandBuilder(y: Argv): Argv {
  return y
    .command<SweepMergeArgs>(
      'merge <dirs..>',
      'combine sweep folders (shards of one sweep) into one sweep.arrow',
      (m) =>
        m
          .positional('dirs', { type: 'string', array: true, demandOption: true, describe: 'sweep output folders' })
          .option('out', { type: 'string', demandOption: true, describe: 'folder for the merged sweep' }) as unknown as Argv<SweepMergeArgs>,
      guarded(mergeCommand),
    )
    .command<SweepArgs>('$0 <scenario>', 'run a scenario over a grid of key values', sweepOptions, guarded(sweepCommand));
}

function sweepOptions(y: Argv): Argv<SweepArgs> {
  const withFlags = y
    .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario file (.yaml, .yml or .json)' })
    .option('grid', { type: 'string', array: true, describe: 'a key and its values: --grid engine.max_num_seqs=8,16,32 (repeatable; cartesian product)' })
    .option('zip', { type: 'string', array: true, describe: 'lists that advance together: --zip model=a,b --zip hardware.gpu=x,y' })
    .option('set', { type: 'string', array: true, describe: 'override a key at every point: --set workload.num_requests=2000' })
    .option('out', { type: 'string', describe: 'output folder (default: out/<scenario name>-sweep)' })
    .option('shard', { type: 'string', describe: 'run slice K of N (points with index % N = K − 1): --shard 2/3' })
    .option('keep-runs', { type: 'boolean', describe: "keep each point's output folder under <out>/runs/<index>/" })
    .option('retry-failed', { type: 'boolean', describe: 'rerun points an earlier run recorded as failed' })
    .option('report', { type: 'boolean', describe: 'also write <out>/report.html: the points, the Pareto front, heat maps (infersim report)' })
    .option('find-max-rate', { type: 'boolean', describe: 'per point, the highest workload.arrival.rate_per_s keeping SLO attainment ≥ --target' });
  let c = numericOption(withFlags, 'seed', { describe: 'override the scenario seed (integer ≥ 0)' });
  c = numericOption(c, 'jobs', { describe: `points run at once, each in a worker process (1 to ${MAX_JOBS}; default: the number of cores)` });
  return numericOption(c, 'target', { describe: 'SLO attainment for --find-max-rate, a fraction > 0 and ≤ 1 (default 0.9)' }) as unknown as Argv<SweepArgs>;
}

function parseTarget(raw: string | number | undefined, findMaxRate: boolean): number {
  if (raw === undefined) return 0.9;
  if (!findMaxRate) throw new InfersimError('--target: is used with --find-max-rate only');
  return numberFlag('--target', raw, { min: 0, minExclusive: true, max: 1 }) as number;
}

export async function sweepCommand(args: SweepArgs): Promise<void> {
  const out = args.out ?? resolve('out', `${basename(args.scenario, extname(args.scenario))}-sweep`);
  const findMaxRate = args.findMaxRate === true;
  const target = parseTarget(args.target, findMaxRate);
  const jobs = integerFlag('--jobs', args.jobs, { min: 1, max: MAX_JOBS }) ?? Math.min(availableParallelism(), MAX_JOBS);
  const { startPool } = await import('../sweep/pool.js');
  const pool = startPool(jobs);
  try {
    await sweepWith(args, out, findMaxRate, target, jobs, pool);
  } finally {
    await pool.close();
  }
}

async function sweepWith(args: SweepArgs, out: string, findMaxRate: boolean, target: number, jobs: number, pool: Pool): Promise<void> {
  const [{ parseListFlag }, { parseShard, runSweep }] = await Promise.all([import('../sweep/grid.js'), import('../sweep/run.js')]);
  const options = {
    scenario: args.scenario,
    grid: (args.grid ?? []).map((g) => parseListFlag('--grid', g)),
    zip: (args.zip ?? []).map((z) => parseListFlag('--zip', z)),
    set: args.set,
    seed: integerFlag('--seed', args.seed, { min: 0 }),
    jobs,
    pool,
    shard: args.shard === undefined ? null : parseShard(args.shard),
    keepRuns: args.keepRuns === true,
    retryFailed: args.retryFailed === true,
    findMaxRate: findMaxRate ? { target, precision: 0.02 } : undefined,
    out,
  };
  const interrupted = onInterrupt(resolve(out), pool);
  const result = await runSweep(options).catch((err: unknown) => (interrupted() ? undefined : Promise.reject(err)));
  // Stopping the workers ends the sweep early: the interrupt handler reports and exits, not this.
  if (result === undefined || interrupted()) return new Promise<never>(() => undefined);
  const failed = result.records.filter((r) => r.status === 'failed').length;
  const total = result.plan.values.length;
  const shardNote = options.shard ? ` of ${total}, shard ${options.shard.k}/${options.shard.n}` : '';
  console.log(result.report);
  const counts = `${result.records.length - failed} ok, ${failed} failed; ${result.ran} run now, ${result.skipped} already recorded`;
  if (result.arrow !== null) {
    console.log(`\nwrote ${result.arrow} (${result.records.length} points${shardNote}: ${counts})`);
    if (args.report === true) await writeSweepReport(result.dir);
    return;
  }
  const expected = result.records.length + result.crashed.length + result.notRun.length;
  console.log(`\n${result.records.length} of ${expected} points recorded in ${result.dir}/points${shardNote} (${counts}); sweep.arrow not written`);
  for (const c of result.crashed.slice(0, 3)) console.error(`infersim: error: point ${c.index} crashed (not recorded): ${c.error}`);
  if (result.crashed.length > 3) console.error(`infersim: error: … and ${result.crashed.length - 3} more crashed points`);
  if (result.stopped !== null) console.error(`infersim: error: sweep stopped: ${result.stopped}; ${result.notRun.length} points not started`);
  console.error(`infersim: error: ${result.crashed.length} point${result.crashed.length === 1 ? '' : 's'} crashed${result.notRun.length ? `, ${result.notRun.length} not run` : ''}; rerun the same command to retry them`);
  process.exitCode = 1;
}

async function writeSweepReport(dir: string): Promise<void> {
  const [{ writeReport }, { sizeText }] = await Promise.all([import('../report/index.js'), import('./report.js')]);
  const r = writeReport(dir);
  console.log(`wrote ${r.file} (${sizeText(r.bytes)})`);
}

/**
 * Ctrl-C, SIGTERM or SIGHUP (the terminal closed): finished points are already on disk; the ones in flight are lost with their
 * worker processes, which are ended first so that their unfinished --keep-runs folders can go.
 */
function onInterrupt(dir: string, pool: Pool): () => boolean {
  let stopping = false;
  const stop = (signal: 'SIGHUP' | 'SIGINT' | 'SIGTERM'): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await pool.close();
      const { removeStaleTemporaries } = await import('../sweep/store.js');
      let cleaned = '';
      try {
        const n = removeStaleTemporaries(dir).length;
        if (n > 0) cleaned = `removed ${n} unfinished temporar${n === 1 ? 'y' : 'ies'} of the points in flight; `;
      } catch {
        // The next run into `dir` removes them too.
      }
      const kept = existsSync(join(dir, 'points')) ? `finished points are kept in ${dir}/points: rerun the same command to resume` : 'nothing was written';
      // On a terminal the progress bar holds the line: start a new one.
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}infersim: interrupted by ${signal}; ${cleaned}${kept}\n`);
      // 128 + the signal's number, as a shell reports it.
      process.exit({ SIGHUP: 129, SIGINT: 130, SIGTERM: 143 }[signal]);
    })();
  };
  process.on('SIGHUP', () => stop('SIGHUP'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return () => stopping;
}

export async function mergeCommand(args: SweepMergeArgs): Promise<void> {
  const { mergeSweeps } = await import('../sweep/merge.js');
  const result = await mergeSweeps(args.dirs, args.out);
  console.log(result.report);
  console.log(`\nwrote ${result.arrow} (${result.records.length} points merged from ${args.dirs.length} folders)`);
}
