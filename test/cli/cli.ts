import { CLI_FROM_SOURCE } from '../cliMode.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the real CLI from the sources (not a possibly stale build); `timeout_ms` kills it past that (status null). */
export function infersim(args: string[], cwd = ROOT, env: Record<string, string> = {}, timeout_ms?: number): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [`${ROOT}/bin/infersim.js`, ...args], {
    cwd,
    timeout: timeout_ms,
    encoding: 'utf8',
    env: { ...process.env, INFERSIM_FROM_SOURCE: CLI_FROM_SOURCE, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Two `infersim run` output folders hold the same Arrow files byte for byte, and the same summary but for its wall times and output folder. */
export function expectSameRunFolders(a: string, b: string): void {
  for (const f of ['requests.arrow', 'iterations.arrow', 'cluster.arrow', 'events.arrow']) {
    expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
  }
  const summary = (dir: string) => {
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    return { ...s, simulator: undefined, scenario: { ...s.scenario, output: undefined } };
  };
  expect(summary(a)).toEqual(summary(b));
}
