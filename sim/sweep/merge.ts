import { join, resolve } from 'node:path';
import { InfersimError } from '../errors.js';
import { formatReport } from './report.js';
import { shardIndices } from './run.js';
import type { SweepPlan } from './plan.js';
import type { PointRecord } from './record.js';
import { manifestFor, openSweepDir, planFromManifest, readManifest, readPoints, writeAtomic, writePoint, writeSweepArrow } from './store.js';

export interface MergeResult {
  dir: string;
  plan: SweepPlan;
  records: PointRecord[];
  arrow: string;
  report: string;
}

/**
 * Combines sweep folders (shards, or partial runs) of one sweep into `out`: their point files
 * are copied into `out/points` and sweep.arrow is built from them, so it equals a single-machine
 * run's except for wall_s. Refuses folders of different sweeps and an incomplete union.
 */
export async function mergeSweeps(dirs: readonly string[], out: string, cwd = process.cwd()): Promise<MergeResult> {
  if (dirs.length === 0) throw new InfersimError('sweep merge: give the sweep folders to combine');
  const folders = dirs.map((d) => resolve(cwd, d));
  const manifests = folders.map((dir) => {
    const m = readManifest(dir, 'sweep merge');
    if (m === undefined) throw new InfersimError(`sweep merge: ${dir} has no sweep.json (not a sweep output folder)`);
    return m;
  });
  const first = manifests[0];
  manifests.forEach((m, i) => {
    if (m.fingerprint !== first.fingerprint) {
      throw new InfersimError(
        `sweep merge: ${folders[i]} holds a different sweep than ${folders[0]} (scenario, --set/--seed, grid, mode, the files it reads or the infersim version differ: plan ${m.fingerprint} vs ${first.fingerprint})`,
      );
    }
  });
  const plan = planFromManifest(first);
  const records = new Map<number, PointRecord>();
  for (const dir of folders) {
    for (const [i, r] of readPoints(dir, plan.fingerprint, plan.values.length)) if (!records.has(i)) records.set(i, r);
  }
  const all = shardIndices(plan.values.length, null);
  const missing = all.filter((i) => !records.has(i));
  if (missing.length > 0) {
    const shards = manifests.map((m) => (m.shard ? `${m.shard.k}/${m.shard.n}` : 'all')).join(', ');
    throw new InfersimError(
      `sweep merge: ${missing.length} of ${all.length} points are in none of the folders (first: ${missing.slice(0, 5).join(', ')}); ` +
        `shards given: ${shards}; run the missing shards (or rerun an interrupted one) and merge again`,
    );
  }
  const dir = resolve(cwd, out);
  openSweepDir(dir, plan, null);
  const ordered = all.map((i) => records.get(i) as PointRecord);
  for (const r of ordered) writePoint(dir, r);
  writeAtomic(join(dir, 'sweep.json'), JSON.stringify({ ...manifestFor(plan, null), merged_from: folders }, null, 2) + '\n');
  const arrow = await writeSweepArrow(dir, plan, ordered);
  const report = formatReport(ordered, { keys: plan.keys, latency: plan.latency, slo: plan.slo, findMaxRate: plan.findMaxRate !== null });
  return { dir, plan, records: ordered, arrow, report };
}
