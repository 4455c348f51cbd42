import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fieldError, InfersimError } from '../errors.js';
import { isAlive, makeFolders, withPath, writeFileAtomic } from '../fsErrors.js';
import type { KeyKind } from './grid.js';
import type { PointOutcome } from './point.js';
import type { SweepPlan } from './plan.js';
import type { MetricName, PointRecord } from './record.js';

export interface Shard {
  /** 1-based. */
  k: number;
  n: number;
}

/** sweep.json: what was swept; enough for `sweep merge` to check that folders belong together. */
export interface SweepManifest {
  format: 'infersim-sweep';
  version: 1;
  scenario: string;
  set: string[];
  seed: number | null;
  fingerprint: string;
  keys: string[];
  kinds: string[];
  grid: Record<string, unknown[]>;
  zip: Record<string, unknown[]>;
  /** Point i's values, aligned with `keys`. */
  values: unknown[][];
  points: number;
  find_max_rate: { target: number; precision: number } | null;
  /** The report's latency axis and whether the scenario has an SLO. */
  report: { latency: string; slo: boolean };
  /** This folder's slice (points with index % n == k − 1), null for the whole sweep. */
  shard: Shard | null;
  /** `sweep merge` only: the folders combined. */
  merged_from?: string[];
}

const SWEEP_JSON = 'sweep.json';
const SWEEP_ARROW = 'sweep.arrow';
const OWN = new Set([SWEEP_JSON, SWEEP_ARROW, 'points', 'runs']);

/** The plan a folder's sweep.json describes (for `sweep merge`, which has no scenario file to read). */
export function planFromManifest(m: SweepManifest): SweepPlan {
  return {
    scenario: m.scenario,
    set: m.set,
    seed: m.seed,
    keys: m.keys,
    kinds: m.kinds as KeyKind[],
    values: m.values,
    grid: m.grid,
    zip: m.zip,
    findMaxRate: m.find_max_rate,
    latency: m.report.latency as MetricName,
    slo: m.report.slo,
    fingerprint: m.fingerprint,
  };
}

export function manifestFor(plan: SweepPlan, shard: Shard | null): SweepManifest {
  return {
    format: 'infersim-sweep',
    version: 1,
    scenario: plan.scenario,
    set: plan.set,
    seed: plan.seed,
    fingerprint: plan.fingerprint,
    keys: plan.keys,
    kinds: plan.kinds,
    grid: plan.grid,
    zip: plan.zip,
    values: plan.values,
    points: plan.values.length,
    find_max_rate: plan.findMaxRate,
    report: { latency: plan.latency, slo: plan.slo },
    shard,
  };
}

/** A sweep file (sweep.json, a point, sweep.arrow), whole or not at all. */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  writeFileAtomic('--out', file, data);
}

/** `<name>.tmp-<pid>` of a process no longer running (a temporary of a live one is never touched). */
function isStaleTemporary(name: string): boolean {
  const m = /\.tmp-(\d+)$/.exec(name);
  return m !== null && !isAlive(Number(m[1]));
}

/** Removes what killed runs left in a sweep folder: points/*.tmp-*, sweep.*.tmp-* and --keep-runs folders runs/*.tmp-*; returns their paths. */
export function removeStaleTemporaries(dir: string): string[] {
  const removed: string[] = [];
  for (const sub of [dir, join(dir, 'points'), join(dir, 'runs')]) {
    if (!existsSync(sub)) continue;
    for (const name of readdirSync(sub).filter(isStaleTemporary)) {
      rmSync(join(sub, name), { recursive: true, force: true });
      removed.push(join(sub, name));
    }
  }
  return removed;
}

/** `where` names the folder's role in errors: `--out`, or `sweep merge` for an input folder. */
export function readManifest(dir: string, where = '--out'): SweepManifest | undefined {
  const file = join(dir, SWEEP_JSON);
  if (!existsSync(file)) return undefined;
  const text = withPath(where, 'read', file, () => readFileSync(file, 'utf8'));
  try {
    const m = JSON.parse(text) as SweepManifest;
    if (m.format !== 'infersim-sweep') throw new Error('not a sweep manifest');
    return m;
  } catch {
    throw new InfersimError(`${where}: ${file} is not an infersim sweep.json`);
  }
}

const shardText = (s: Shard | null | undefined): string => (s ? `shard ${s.k}/${s.n}` : 'the whole sweep');

