import { CLI_FROM_SOURCE } from '../cliMode.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
