import { dirname, resolve } from 'node:path';
import { fieldError } from '../errors.js';
import { toValidationError } from './issues.js';
import { applyOverrides, parseSet } from './overrides.js';
import { isProfilePath, looksLikePath } from './paths.js';
import { readScenarioFile } from './read.js';
import { scenarioSchema } from './schema.js';
import type { LengthDist, PolicyNames, ScenarioInput } from './types.js';

export { ScenarioValidationError } from './issues.js';

export interface LoadOptions {
  /** `key.path=value` overrides, applied in order. */
  set?: string[];
  /** Applied after `set`: the dedicated flag wins. */
  seed?: number;
  /**
   * Already-parsed overrides (a sweep point's values), applied after `set` and `seed`. Paths in
   * them resolve against the cwd like `--set` values, except those marked `fromFile` (declared
   * by the scenario file itself, e.g. its `sweep:` section): those resolve against the file's
   * folder, like the rest of the file.
   */
  values?: { key: string[]; value: unknown; fromFile?: boolean }[];
  /** output.dir, applied after `set`. */
  out?: string;
  /** Where the command was run; file arguments and paths from flags resolve against it. */
  cwd?: string;
  /** The policy names engine.scheduler and cluster.router accept: sim/setup/load.ts passes the registries'. */
  policies: PolicyNames;
}

export interface LoadedScenario {
  input: ScenarioInput;
  /** Absolute path of the scenario file. */
  sourcePath: string;
}

/** Scenario file + command-line overrides → validated input with absolute paths. */
export function loadScenario(file: string, opts: LoadOptions): LoadedScenario {
  const cwd = opts.cwd ?? process.cwd();
  const sourcePath = resolve(cwd, file);
  const overrides: { key: string[]; value: unknown; fromFile?: boolean }[] = (opts.set ?? []).map(parseSet);
  if (opts.seed !== undefined) overrides.push({ key: ['seed'], value: opts.seed });
  for (const v of opts.values ?? []) overrides.push({ key: v.key, value: v.value, fromFile: v.fromFile });
  if (opts.out !== undefined) overrides.push({ key: ['output', 'dir'], value: opts.out });

  const raw = readScenarioFile(sourcePath) ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw fieldError('scenario', 'must be a mapping', raw);
  }
  const doc = raw as Record<string, unknown>;
  applyOverrides(doc, overrides);
  const input = parseScenarioObject(doc, opts);

  // The last override covering a path decides where it came from; none: the file.
  const fromFlags = (path: string[]): boolean => {
    const last = [...overrides].reverse().find(({ key }) => key.length <= path.length && key.every((part, i) => part === path[i]));
    return last !== undefined && last.fromFile !== true;
  };
  const absolute = (p: string, path: string[]): string => resolve(fromFlags(path) ? cwd : dirname(sourcePath), p);
  return { input: resolvePaths(input, absolute), sourcePath };
}

/**
 * Validation only (no files, no path resolution). A `null` value counts as absent, so an empty
 * `engine:` block or `--set engine.block_size=null` means "use the default".
 */
export function parseScenarioObject(obj: unknown, opts: Pick<LoadOptions, 'policies'>): ScenarioInput {
  const data = withoutNulls(obj ?? {});
  const schema = scenarioSchema(opts.policies);
  const result = schema.safeParse(data);
  if (!result.success) throw toValidationError(result.error, data, schema);
  return result.data;
}

type Absolute = (p: string, path: string[]) => string;

function resolvePaths(input: ScenarioInput, absolute: Absolute): ScenarioInput {
  const out = structuredClone(input);
  if (looksLikePath(out.model)) out.model = absolute(out.model, ['model']);
  const { workload } = out;
  if (workload.trace) workload.trace.path = absolute(workload.trace.path, ['workload', 'trace', 'path']);
  for (const side of ['input_tokens', 'output_tokens'] as const) {
    const dist: LengthDist | undefined = workload[side];
    if (dist?.dist === 'empirical') dist.path = absolute(dist.path, ['workload', side, 'path']);
  }
  const profile = out.hardware.profile;
  if (profile !== undefined && isProfilePath(profile)) out.hardware.profile = absolute(profile, ['hardware', 'profile']);
  if (out.output?.dir !== undefined) out.output.dir = absolute(out.output.dir, ['output', 'dir']);
  out.pools?.forEach((pool, i) => {
    if (pool.model !== undefined && looksLikePath(pool.model)) pool.model = absolute(pool.model, ['pools', String(i), 'model']);
    const own = pool.hardware?.profile;
    if (own !== undefined && isProfilePath(own) && pool.hardware) pool.hardware.profile = absolute(own, ['pools', String(i), 'hardware', 'profile']);
  });
  // A generated request names its model as a pool does: a config.json path must resolve the same way to match.
  workload.models?.forEach((m, i) => {
    if (looksLikePath(m.name)) m.name = absolute(m.name, ['workload', 'models', String(i), 'name']);
  });
  return out;
}

function withoutNulls(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === null) continue;
    Object.defineProperty(copy, key, { value: withoutNulls(child), enumerable: true, writable: true, configurable: true });
  }
  return copy;
}