/**
 * Prepares `dir` for the sweep: creates it, refuses a folder holding anything else or another
 * sweep (a changed scenario file, overrides or grid would mix results), removes temporary files
 * a killed run left, and writes sweep.json.
 */
export function openSweepDir(dir: string, plan: SweepPlan, shard: Shard | null): void {
  const stat = withPath('--out', 'use', dir, () => (existsSync(dir) ? statSync(dir) : undefined));
  if (stat !== undefined) {
    if (!stat.isDirectory()) throw fieldError('--out', 'exists and is not a folder', dir);
    checkSweepDir(dir, plan, shard);
  }
  const created = withPath('--out', 'create', dir, () => makeFolders(join(dir, 'points')));
  try {
    withPath('--out', 'clean', dir, () => removeStaleTemporaries(dir));
    writeAtomic(join(dir, SWEEP_JSON), JSON.stringify(manifestFor(plan, shard), null, 2) + '\n');
  } catch (err) {
    // A folder this call made holds nothing of value yet: it goes, as a failed run leaves nothing.
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    throw err;
  }
}

/** Refuses a folder holding anything else, another sweep, or another shard of this one. */
function checkSweepDir(dir: string, plan: SweepPlan, shard: Shard | null): void {
  const old = readManifest(dir);
  const names = withPath('--out', 'read', dir, () => readdirSync(dir));
  const foreign = names.filter((f) => !OWN.has(f) && !f.startsWith(`${SWEEP_JSON}.tmp-`) && !f.startsWith(`${SWEEP_ARROW}.tmp-`));
  if (old === undefined && foreign.length > 0) {
    throw fieldError('--out', `holds files that are not sweep output (${foreign.slice(0, 3).join(', ')}); choose another folder`, dir);
  }
  if (old !== undefined && old.fingerprint !== plan.fingerprint) {
    throw fieldError(
      '--out',
      'holds a different sweep (its scenario, --set/--seed, grid, mode, the files it reads or the infersim version differ); choose another folder or delete it',
      dir,
    );
  }
  if (old !== undefined && old.merged_from === undefined && (old.shard?.k !== shard?.k || old.shard?.n !== shard?.n)) {
    throw fieldError(
      '--out',
      `holds ${shardText(old.shard)} of this sweep, not ${shardText(shard)}; give ${old.shard ? `--shard ${old.shard.k}/${old.shard.n}` : 'no --shard'} to resume it, or choose another folder`,
      dir,
    );
  }
}

/** The record of a finished point (ok or failed; a crashed point is never recorded). */
export function recordFor(plan: SweepPlan, o: PointOutcome & { status: 'ok' | 'failed' }): PointRecord {
  return {
    plan: plan.fingerprint,
    index: o.index,
    values: plan.values[o.index],
    status: o.status,
    error: o.error,
    metrics: o.metrics,
    max_rate: o.maxRate,
    wall_s: o.wall_s,
  };
}

export function pointFile(dir: string, index: number): string {
  return join(dir, 'points', `${index}.json`);
}

export function writePoint(dir: string, record: PointRecord): void {
  writeAtomic(pointFile(dir, record.index), JSON.stringify(record) + '\n');
}

/** The finished points in `dir` that belong to sweep `fingerprint` (anything else there is ignored). */
export function readPoints(dir: string, fingerprint: string, total: number): Map<number, PointRecord> {
  const found = new Map<number, PointRecord>();
  const points = join(dir, 'points');
  if (!existsSync(points)) return found;
  for (const name of readdirSync(points)) {
    const m = /^(\d+)\.json$/.exec(name);
    if (!m) continue;
    let record: PointRecord;
    try {
      record = JSON.parse(readFileSync(join(points, name), 'utf8')) as PointRecord;
    } catch {
      continue;
    }
    const index = Number(m[1]);
    if (record.plan === fingerprint && record.index === index && index < total) found.set(index, record);
  }
  return found;
}

/** Builds sweep.arrow (apache-arrow is loaded here, on first use, not at the CLI's start). */
export async function writeSweepArrow(dir: string, plan: SweepPlan, records: readonly PointRecord[]): Promise<string> {
  const { sweepTableBytes } = await import('./table.js');
  const file = join(dir, SWEEP_ARROW);
  writeAtomic(file, sweepTableBytes(plan, records));
  return file;
}
