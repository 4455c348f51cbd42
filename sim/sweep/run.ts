import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { InfersimError } from '../errors.js';
import type { ScenarioInput } from '../scenario/types.js';
import { buildPlan, loadPoint, type SweepOptions, type SweepPlan } from './plan.js';
import { runPool } from './pool.js';
import { createProgress } from './progress.js';
import { formatReport } from './report.js';
import { openSweepDir, readPoints, recordFor, writePoint, writeSweepArrow, type PointRecord, type Shard } from './store.js';

export interface RunSweepOptions extends SweepOptions {
  /** Output folder: sweep.json, points/, sweep.arrow (and runs/ with keepRuns). */
  out: string;
  /** Worker threads; default os.availableParallelism(). */
  jobs?: number;
  /** Run only points with index % n == k − 1. */
  shard?: Shard | null;
  /** Keep each point's full output folder under `<out>/runs/<index>/`. */
  keepRuns?: boolean;
  /** Progress lines (or a bar on a terminal) on stderr; default true. */
  progress?: boolean;
}

export interface SweepResult {
  dir: string;
  plan: SweepPlan;
  /** This run's points (its shard's), by index, including those found finished in `dir`. */
  records: PointRecord[];
  /** Points simulated by this call, and points skipped because `dir` already had them. */
  ran: number;
  skipped: number;
  arrow: string;
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
 * Runs a sweep into `opts.out`. Every point is loaded first (a bad key or value stops the sweep
 * before anything runs), points already recorded in the folder by an earlier run of the same
 * sweep are skipped, and each point is recorded atomically as it finishes; sweep.arrow is
 * rebuilt from the point files at the end.
 */
export async function runSweep(opts: RunSweepOptions): Promise<SweepResult> {
  const cwd = opts.cwd ?? process.cwd();
  const jobs = opts.jobs ?? availableParallelism();
  if (!(Number.isSafeInteger(jobs) && jobs >= 1)) throw new InfersimError(`--jobs: must be an integer ≥ 1, got ${jobs}`);
  const plan = buildPlan({ ...opts, cwd });
  const shard = opts.shard ?? null;
  const indices = shardIndices(plan.values.length, shard);
  const inputs = new Map<number, ScenarioInput>(indices.map((i) => [i, loadPoint(plan, i, cwd)]));
  const dir = resolve(cwd, opts.out);
  openSweepDir(dir, plan, shard);
  const records = readPoints(dir, plan.fingerprint, plan.values.length);
  const todo = indices.filter((i) => !records.has(i));
  const progress = opts.progress === false ? undefined : createProgress(indices.length, indices.length - todo.length, plan.keys);
  const jobsList = todo.map((index) => ({
    index,
    input: inputs.get(index) as ScenarioInput,
    outDir: opts.keepRuns ? join(dir, 'runs', String(index)) : undefined,
    findMaxRate: plan.findMaxRate,
  }));
  await runPool(jobsList, jobs, (outcome) => {
    const record = recordFor(plan, outcome);
    writePoint(dir, record);
    records.set(outcome.index, record);
    progress?.done(record);
  });
  progress?.end();
  const mine = indices.map((i) => records.get(i) as PointRecord);
  const arrow = writeSweepArrow(dir, plan, mine);
  const report = formatReport(mine, { keys: plan.keys, latency: plan.latency, slo: plan.slo, findMaxRate: plan.findMaxRate !== null });
  return { dir, plan, records: mine, ran: todo.length, skipped: indices.length - todo.length, arrow, report };
}
