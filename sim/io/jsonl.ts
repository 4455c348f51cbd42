import { rowError } from '../errors.js';

export type JsonlVisitor = (row: Record<string, unknown>, line: number) => void;

/** Calls `visit` for each non-blank line, which must hold one JSON object. */
export function forEachJsonlRecord(text: string, file: string, visit: JsonlVisitor): void {
  let pos = 0;
  let line = 1;
  while (pos < text.length) {
    let eol = text.indexOf('\n', pos);
    if (eol === -1) eol = text.length;
    const raw = text.slice(pos, eol).trim();
    if (raw !== '') visit(parseObject(raw, file, line), line);
    pos = eol + 1;
    line++;
  }
}

function parseObject(raw: string, file: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw rowError(file, line, `invalid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw rowError(file, line, 'expected a JSON object', raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  }
  return value as Record<string, unknown>;
}
