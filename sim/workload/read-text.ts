import { readFileSync } from 'node:fs';
import { fieldError } from '../errors.js';

/** The whole file as UTF-8 (BOM removed); a missing or unreadable file is the user's error, not a crash. */
export function readText(path: string, field: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fieldError(field, `file not found: ${path}`);
    if (code === 'EISDIR') throw fieldError(field, `is a directory, not a file: ${path}`);
    throw fieldError(field, `cannot read ${path} (${code ?? (error as Error).message})`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
