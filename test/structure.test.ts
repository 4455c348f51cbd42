import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** Size limits of the design: one job per module and per function, so each stays readable whole. */
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

const SIM = fileURLToPath(new URL('../sim', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every function-like node's length in lines (methods, arrows, constructors, accessors included). */
function functionLengths(file: string): { name: string; line: number; lines: number }[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { name: string; line: number; lines: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = src.getLineAndCharacterOfPosition(node.getStart(src)).line;
      const last = src.getLineAndCharacterOfPosition(node.getEnd()).line;
      const named = (node as { name?: ts.Node }).name ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name : undefined);
      out.push({ name: named === undefined ? '<anonymous>' : named.getText(src), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return out;
}

describe('sim/ stays in small pieces', () => {
  const files = sources(SIM);
  const rel = (f: string) => path.relative(path.dirname(SIM), f);

  it(`has no file over ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((f) => ({ file: rel(f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_FILE_LINES);
    expect(long, `split these files:\n${long.map((f) => `  ${f.file}: ${f.lines} lines`).join('\n')}`).toEqual([]);
  });

  it(`has no function over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files.flatMap((f) => functionLengths(f).filter((fn) => fn.lines > MAX_FUNCTION_LINES).map((fn) => `  ${rel(f)}:${fn.line} ${fn.name}: ${fn.lines} lines`));
    expect(long, `split these functions:\n${long.join('\n')}`).toEqual([]);
  });

  it('measures what it claims (a guard against a walker that finds nothing)', () => {
    const lengths = files.flatMap(functionLengths);
    expect(lengths.length).toBeGreaterThan(500);
    expect(Math.max(...lengths.map((l) => l.lines))).toBeGreaterThan(40);
  });
});
