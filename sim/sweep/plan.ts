import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfersimError } from '../errors.js';
import { loadScenario } from '../setup/load.js';
import { isProfilePath } from '../scenario/paths.js';
import type { ScenarioInput } from '../scenario/types.js';
import { combineGrid, expandGrid, keyKind, type KeyKind, type SweptList } from './grid.js';
import type { MetricName } from './record.js';
import { latencyMetricFor } from './report.js';

export const RATE_KEY = 'workload.arrival.rate_per_s';

export interface FindMaxRate {
  /** SLO attainment the rate must keep (0..1]. */
  target: number;
  /** Relative width of the final bracket: (high − low) ÷ low ≤ precision. */
  precision: number;
}

export interface SweepOptions {
  scenario: string;
  grid?: SweptList[];
  zip?: SweptList[];
  /** `--set` overrides applied to every point before its swept values. */
  set?: string[];
  seed?: number;
  findMaxRate?: FindMaxRate;
  cwd?: string;
}

/** A sweep, fully determined before any point runs. */
export interface SweepPlan {
  /** Absolute path of the scenario file. */
  scenario: string;
  set: string[];
  seed: number | null;
  keys: string[];
  kinds: KeyKind[];
  /** `values[i]` = point i's values, aligned with `keys`. */
  values: unknown[][];
  grid: Record<string, unknown[]>;
  zip: Record<string, unknown[]>;
  findMaxRate: FindMaxRate | null;
  /** The Pareto front's latency axis (from the scenario's SLO) and whether the scenario has an SLO. */
  latency: MetricName;
  slo: boolean;
  /**
   * Hash of what decides every point's result: infersim's version, every point's resolved
   * scenario (file, `--set`/`--seed`, swept values; paths absolute), the size and modification
   * time of the files they read, and the mode. Point files, shards and reruns must carry the
   * same one.
   */
  fingerprint: string;
}

/** A plan and every point's scenario (all points, whatever the shard: the fingerprint covers them all). */
export interface BuiltPlan {
  plan: SweepPlan;
  /** `inputs[i]` = point i's scenario, as its worker runs it. */
  inputs: ScenarioInput[];
}

export function buildPlan(opts: SweepOptions): BuiltPlan {
  const cwd = opts.cwd ?? process.cwd();
  const set = opts.set ?? [];
  const base = loadScenario(opts.scenario, { set, seed: opts.seed, cwd });
  const grid = combineGrid(base.input.sweep, opts.grid ?? [], opts.zip ?? []);
  if (opts.seed !== undefined) {
    const swept = [...grid.zip, ...grid.grid].find((l) => l.key === 'seed');
    if (swept) {
      const where = swept.fromFile ? `the scenario's sweep.${grid.zip.includes(swept) ? 'zip' : 'grid'}` : grid.zip.includes(swept) ? '--zip' : '--grid';
      throw new InfersimError(`--seed: the sweep varies seed itself (${where} seed=${swept.values.map((v) => JSON.stringify(v)).join(',')}); drop --seed or the seed list`);
    }
  }
  const values = expandGrid(grid);
  const findMaxRate = opts.findMaxRate ?? null;
  if (findMaxRate) checkFindMaxRate(base.input, grid.keys, findMaxRate);
  const lists = [...grid.zip, ...grid.grid];
  const plan: SweepPlan = {
    scenario: base.sourcePath,
    set,
    seed: opts.seed ?? null,
    keys: grid.keys,
    kinds: grid.keys.map((_, k) => keyKind(values.map((v) => v[k]))),
    values,
    grid: Object.fromEntries(grid.grid.map((l) => [l.key, l.values])),
    zip: Object.fromEntries(grid.zip.map((l) => [l.key, l.values])),
    findMaxRate,
    latency: latencyMetricFor(base.input.slo),
    slo: Object.keys(base.input.slo ?? {}).length > 0,
    fingerprint: '',
  };
  const inputs = values.map((point) => {
    const pointValues = grid.keys.map((key, k) => ({ key: key.split('.').map((p) => p.trim()), value: point[k], fromFile: lists[k].fromFile === true }));
    const { input } = loadScenario(opts.scenario, { set, seed: opts.seed, values: pointValues, cwd });
    if (input.metrics?.uncertainty === undefined) input.metrics = { ...(input.metrics ?? {}), uncertainty: false };
    delete input.sweep;
    delete input.output;
    return input;
  });
  plan.fingerprint = fingerprint({ version: infersimVersion(), keys: plan.keys, values, findMaxRate, inputs, files: referencedFiles(inputs) });
  return { plan, inputs };
}

