import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import { fieldError, InfersimError } from '../errors.js';

const FORMATS: Record<string, 'yaml' | 'json'> = { '.yaml': 'yaml', '.yml': 'yaml', '.json': 'json' };

/** Reads a scenario file (format chosen by extension) into plain data; `file` is absolute. */
export function readScenarioFile(file: string): unknown {
  const format = FORMATS[extname(file).toLowerCase()];
  if (!format) throw fieldError('scenario', `file must end in ${Object.keys(FORMATS).join(', ')}`, file);
  const source = readText(file).replace(/^\uFEFF/, '');
  return format === 'yaml' ? parseYaml(file, source) : parseJson(file, source);
}

function readText(file: string): string {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new InfersimError(`scenario: file not found: ${file}`);
  }
  if (!isFile) throw new InfersimError(`scenario: not a file: ${file}`);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new InfersimError(`scenario: cannot read ${file}: ${(err as Error).message}`);
  }
}

function parseYaml(file: string, source: string): unknown {
  // Merge keys (`<<: *defaults`) are common in hand-written configs, though not in YAML 1.2 core.
  const doc = YAML.parseDocument(source, { merge: true });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    throw syntaxError(file, at?.line, at?.col, 'YAML', firstLine(error.message));
  }
  try {
    return doc.toJS();
  } catch (err) {
    // e.g. an alias bomb: well-formed, but refused when expanded.
    throw syntaxError(file, undefined, undefined, 'YAML', (err as Error).message);
  }
}

function parseJson(file: string, source: string): unknown {
  try {
    return JSON.parse(source);
  } catch (err) {
    const message = (err as Error).message;
    const at = jsonErrorPosition(source, message);
    const reason = message.replace(/ in JSON at position \d+[\s\S]*$/, '').replace(/, [\s\S]* is not valid JSON$/, '');
    throw syntaxError(file, at?.line, at?.col, 'JSON', reason);
  }
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

function syntaxError(file: string, line: number | undefined, col: number | undefined, kind: string, reason: string) {
  const where = line === undefined ? file : `${file}:${line}:${col}`;
  return new InfersimError(`scenario: ${where}: invalid ${kind}: ${reason}`);
}
