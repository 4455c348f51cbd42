import { z } from 'zod';
import { InfersimError, didYouMean, formatValue, shownText } from '../errors.js';

/** Every problem found, one line each; `message` holds the first plus a count of the rest. */
export class ScenarioValidationError extends InfersimError {
  constructor(readonly problems: readonly string[]) {
    const more = problems.length - 1;
    super(problems[0] + (more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : ''));
  }
}

type Path = (string | number)[];

interface Problem {
  path: Path;
  text: string;
}

/**
 * Turns zod's issues into `<dotted.path>: <what is allowed>, got <value>` lines, ordered as the
 * keys appear in the user's document (zod reports in schema order, which the user never sees).
 */
export function toValidationError(error: z.ZodError, data: unknown, schema: z.ZodTypeAny): ScenarioValidationError {
  const problems = error.issues.flatMap((issue) => describe(issue, data, schema));
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = dotted(p.path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const positions = new KeyPositions();
  const ranked = unique.map((p) => ({ p, rank: documentRank(data, p.path, positions) }));
  ranked.sort((a, b) => compareRanks(a.rank, b.rank));
  return new ScenarioValidationError(ranked.map(({ p }) => `${dotted(p.path)}: ${p.text}`));
}

const MAX_GUESSES = 20;

function describe(issue: z.ZodIssue, data: unknown, schema: z.ZodTypeAny): Problem[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(schema, path, data);
    return issue.keys.map((key, i) => {
      // Guessing costs an edit distance per allowed key; past the first few the message shows only a count.
      const guess = i < MAX_GUESSES ? didYouMean(key, allowed) : undefined;
      const hint = guess ? ` (did you mean ${JSON.stringify(guess)}?)` : '';
      return { path: [...path, key], text: `unknown key${hint}; allowed: ${allowed.join(', ')}` };
    });
  }
  const value = lookup(data, path);
  if (!value.present) {
    return [{ path, text: `required${requiredHint(issue)}` }];
  }
  return [{ path, text: `${allowedText(issue)}, got ${formatValue(value.value)}` }];
}

/** What a missing key should hold, so the user need not look it up. */
function requiredHint(issue: z.ZodIssue): string {
  if (issue.code === 'invalid_union_discriminator') return `; one of ${issue.options.join(', ')}`;
  if (issue.code === 'custom') return ` (${issue.message})`;
  if (issue.code === 'invalid_type' && issue.expected === 'object') return ' (a mapping)';
  return '';
}

function allowedText(issue: z.ZodIssue): string {
  switch (issue.code) {
    case 'custom':
      return issue.message;
    case 'invalid_union_discriminator':
      return `must be one of ${issue.options.join(', ')}`;
    case 'invalid_type':
      if (issue.expected === 'object') return 'must be a mapping';
      return issue.expected === 'array' ? 'must be a list' : `must be of type ${issue.expected}`;
    case 'too_small':
      // Lists (priority classes) are the only sized values the schema does not check itself.
      return issue.type === 'array' ? `must list at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}` : `must be ≥ ${issue.minimum}`;
    default:
      // Unreachable with our schema (leaves are custom); keep some text rather than zod's prose.
      return `is invalid (${issue.code})`;
  }
}

/** `workload.priority.classes[0].weight`: list indices in brackets. */
function dotted(path: Path): string {
  if (path.length === 0) return 'scenario';
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? shownText(key) : `.${shownText(key)}`)).join('');
}

function lookup(data: unknown, path: Path): { present: boolean; value?: unknown } {
  let node = data;
  for (const key of path) {
    if ((!isRecord(node) && !Array.isArray(node)) || !Object.prototype.hasOwnProperty.call(node, key)) return { present: false };
    node = (node as Record<string | number, unknown>)[key];
  }
  return { present: node !== undefined, value: node };
}

/** Each mapping's key order, computed once: 20,000 unknown keys would otherwise cost 20,000 scans of 20,000 keys. */
class KeyPositions {
  private readonly byNode = new WeakMap<object, Map<string, number>>();

  of(node: Record<string, unknown>, key: string): number {
    let positions = this.byNode.get(node);
    if (positions === undefined) {
      positions = new Map(Object.keys(node).map((k, i) => [k, i]));
      this.byNode.set(node, positions);
    }
    return positions.get(key) ?? -1;
  }
}

/** Position of each path segment among its siblings; missing keys sort after present ones. */
function documentRank(data: unknown, path: Path, positions: KeyPositions): number[] {
  const rank: number[] = [];
  let node = data;
  for (const key of path) {
    const index = isRecord(node) ? positions.of(node, String(key)) : -1;
    if (index < 0) {
      rank.push(Infinity);
      break;
    }
    rank.push(index);
    node = (node as Record<string, unknown>)[key];
  }
  return rank;
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  // A parent's own problem (e.g. "required" on a missing mapping) precedes its children's.
  return a.length - b.length;
}

/** The keys the schema accepts at `path`, following discriminated unions by the data's tag. */
function allowedKeys(schema: z.ZodTypeAny, path: Path, data: unknown): string[] {
  let node: z.ZodTypeAny | undefined = schema;
  let value = data;
  for (const key of [...path, undefined]) {
    node = unwrap(node, value);
    if (key === undefined) break;
    if (typeof key === 'number' && node instanceof z.ZodArray) {
      node = node.element as z.ZodTypeAny;
      value = Array.isArray(value) ? value[key] : undefined;
      continue;
    }
    if (!(node instanceof z.ZodObject)) return [];
    node = node.shape[key] as z.ZodTypeAny | undefined;
    value = isRecord(value) ? value[key] : undefined;
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function unwrap(node: z.ZodTypeAny | undefined, value: unknown): z.ZodTypeAny | undefined {
  for (;;) {
    if (node instanceof z.ZodOptional) node = node.unwrap();
    else if (node instanceof z.ZodEffects) node = node.innerType();
    else if (node instanceof z.ZodDiscriminatedUnion) {
      const tag = isRecord(value) ? value[node.discriminator] : undefined;
      node = node.optionsMap.get(tag as never);
    } else return node;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
