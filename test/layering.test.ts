import { parseCircular, parseDependencyTree, type DependencyTree } from 'dpdm';
import { beforeAll, describe, expect, it } from 'vitest';

/*
 * Layers run one way: no module in sim/ reaches, directly or around a loop, back to itself, and
 * the folders below keep out of the ones above. dpdm reads the sources with the TypeScript parser
 * and resolves specifiers through tsconfig.json (NodeNext), so `./x.js` finds `./x.ts`.
 *
 * Every import counts, including `import type` and dynamic `import()`: a type-only import creates
 * no runtime loop, but it still ties the lower module to the upper one's vocabulary, and the
 * point is that a folder can be read and changed without the ones above it.
 *
 * The graph is built once by parsing (1–5 s on a shared 2-core machine; no timing is asserted).
 */

let tree: DependencyTree;

beforeAll(async () => {
  tree = await parseDependencyTree('sim/**/*.ts', { cwd: process.cwd(), tsconfig: 'tsconfig.json', transform: false, skipDynamicImports: false });
});

/** Every import between two of sim/'s own files, as [importer, imported]. */
function edges(): [from: string, to: string][] {
  const out: [string, string][] = [];
  for (const [from, deps] of Object.entries(tree)) {
    if (!from.startsWith('sim/') || deps === null) continue;
    for (const dep of deps) if (dep.id !== null && dep.id.startsWith('sim/')) out.push([from, dep.id]);
  }
  return out;
}

const folderOf = (file: string): string => file.split('/')[1];

/**
 * sim/README.md's table, top to bottom: a file may import its own layer and those below it.
 * Files directly in sim/ are the public entry (index.ts, on top) and shared error and path
 * helpers (at the bottom). A new folder fails the check until it is given a place here and there.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['index.ts'],
  ['cli'],
  ['sweep', 'fidelity', 'plan', 'report', 'compare'],
  ['cluster'],
  ['setup'],
  ['scheduler', 'routing', 'autoscale'],
  ['metrics'],
  ['kv'],
  ['latency'],
  ['workload'],
  ['model', 'hardware', 'native'],
  ['scenario'],
  ['io'],
  ['engine'],
  ['errors.ts', 'fsErrors.ts', 'sourceMode.ts'],
];
const rank = new Map(LAYERS.flatMap((layer, i) => layer.map((name) => [name, i] as const)));

function show(violations: readonly (readonly string[])[], join = ' -> '): string {
  return violations.map((v) => `  ${v.join(join)}`).join('\n');
}

describe('sim/ import graph', () => {
  it('reads the sources and resolves every relative import (else the checks below would pass on nothing)', () => {
    const files = Object.keys(tree).filter((f) => f.startsWith('sim/'));
    expect(files.length).toBeGreaterThan(100);
    const unresolved = Object.values(tree)
      .flatMap((deps) => deps ?? [])
      .filter((d) => d.request.startsWith('.') && d.id === null)
      .map((d) => [d.issuer, d.request]);
    expect(unresolved, `unresolved imports:\n${show(unresolved)}`).toHaveLength(0);
  });

  it('has no import cycles', () => {
    const cycles = parseCircular(tree).map((c) => [...c, c[0]]);
    expect(cycles, `${cycles.length} import cycle(s):\n${show(cycles)}`).toHaveLength(0);
  });

  it('every folder has a layer, and imports run from a layer to itself or those below (sim/README.md)', () => {
    const files = Object.keys(tree).filter((f) => f.startsWith('sim/'));
    const unplaced = [...new Set(files.map(folderOf).filter((name) => !rank.has(name)))];
    expect(unplaced, `folders or files with no place in LAYERS: ${unplaced.join(', ')}`).toHaveLength(0);
    const upward = edges().filter(([from, to]) => rank.get(folderOf(to))! < rank.get(folderOf(from))!);
    expect(upward, `imports that run up the layers:\n${show(upward)}`).toHaveLength(0);
  });

  it('sim/engine imports nothing of sim/ outside itself (the event loop knows nothing of LLMs)', () => {
    const bad = edges().filter(([from, to]) => folderOf(from) === 'engine' && folderOf(to) !== 'engine');
    expect(bad, `sim/engine imports from above:\n${show(bad)}`).toHaveLength(0);
  });

  it('sim/scenario (vocabulary, schema, loading) imports none of the layers that use it', () => {
    const above = new Set(['kv', 'latency', 'scheduler', 'cluster', 'setup', 'metrics', 'sweep', 'cli']);
    const bad = edges().filter(([from, to]) => folderOf(from) === 'scenario' && above.has(folderOf(to)));
    expect(bad, `sim/scenario imports from above:\n${show(bad)}`).toHaveLength(0);
  });

  it('sim/workload and sim/latency do not import each other (shared file readers live in sim/io)', () => {
    const pair = new Set(['workload', 'latency']);
    const bad = edges().filter(([from, to]) => pair.has(folderOf(from)) && pair.has(folderOf(to)) && folderOf(from) !== folderOf(to));
    expect(bad, `cross imports between workload and latency:\n${show(bad)}`).toHaveLength(0);
  });

  it('sim/cli is the top: nothing else in sim/ imports it', () => {
    const bad = edges().filter(([from, to]) => folderOf(from) !== 'cli' && folderOf(to) === 'cli');
    expect(bad, `imports of sim/cli:\n${show(bad)}`).toHaveLength(0);
  });
});
