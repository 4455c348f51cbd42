import YAML from 'yaml';
import { fieldError, formatValue, InfersimError, shownText } from '../errors.js';
import { nestedTooDeep, TOO_DEEP } from './read.js';

export interface Override {
  /** Key path, e.g. ["engine", "max_num_seqs"]. */
  key: string[];
  value: unknown;
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

/** Writes each override into `doc` in order, creating (or replacing non-mapping) parents as needed. */
export function applyOverrides(doc: Record<string, unknown>, overrides: readonly Override[]): void {
  for (const { key, value } of overrides) {
    let node = doc;
    for (const part of key.slice(0, -1)) {
      const next = Object.prototype.hasOwnProperty.call(node, part) ? node[part] : undefined;
      if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
        node = next as Record<string, unknown>;
      } else {
        node = define(node, part, {}) as Record<string, unknown>;
      }
    }
    define(node, key[key.length - 1], value);
  }
}

// Plain assignment to "__proto__" would change the prototype instead of adding a key the
// schema can reject; define an own property so such a key shows up as unknown like any other.
function define(target: Record<string, unknown>, key: string, value: unknown): unknown {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}
