import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { z } from 'zod';
import { fileURLToPath } from 'node:url';
import { didYouMean, formatValue, InfersimError, unknownNameError } from '../../errors.js';
import { DEFAULT_EFFICIENCY } from '../efficiency.js';
import { MAX_PROFILE_TIME_S, profileSchema, type Profile } from './schema.js';
import { isProfilePath } from '../../scenario/paths.js';
import { parseJsonText } from '../../scenario/read.js';
import { readText } from '../../io/readText.js';

/** The largest shipped profile is under 1 MiB; a measured full grid stays well below this. */
const MAX_PROFILE_BYTES = 64 * 1024 * 1024;

/** The shipped profiles folder, from the sources (sim/latency/profile) or the build (dist/sim/latency/profile). */
export const PROFILES_DIR: string = (() => {
  const candidates = ['../../../profiles/', '../../../../profiles/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0];
})();

export interface LoadedProfile {
  profile: Profile;
  /** The shipped name (file name without .json) or the path it was read from. */
  ref: string;
}

/** Shipped profile names, sorted: `<gpu>.<source>` for every file in profiles/. */
export function shippedProfileNames(): string[] {
  if (!existsSync(PROFILES_DIR)) return [];
  return readdirSync(PROFILES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

// Parsed profiles by file and modification time: sweeps and band re-runs read each file once per process.
const cache = new Map<string, LoadedProfile>();
// Profiles whose base is being loaded: a base chain that comes back to one of them is a cycle.
const resolving = new Set<string>();

/** Knobs that are fractions of a datasheet peak: (0, 1]. Every other number is a time or a count: ≥ 0. */
const FRACTION_KNOBS = new Set(['gemm_compute', 'gemm_memory', 'attention_prefill_compute', 'elementwise_memory', 'all_reduce_link']);

/** Kernels one layer launches, bounded far above the tens a transformer layer runs. */
const MAX_KERNELS_PER_LAYER = 10_000;

/** One line per problem with an efficiency knob: unknown name, wrong type, out of range. */
function checkEfficiency(efficiency: Record<string, unknown>): string | undefined {
  const known = Object.keys(DEFAULT_EFFICIENCY);
  for (const [key, value] of Object.entries(efficiency)) {
    if (!known.includes(key)) {
      const guess = didYouMean(key, known);
      return `efficiency.${key}: unknown knob${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}; known: ${known.join(', ')}`;
    }
    if (key === 'decode_attention_memory_by_block_size') {
      const table = value as Record<string, unknown>;
      if (typeof value !== 'object' || value === null || Object.keys(table).length === 0) {
        return `efficiency.${key}: must map block sizes to fractions in (0, 1], e.g. {"16": 0.55}, got ${formatValue(value)}`;
      }
      for (const [size, f] of Object.entries(table)) {
        if (!/^[1-9][0-9]*$/.test(size)) return `efficiency.${key}: keys must be block sizes (positive integers), got ${JSON.stringify(size)}`;
        if (typeof f !== 'number' || !(f > 0 && f <= 1)) return `efficiency.${key}.${size}: must be a fraction in (0, 1], got ${formatValue(f)}`;
      }
      continue;
    }
    if (typeof value !== 'number') return `efficiency.${key}: must be a number, got ${formatValue(value)}`;
    if (FRACTION_KNOBS.has(key) && !(value > 0 && value <= 1)) return `efficiency.${key}: must be a fraction of the peak in (0, 1], got ${value}`;
    if (key === 'kernels_per_layer' && !(value > 0)) return `efficiency.${key}: must be > 0, got ${value}`;
    if (key.endsWith('_s') && value > MAX_PROFILE_TIME_S) {
      return `efficiency.${key}: must be ≤ ${MAX_PROFILE_TIME_S} s (no kernel or step cost takes an hour), got ${value}`;
    }
    if (key === 'kernels_per_layer' && value > MAX_KERNELS_PER_LAYER) {
      return `efficiency.${key}: must be ≤ ${MAX_KERNELS_PER_LAYER} (a transformer layer launches tens of kernels), got ${value}`;
    }
  }
  return undefined;
}

/** `path.to.key: message, got value` for each zod issue; the first is reported. */
function schemaProblem(error: z.ZodError, data: unknown): string {
  const issue = error.issues[0];
  let value: unknown = data;
  for (const part of issue.path) value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[part] : undefined;
  const where = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(top level)';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  const got = value === undefined ? '' : `, got ${formatValue(value)}`;
  return `${where}: ${issue.message}${got}${more}`;
}

/** Reads and validates a profile file; errors name the file and the offending key. */
export function readProfileFile(path: string, field = 'profile'): Profile {
  // readText refuses a FIFO, a device or a folder (a FIFO as hardware.profile used to hang the
  // run) and bounds the size; parseJsonText refuses duplicate keys and deep nesting as scenarios do.
  const text = readText(path, field, MAX_PROFILE_BYTES);
  const data = parseJsonText(text, path, field);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InfersimError(`${field}: ${basename(path)}: a profile is a JSON object (see profiles/README.md), got ${Array.isArray(data) ? 'an array' : formatValue(data)}`);
  }
  const parsed = profileSchema.safeParse(data);
  if (!parsed.success) throw new InfersimError(`${field}: ${basename(path)}: ${schemaProblem(parsed.error, data)}`);
  const problem = checkEfficiency(parsed.data.efficiency ?? {});
  if (problem) throw new InfersimError(`${field}: ${basename(path)}: ${problem}`);
  return parsed.data;
}

/**
 * The profile a reference names, checked against the GPU it will time: a profile measured on one
 * GPU model says nothing reliable about another.
 */
export function loadProfile(ref: string, gpu: string, field = 'hardware.profile', gpuField = 'hardware.gpu'): LoadedProfile {
  let path: string;
  if (isProfilePath(ref)) {
    path = resolve(ref);
  } else {
    const names = shippedProfileNames();
    if (!names.includes(ref)) throw unknownNameError(field, ref, names);
    path = `${PROFILES_DIR}${ref}.json`;
  }
  // Keyed by the file and its modification time: a profile rewritten in the same process is read again.
  let mtime = 0;
  try {
    mtime = statSync(path).mtimeMs;
  } catch {
    // readProfileFile reports the missing file.
  }
  const key = `${path}\u0000${mtime}\u0000${gpu}\u0000${ref}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const profile = readProfileFile(path, field);
  if (profile.gpu.catalog !== gpu) {
    throw new InfersimError(
      `${field}: ${JSON.stringify(ref)} is a profile of ${profile.gpu.catalog}, but ${gpuField} is ${gpu}; ` +
        `pick a profile of ${gpu} (shipped: ${shippedProfileNames().filter((n) => n.startsWith(gpu + '.')).join(', ') || 'none'})`,
    );
  }
  let merged = profile;
  if (profile.base !== undefined) {
    if (isProfilePath(profile.base) || profile.base === ref) {
      throw new InfersimError(`${field}: ${JSON.stringify(ref)}: base must name another shipped profile, got ${JSON.stringify(profile.base)}`);
    }
    if (resolving.has(profile.base)) {
      throw new InfersimError(`${field}: ${JSON.stringify(ref)}: base profiles form a cycle: ${[...resolving, ref, profile.base].join(' → ')}`);
    }
    // The base's own coefficients (and its base's) first, this profile's over them.
    resolving.add(ref);
    let base: Profile;
    try {
      base = loadProfile(profile.base, gpu, `${field} (base of ${ref})`).profile;
    } finally {
      resolving.delete(ref);
    }
    // Key by key: what this profile states wins, the rest comes from the base.
    merged = {
      ...profile,
      efficiency: { ...(base.efficiency ?? {}), ...(profile.efficiency ?? {}) },
      ...(base.scalars || profile.scalars ? { scalars: { ...(base.scalars ?? {}), ...(profile.scalars ?? {}) } } : {}),
      ...(base.uncertainty || profile.uncertainty ? { uncertainty: { ...(base.uncertainty ?? {}), ...(profile.uncertainty ?? {}) } } : {}),
    };
  }
  const loaded = { profile: merged, ref };
  cache.set(key, loaded);
  return loaded;
}

/**
 * Preference when a scenario names no profile: the one with the best end-to-end evidence first.
 * Fitted coefficients predict whole iterations best today: vLLM's A100 latency test within 1.8 %,
 * and our probe's fused Llama-3.1-8B iterations on H100 within +3 % / −6 % at decode batch 1 and
 * 64, where our probe's own operator tables, timed one kernel at a time with a flushed L2, come out
 * +21 % / +9 % (small kernels look slower alone than inside a graph). So: fitted, then measured,
 * then a fitted sibling's coefficients transferred to this GPU (transfer.ts: same silicon, other
 * memory), then datasheet figures. A transferred profile beats the analytic one because comparing a
 * GPU with its fitted sibling then differs only by the datasheets (memory bandwidth), not by which
 * evidence each one's coefficients come from. Any profile stays selectable by name.
 */
const PREFERENCE = ['fitted', 'measured', 'transferred', 'analytic'] as const;

/** The best shipped profile for a GPU, or undefined when none is shipped (the built-in roofline defaults then apply). */
export function defaultProfileFor(gpu: string): LoadedProfile | undefined {
  const names = new Set(shippedProfileNames());
  for (const source of PREFERENCE) {
    const name = `${gpu}.${source}`;
    if (names.has(name)) return loadProfile(name, gpu);
  }
  return undefined;
}
