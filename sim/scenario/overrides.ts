import YAML from 'yaml';
import { fieldError, formatValue, InfersimError, shownText } from '../errors.js';
import { MAX_DEPTH, nestedTooDeep, TOO_DEEP } from './read.js';

export interface Override {
  /** Key path, e.g. ["engine", "max_num_seqs"]. */
  key: string[];
  value: unknown;
}

/**
 * Flow nesting past which a value is refused before the YAML parser sees it. The parser recurses
 * per level (its stack overflowed past ~700–1,000 levels here) and that overflow was caught as the
 * refusal, but a second parse of such a value in the same process (the run thread reads the
 * scenario once ahead of the parsed command line, then again) overflowed inside V8's
 * regular-expression compiler, which aborts the process. Twice MAX_DEPTH: values nested up to it
 * are parsed and refused by `nestedTooDeep`, as before.
 */
const PARSE_DEPTH_GUARD = 2 * MAX_DEPTH;

/** Whether `[` and `{` outside quoted strings nest deeper than `limit` somewhere in `text`. */
function flowDepthOver(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") i = quotedEnd(text, i);
    else if (c === '[' || c === '{') {
      if (++depth > limit) return true;
    } else if (c === ']' || c === '}') depth--;
  }
  return false;
}

/** Where the quoted string opening at `start` ends: an unescaped " for double quotes, a ' not doubled for single ones. */
function quotedEnd(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else return i;
    }
  }
  return text.length;
}

/** Parses one `--set key.path=value`; the value is YAML so `8`, `true`, `[1,2]`, `{a: b}` keep their types. */
export function parseSet(raw: string): Override {
  const eq = raw.indexOf('=');
  if (eq < 0) throw fieldError('--set', 'expected key.path=value', raw);
  const keyText = raw.slice(0, eq).trim();
  if (keyText === '') throw fieldError('--set', 'expected key.path=value (the key is empty)', raw);
  const key = keyText.split('.');
  if (key.some((part) => part.trim() === '')) {
    throw fieldError('--set', 'expected key.path=value (the key path has an empty part)', raw);
  }
  const text = raw.slice(eq + 1);
  let value: unknown;
  if (flowDepthOver(text, PARSE_DEPTH_GUARD)) throw new InfersimError(`--set ${shownText(keyText)}: value is not valid YAML (${TOO_DEEP}), got ${formatValue(text)}`);
  try {
    // As scenario files are read (read.ts): YAML 1.1 tags such as !!timestamp stay strings.
    value = YAML.parse(text, { resolveKnownTags: false, logLevel: 'error' });
  } catch (err) {
    // The parser recurses per level: a stack overflow means deep nesting, and says so.
    const reason = err instanceof Error ? err.message.split(' at line')[0].split('\n')[0] : String(err);
    throw new InfersimError(`--set ${shownText(keyText)}: value is not valid YAML (${/call stack/i.test(reason) ? TOO_DEEP : reason}), got ${formatValue(text)}`);
  }
  if (nestedTooDeep(value)) throw new InfersimError(`--set ${shownText(keyText)}: value is ${TOO_DEEP}, got ${formatValue(text)}`);
  return { key: key.map((part) => part.trim()), value };
}

/**
 * Writes each override into `doc` in order, creating (or replacing non-mapping) parents as needed.
 * Inside a list a key part is a position (`pools.1.replicas`) or, for a list of named entries, a
 * name (`pools.a100.replicas`); a list is never replaced by a mapping.
 */
export function applyOverrides(doc: Record<string, unknown>, overrides: readonly Override[]): void {
  for (const { key, value } of overrides) {
    let node: Record<string, unknown> | unknown[] = doc;
    for (let i = 0; i < key.length - 1; i++) {
      const part = key[i];
      if (Array.isArray(node)) {
        const at = listPosition(node, key, i);
        const entry: unknown = node[at];
        node = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown> | unknown[]) : (node[at] = {});
        continue;
      }
      const next = Object.prototype.hasOwnProperty.call(node, part) ? node[part] : undefined;
      if (typeof next === 'object' && next !== null) node = next as Record<string, unknown> | unknown[];
      else node = define(node, part, {}) as Record<string, unknown>;
    }
    if (Array.isArray(node)) node[listPosition(node, key, key.length - 1)] = value;
    else define(node, key[key.length - 1], value);
  }
}

/** The entry `key[i]` names in a list: its position, or the entry whose `name` it is. */
function listPosition(list: unknown[], key: string[], i: number): number {
  const part = key[i];
  const named = list.findIndex((e) => typeof e === 'object' && e !== null && (e as { name?: unknown }).name === part);
  if (named >= 0) return named;
  if (/^\d+$/.test(part) && Number(part) < list.length) return Number(part);
  const names = list.map((e) => (e as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string');
  throw fieldError(
    `--set ${shownText(key.join('.'))}`,
    `${shownText(key.slice(0, i).join('.'))} has no entry ${shownText(part)}: give a position 0..${list.length - 1}${names.length > 0 ? ` or a name (${names.join(', ')})` : ''}`,
  );
}

// Plain assignment to "__proto__" would change the prototype instead of adding a key the
// schema can reject; define an own property so such a key shows up as unknown like any other.
function define(target: Record<string, unknown>, key: string, value: unknown): unknown {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}
