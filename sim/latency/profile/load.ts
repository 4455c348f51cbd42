import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { didYouMean, InfersimError, unknownNameError } from '../../errors.js';
import { DEFAULT_EFFICIENCY } from '../efficiency.js';
import { toValidationError } from '../../scenario/issues.js';
import { profileSchema, type Profile } from './schema.js';

/** The shipped profiles folder, from the sources (sim/latency/profile) or the build (dist/sim/latency/profile). */
export const PROFILES_DIR: string = (() => {
  const candidates = ['../../../profiles/', '../../../../profiles/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0];
})();

/** A reference is a path when it names a file (`.json`) or a folder; otherwise it is a shipped profile's name. */
export function isProfilePath(ref: string): boolean {
  return ref.toLowerCase().endsWith('.json') || ref.includes('/') || ref.includes('\\');
}

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

// Profiles are immutable once read: sweeps and band re-runs parse each file once per process.
const cache = new Map<string, LoadedProfile>();
// Profiles whose base is being loaded: a base chain that comes back to one of them is a cycle.
const resolving = new Set<string>();

/** Reads and validates a profile file; errors name the file and the offending key. */
export function readProfileFile(path: string, field = 'profile'): Profile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InfersimError(`${field}: cannot read ${JSON.stringify(path)} (${code === 'ENOENT' ? 'no such file' : code ?? String(err)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InfersimError(`${field}: ${path} is not valid JSON (${(err as Error).message})`);
  }
  const parsed = profileSchema.safeParse(data);
  if (!parsed.success) {
    const problem = toValidationError(parsed.error, data, profileSchema);
    throw new InfersimError(`${field}: ${basename(path)}: ${problem.message}`);
  }
  const known = Object.keys(DEFAULT_EFFICIENCY);
  for (const key of Object.keys(parsed.data.efficiency ?? {})) {
    if (!known.includes(key)) {
      const guess = didYouMean(key, known);
      throw new InfersimError(`${field}: ${basename(path)}: efficiency.${key}: unknown knob${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}; known: ${known.join(', ')}`);
    }
  }
  return parsed.data;
}

/**
 * The profile a reference names, checked against the GPU it will time: a profile measured on one
 * GPU model says nothing reliable about another.
 */
export function loadProfile(ref: string, gpu: string, field = 'hardware.profile'): LoadedProfile {
  const key = `${ref}\u0000${gpu}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let path: string;
  if (isProfilePath(ref)) {
    path = ref;
  } else {
    const names = shippedProfileNames();
    if (!names.includes(ref)) throw unknownNameError(field, ref, names);
    path = `${PROFILES_DIR}${ref}.json`;
  }
  const profile = readProfileFile(path, field);
  if (profile.gpu.catalog !== gpu) {
    throw new InfersimError(
      `${field}: ${JSON.stringify(ref)} is a profile of ${profile.gpu.catalog}, but hardware.gpu is ${gpu}; ` +
        `pick a profile of ${gpu} (shipped: ${shippedProfileNames().filter((n) => n.startsWith(gpu + '.')).join(', ') || 'none'})`,
    );
  }
  let merged = profile;
  if (profile.base !== undefined) {
    if (isProfilePath(profile.base) || profile.base === ref || resolving.has(profile.base)) {
      throw new InfersimError(`${field}: ${JSON.stringify(ref)}: base must name another shipped profile, got ${JSON.stringify(profile.base)}`);
    }
    // The base's own coefficients (and its base's) first, this profile's over them.
    resolving.add(ref);
    let base: Profile;
    try {
      base = loadProfile(profile.base, gpu, `${field} (base of ${ref})`).profile;
    } finally {
      resolving.delete(ref);
    }
    merged = { ...profile, efficiency: { ...(base.efficiency ?? {}), ...(profile.efficiency ?? {}) } };
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
 * then datasheet figures. A measured profile is used when a scenario names it.
 */
const PREFERENCE = ['fitted', 'measured', 'analytic'] as const;

/** The best shipped profile for a GPU, or undefined when none is shipped (the built-in roofline defaults then apply). */
export function defaultProfileFor(gpu: string): LoadedProfile | undefined {
  const names = new Set(shippedProfileNames());
  for (const source of PREFERENCE) {
    const name = `${gpu}.${source}`;
    if (names.has(name)) return loadProfile(name, gpu);
  }
  return undefined;
}