/** JSON that keeps what JSON.stringify would turn into null (±Infinity, NaN) distinct. */
function fingerprint(what: unknown): string {
  const text = JSON.stringify(what, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `number:${v}` : v));
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * Files the points read (model config, trace, empirical length tables, latency profile), each
 * with its size and modification time: an edited trace makes a different sweep. (A profile's
 * `base` profiles are not followed.)
 */
function referencedFiles(inputs: readonly ScenarioInput[]): [string, number | null, number | null][] {
  const paths = new Set<string>();
  for (const input of inputs) {
    if (input.model.toLowerCase().endsWith('.json')) paths.add(input.model);
    const w = input.workload;
    if (w.trace) paths.add(w.trace.path);
    for (const side of ['input_tokens', 'output_tokens'] as const) {
      const dist = w[side];
      if (dist?.dist === 'empirical') paths.add(dist.path);
    }
    const profile = input.hardware.profile;
    if (profile !== undefined && isProfilePath(profile)) paths.add(profile);
    for (const pool of input.pools ?? []) {
      if (pool.model?.toLowerCase().endsWith('.json')) paths.add(pool.model);
      const own = pool.hardware?.profile;
      if (own !== undefined && isProfilePath(own)) paths.add(own);
    }
  }
  return [...paths].sort().map((p) => {
    try {
      const st = statSync(p);
      return [p, st.size, st.mtimeMs];
    } catch {
      return [p, null, null];
    }
  });
}

let version: string | undefined;

/** infersim's version (package.json, found upwards from this module: sim/sweep/ or dist/sim/sweep/). */
export function infersimVersion(): string {
  if (version !== undefined) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'infersim') return (version = String(pkg.version));
    } catch {
      // not here; one folder up
    }
  }
  return (version = 'unknown');
}

function checkFindMaxRate(input: ScenarioInput, keys: readonly string[], f: FindMaxRate): void {
  if (!(f.target > 0 && f.target <= 1)) throw new InfersimError(`--target: must be > 0 and ≤ 1 (a fraction of requests meeting the SLO), got ${f.target}`);
  if (keys.includes(RATE_KEY)) {
    throw new InfersimError(`--find-max-rate searches ${RATE_KEY} itself; leave it out of the grid`);
  }
  const arrival = input.workload.arrival;
  if (arrival === undefined || !('rate_per_s' in arrival) || input.workload.trace !== undefined || input.workload.concurrency !== undefined) {
    throw new InfersimError(
      `--find-max-rate needs an open-loop generated load with ${RATE_KEY} (workload.arrival.process poisson, gamma or constant)` +
        `; this scenario has ${input.workload.trace ? 'a trace' : input.workload.concurrency !== undefined ? 'a closed loop (workload.concurrency)' : `arrival ${arrival?.process ?? 'none'}`}`,
    );
  }
  if (typeof arrival.rate_per_s !== 'number') {
    throw new InfersimError(`--find-max-rate searches one constant rate; ${RATE_KEY} here varies in time (a schedule or a sinusoid)`);
  }
  const slo = input.slo ?? {};
  if (slo.ttft_ms === undefined && slo.tpot_ms === undefined && slo.e2e_ms === undefined) {
    throw new InfersimError('--find-max-rate needs an SLO to attain: give slo.ttft_ms, slo.tpot_ms or slo.e2e_ms in the scenario (or --set slo.ttft_ms=…)');
  }
}
