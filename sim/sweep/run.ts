import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { InfersimError } from '../errors.js';
import { FileSystemError } from '../fsErrors.js';
import type { PointOutcome } from './point.js';
import { buildPlan, type SweepOptions, type SweepPlan } from './plan.js';
import { startPool, type Pool } from './pool.js';
import { createProgress } from './progress.js';
import type { PointRecord } from './record.js';
import { formatReport } from './report.js';
import { openSweepDir, readPoints, recordFor, removeStaleTemporaries, writePoint, writeSweepArrow, type Shard } from './store.js';

export interface RunSweepOptions extends SweepOptions {
  /** Output folder: sweep.json, points/, sweep.arrow (and runs/ with keepRuns). */
  out: string;
  /** Worker processes; default os.availableParallelism(). */
  jobs?: number;
  /** Workers already started (by the CLI, before it loads the planner), `jobs` of them; closed at the end either way. */
  pool?: Pool;
  /** Run only points with index % n == k − 1. */
  shard?: Shard | null;
  /** Keep each point's full output folder under `<out>/runs/<index>/`. */
  keepRuns?: boolean;
  /** Rerun points recorded as failed (after a fix that makes them pass, say). */
  retryFailed?: boolean;
  /** Progress lines (or a bar on a terminal) on stderr; default true. */
  progress?: boolean;
}

export interface SweepResult {
  dir: string;
  plan: SweepPlan;
  /** This run's recorded points (its shard's), by index, including those found finished in `dir`. */
  records: PointRecord[];
  /** Points simulated by this call (crashed ones included), and points skipped because `dir` already had them. */
  ran: number;
  skipped: number;
  /** Points that crashed this time (an internal error, a worker that died): not recorded, so a rerun retries them. */
  crashed: PointOutcome[];
  /** Why the sweep stopped early (a fresh worker died before finishing a point), and the points it did not start. */
  stopped: string | null;
  notRun: number[];
  /** sweep.arrow, written only when every point of the shard is recorded; null otherwise. */
  arrow: string | null;
  /** The Pareto front and the best point, as printed by the CLI. */
  report: string;
}

/** Parses `--shard K/N` (1 ≤ K ≤ N). */
export function parseShard(raw: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  const k = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || !(n >= 1 && k >= 1 && k <= n)) throw new InfersimError(`--shard: expected K/N with 1 ≤ K ≤ N (e.g. 2/3), got ${JSON.stringify(raw)}`);
  return { k, n };
}

export function shardIndices(total: number, shard: Shard | null): number[] {
  const all = Array.from({ length: total }, (_, i) => i);
  return shard === null ? all : all.filter((i) => i % shard.n === shard.k - 1);
}

/**
 * Runs a sweep into `opts.out`. The worker processes start first (they load the simulator while
 * the plan is built); every point is loaded before any runs (a bad key or value stops the sweep
 * before anything runs), points already recorded in the folder by an earlier run of the same
 * sweep are skipped (failed ones too, unless `retryFailed`), and each point is recorded
 * atomically as it finishes; sweep.arrow is rebuilt from the point files at the end, when all
 * of them are there.
 */
export async function runSweep(opts: RunSweepOptions): Promise<SweepResult> {
  const cwd = opts.cwd ?? process.cwd();
  const jobs = opts.jobs ?? availableParallelism();
  if (!(Number.isSafeInteger(jobs) && jobs >= 1)) throw new InfersimError(`--jobs: must be an integer ≥ 1, got ${jobs}`);
  const pool = opts.pool ?? startPool(jobs);
  const dir = resolve(cwd, opts.out);
  let opened = false;
  try {
    const { plan, inputs } = buildPlan({ ...opts, cwd });
    const shard = opts.shard ?? null;
    const indices = shardIndices(plan.values.length, shard);
    openSweepDir(dir, plan, shard);
    opened = true;
    const records = readPoints(dir, plan.fingerprint, plan.values.length);
    if (opts.retryFailed) for (const i of indices) if (records.get(i)?.status === 'failed') records.delete(i);
    const todo = indices.filter((i) => !records.has(i));
    const progress = opts.progress === false ? undefined : createProgress(indices.length, indices.length - todo.length, plan.keys);
    const jobsList = todo.map((index) => ({
      index,
      input: inputs[index],
      outDir: opts.keepRuns ? join(dir, 'runs', String(index)) : undefined,
      findMaxRate: plan.findMaxRate,
    }));
    const crashed: PointOutcome[] = [];
    const running = pool.run(jobsList, (outcome) => {
      if (outcome.fault !== undefined) {
        throw new FileSystemError(`point ${outcome.index}: ${outcome.error}; the sweep stopped; finished points are kept in ${dir}/points: rerun the same command to resume`);
      }
      if (outcome.status === 'crashed') {
        crashed.push(outcome);
        progress?.done({ ...outcome, values: plan.values[outcome.index] });
        return;
      }
      const record = recordFor(plan, { ...outcome, status: outcome.status });
      writePoint(dir, record);
      records.set(outcome.index, record);
      progress?.done(record);
    });
    // apache-arrow (for sweep.arrow) loads while the workers run, instead of after them.
    void import('./table.js').catch(() => undefined);
    const { stopped, notRun } = await running;
    progress?.end();
    const mine = indices.flatMap((i) => records.get(i) ?? []);
    const arrow = mine.length === indices.length ? await writeSweepArrow(dir, plan, mine) : null;
    const report = formatReport(mine, { keys: plan.keys, latency: plan.latency, slo: plan.slo, findMaxRate: plan.findMaxRate !== null });
    return { dir, plan, records: mine, ran: todo.length - notRun.length, skipped: indices.length - todo.length, crashed, stopped, notRun, arrow, report };
  } finally {
    await pool.close();
    // The workers are gone: what they were writing under --keep-runs is now a stale temporary.
    try {
      if (opened) removeStaleTemporaries(dir);
    } catch {
      // Best effort: the next run into `dir` removes them too.
    }
  }
}
