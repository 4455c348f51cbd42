import { extname } from 'node:path';
import YAML, { isMap, isPair, isScalar, isSeq } from 'yaml';
import { fieldError, formatValue, InfersimError } from '../errors.js';
import { readText } from '../io/readText.js';

const FORMATS: Record<string, 'yaml' | 'json'> = { '.yaml': 'yaml', '.yml': 'yaml', '.json': 'json' };

/** A hand-written scenario is a few kilobytes; a generated sweep grid may be large, but not this. */
export const MAX_SCENARIO_BYTES = 16 * 1024 * 1024;

/**
 * Deeper nesting is no scenario, and later steps (validation, copying) recurse: capping it here
 * turns a stack overflow anywhere downstream into one clear message.
 */
export const MAX_DEPTH = 100;

/** Reads a scenario file (format chosen by extension) into plain data; `file` is absolute. */
export function readScenarioFile(file: string): unknown {
  return readConfigFile(file, 'scenario', MAX_SCENARIO_BYTES);
}

/**
 * Reads any of the project's input files (a scenario, a plan, a training file: `field` names it in
 * messages) by extension, YAML or JSON, with the same checks: syntax, duplicate keys, depth, aliases.
 */
export function readConfigFile(file: string, field: string, max_bytes: number): unknown {
  const format = FORMATS[extname(file).toLowerCase()];
  if (!format) throw fieldError(field, `file must end in ${Object.keys(FORMATS).join(', ')}`, file);
  const source = readText(file, field, max_bytes);
  return format === 'yaml' ? parseYaml(file, source, field) : parseJsonText(source, file, field);
}

export const TOO_DEEP = `nested deeper than ${MAX_DEPTH} levels`;

/** Whether plain data (lists and mappings) nests deeper than MAX_DEPTH; iterative, so any depth is safe to ask about. */
export function nestedTooDeep(value: unknown): boolean {
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_DEPTH) return true;
    for (const child of Object.values(node)) stack.push({ node: child, depth: depth + 1 });
  }
  return false;
}

function parseYaml(file: string, source: string, field: string): unknown {
  // Merge keys (`<<: *defaults`) are common in hand-written configs, though not in YAML 1.2 core.
  // The parser's own duplicate-key check scans every earlier key of the mapping for each key
  // (20,000 keys took 21 s); yamlStructureProblem does it with a Set instead.
  // resolveKnownTags off: YAML 1.1's !!timestamp and !!binary would become a Date or bytes, values no
  // key takes and no message can show; as plain strings they are refused like any other wrong value.
  const doc = YAML.parseDocument(source, { merge: true, uniqueKeys: false, resolveKnownTags: false });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    // The parser recurses per level and reports the overflow as an error of its own.
    const reason = error.code === 'RESOURCE_EXHAUSTION' && /call stack/i.test(error.message) ? TOO_DEEP : firstLine(error.message);
    throw syntaxError(file, at?.line, at?.col, 'YAML', reason, field);
  }
  const problem = yamlStructureProblem(doc.contents);
  if (problem !== undefined) {
    const at = lineCol(source, problem.offset);
    throw syntaxError(file, at.line, at.col, 'YAML', problem.reason, field);
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // e.g. an alias bomb: well-formed, but refused when expanded.
    const reason = err instanceof RangeError ? TOO_DEEP : (err as Error).message;
    throw syntaxError(file, undefined, undefined, 'YAML', reason, field);
  }
  // An alias inside the node it names (`&a { b: *a }`) expands into a cycle: endless depth.
  if (nestedTooDeep(value)) throw syntaxError(file, undefined, undefined, 'YAML', `${TOO_DEEP} once aliases are expanded (an alias inside its own anchor?)`, field);
  return value;
}

interface StructureProblem {
  offset: number;
  reason: string;
}

/** A duplicate key or a collection deeper than MAX_DEPTH, found without recursion. */
function yamlStructureProblem(root: unknown): StructureProblem | undefined {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_DEPTH) return { offset: node.range?.[0] ?? 0, reason: TOO_DEEP };
    // Scalar keys compare by value, as the parser would; merge keys (`<<`) are distinct symbols.
    const keys = new Set<unknown>();
    for (const item of node.items) {
      if (!isPair(item)) {
        stack.push({ node: item, depth: depth + 1 });
        continue;
      }
      if (isScalar(item.key)) {
        if (keys.has(item.key.value)) return { offset: item.key.range?.[0] ?? 0, reason: `duplicate key ${formatValue(item.key.value)}` };
        keys.add(item.key.value);
      }
      stack.push({ node: item.value, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * JSON as strictly as YAML is read: a syntax error, a duplicate key or deep nesting is
 * `<field>: <file>:<line>:<col>: invalid JSON: <reason>`. Other JSON files (a model's config.json) use it too.
 */
export function parseJsonText(source: string, file: string, field: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    const message = (err as Error).message;
    const at = jsonErrorPosition(source, message);
    const reason = message.replace(/ in JSON at position \d+[\s\S]*$/, '').replace(/, [\s\S]* is not valid JSON$/, '');
    throw syntaxError(file, at?.line, at?.col, 'JSON', reason, field);
  }
  const problem = jsonStructureProblem(source);
  if (problem !== undefined) {
    const at = lineCol(source, problem.offset);
    throw syntaxError(file, at.line, at.col, 'JSON', problem.reason, field);
  }
  return value;
}

const [QUOTE, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = [...'"{}[]'].map((c) => c.charCodeAt(0));

/**
 * What JSON.parse lets through: a duplicate key (it keeps the last one silently; YAML refuses, and
 * so must a JSON scenario) and nesting deeper than MAX_DEPTH. `source` is valid JSON, so a string
 * followed by ":" is a key and brackets outside strings are structure.
 */
function jsonStructureProblem(source: string): StructureProblem | undefined {
  const open: (Set<string> | undefined)[] = [];
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(source, i);
      const keys = open[open.length - 1];
      if (keys !== undefined && source[afterSpace(source, end + 1)] === ':') {
        const raw = source.slice(i, end + 1);
        const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (keys.has(key)) return { offset: i, reason: `duplicate key ${formatValue(key)}` };
        keys.add(key);
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      open.push(c === OPEN_BRACE ? new Set() : undefined);
      if (open.length > MAX_DEPTH) return { offset: i, reason: TOO_DEEP };
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) open.pop();
  }
  return undefined;
}

/** Index of the quote closing the string that opens at `start`. */
function stringEnd(source: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const quote = source.indexOf('"', i);
    let backslashes = 0;
    while (source[quote - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) return quote;
    i = quote + 1;
  }
}

function afterSpace(source: string, from: number): number {
  let i = from;
  while (i < source.length && ' \t\r\n'.includes(source[i])) i++;
  return i;
}

/** V8 gives an offset for most JSON errors but not all; YAML's JSON schema locates the rest. */
function jsonErrorPosition(source: string, message: string): { line: number; col: number } | undefined {
  const offset = /at position (\d+)/.exec(message)?.[1];
  if (offset !== undefined) return lineCol(source, Number(offset));
  if (message.includes('Unexpected end of JSON input')) return lineCol(source, source.length);
  return YAML.parseDocument(source, { schema: 'json' }).errors[0]?.linePos?.[0];
}

function lineCol(source: string, offset: number): { line: number; col: number } {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

function syntaxError(file: string, line: number | undefined, col: number | undefined, kind: string, reason: string, field = 'scenario') {
  const where = line === undefined ? file : `${file}:${line}:${col}`;
  return new InfersimError(`${field}: ${where}: invalid ${kind}: ${reason}`);
}
