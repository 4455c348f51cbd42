import { InfersimError } from '../errors.js';
import { parseSet } from '../scenario/overrides.js';

/** One swept key and its values, as given (`--grid`/`--zip` flag or the scenario's `sweep:` section). */
export interface SweptList {
  key: string;
  values: unknown[];
  /** Declared by the scenario file's `sweep:` section: paths among the values resolve against the file's folder. */
  fromFile?: boolean;
}

/** The Arrow type a swept key's column gets, from all of its planned values (nulls aside). */
export type KeyKind = 'int64' | 'float64' | 'bool' | 'utf8';

/**
 * Dimensions of the sweep, outermost first: the zipped lists (if any) form one dimension whose
 * values advance together, then each grid key in the order given, the last varying fastest.
 */
export interface Grid {
  /** Every swept key, in column order: zipped keys, then grid keys. */
  keys: string[];
  zip: SweptList[];
  grid: SweptList[];
}

/** Keys a sweep cannot vary: the sweep itself, and where a run writes (a sweep decides that). */
const RESERVED = ['sweep', 'output'];

/**
 * `--grid engine.max_num_seqs=8,16,32` → key and typed values. Each value is parsed exactly as a
 * `--set` value is (YAML), so `8` is a number, `true` a boolean, `"8"` a string; commas inside
 * brackets, braces or quotes do not split (`--grid x=[1,2],[3,4]` gives two lists).
 */
export function parseListFlag(flag: '--grid' | '--zip', raw: string): SweptList {
  const eq = raw.indexOf('=');
  if (eq < 0) throw new InfersimError(`${flag}: expected key.path=value1,value2,…, got ${JSON.stringify(raw)}`);
  const key = raw.slice(0, eq).trim();
  checkKey(flag, key, raw);
  const items = splitTopLevel(raw.slice(eq + 1));
  if (items.some((item) => item.trim() === '')) {
    throw new InfersimError(`${flag} ${key}: expected a comma-separated list of values with none empty, got ${JSON.stringify(raw.slice(eq + 1))}`);
  }
  const values = items.map((item) => {
    try {
      return parseSet(`${key}=${item}`).value;
    } catch (err) {
      if (err instanceof InfersimError) throw new InfersimError(err.message.replace(/^--set\b/, flag));
      throw err;
    }
  });
  return { key, values };
}

/** `shown`: what the error quotes (the whole flag value for a flag, the key for the file's section). */
function checkKey(where: string, key: string, shown: string = key): void {
  const parts = key.split('.');
  if (key === '') throw new InfersimError(`${where}: expected key.path=value1,value2,… (the key is empty), got ${JSON.stringify(shown)}`);
  if (parts.some((p) => p.trim() === '')) {
    throw new InfersimError(`${where}: expected key.path=value1,value2,… (the key path has an empty part), got ${JSON.stringify(shown)}`);
  }
  if (RESERVED.includes(parts[0].trim())) {
    throw new InfersimError(`${where} ${key}: ${parts[0]}.* cannot be swept (the sweep decides where each point writes)`);
  }
}

/** Splits on commas that are not inside [], {}, or quotes. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/**
 * The scenario file's `sweep:` lists, then the flags: a flag for a key the file lists replaces
 * the file's values (in the file's position); other flags append. A key may be in grid or zip,
 * not both, and at most once among the flags.
 */
export function combineGrid(
  file: { grid?: Record<string, unknown[]>; zip?: Record<string, unknown[]> } | undefined,
  gridFlags: readonly SweptList[],
  zipFlags: readonly SweptList[],
): Grid {
  const seen = new Set<string>();
  for (const { key } of [...gridFlags, ...zipFlags]) {
    if (seen.has(key)) throw new InfersimError(`--grid/--zip ${key}: given twice`);
    seen.add(key);
  }
  const fromFile = (lists: Record<string, unknown[]> | undefined, section: string): SweptList[] =>
    Object.entries(lists ?? {}).map(([key, values]) => {
      checkKey(`sweep.${section}`, key);
      return { key, values, fromFile: true };
    });
  const merge = (base: SweptList[], flags: readonly SweptList[], others: readonly SweptList[]): SweptList[] => {
    const flagged = new Map(flags.map((l) => [l.key, l]));
    // A flag moving a key from the file's grid to zip (or back) takes it out of the file's list.
    const moved = new Set(others.map((l) => l.key));
    const kept = base.filter((l) => !moved.has(l.key)).map((l) => flagged.get(l.key) ?? l);
    return [...kept, ...flags.filter((l) => !base.some((b) => b.key === l.key))];
  };
  const grid = merge(fromFile(file?.grid, 'grid'), gridFlags, zipFlags);
  const zip = merge(fromFile(file?.zip, 'zip'), zipFlags, gridFlags);
  const both = grid.find((g) => zip.some((z) => z.key === g.key));
  if (both) throw new InfersimError(`sweep: ${both.key} is both a grid key and a zip key; list it in one of them`);
  if (zip.length > 0 && zip.some((z) => z.values.length !== zip[0].values.length)) {
    const lengths = zip.map((z) => `${z.key} has ${z.values.length}`).join(', ');
    const where = zip.every((z) => z.fromFile) ? 'sweep.zip' : zip.some((z) => z.fromFile) ? 'sweep.zip/--zip' : '--zip';
    throw new InfersimError(`${where}: zipped lists advance together and must have equal lengths: ${lengths}`);
  }
  const keys = [...zip, ...grid].map((l) => l.key);
  if (keys.length === 0) {
    throw new InfersimError('sweep: nothing to sweep; give --grid key=v1,v2 (or --zip), or a sweep: { grid: … } section in the scenario');
  }
  return { keys, zip, grid };
}

/** Every point's values (aligned with `grid.keys`), in sweep order: point index = position. */
export function expandGrid(grid: Grid): unknown[][] {
  let points: unknown[][] = [[]];
  if (grid.zip.length > 0) points = grid.zip[0].values.map((_, i) => grid.zip.map((z) => z.values[i]));
  for (const { values } of grid.grid) points = points.flatMap((p) => values.map((v) => [...p, v]));
  return points;
}

/** Column type of a swept key: integers → int64, numbers → float64, booleans, else utf8 (non-strings as JSON). */
export function keyKind(values: readonly unknown[]): KeyKind {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length > 0 && present.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) return 'int64';
  if (present.length > 0 && present.every((v) => typeof v === 'number')) return 'float64';
  if (present.length > 0 && present.every((v) => typeof v === 'boolean')) return 'bool';
  return 'utf8';
}

/** `engine.max_num_seqs=8 engine.block_size=16`, for progress lines and reports. */
export function describePoint(keys: readonly string[], values: readonly unknown[]): string {
  return keys.map((k, i) => `${k}=${typeof values[i] === 'string' ? values[i] : JSON.stringify(values[i])}`).join(' ');
}
