import { CLI_FROM_SOURCE } from '../cliMode.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { ROOT } from '../cli/cli.js';

/**
 * The hostile-input contract every infersim command keeps: bad input, a broken file system or a
 * resource it cannot have ends with a non-zero exit, exactly one line on stderr that names the
 * problem, no stack trace, and no output or temporary folder left behind.
 */

/** A scratch folder for one test file, removed when the file's tests end. */
export function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `infersim-hostile-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A small valid scenario; `replace` pairs patch its text, `extra` adds top-level YAML. */
export function scenarioText(opts: { extra?: string; workload?: string } = {}): string {
  return `seed: 1
model: llama-3.1-8b
hardware: { gpu: h100-sxm }
metrics: { uncertainty: false }
${opts.extra ?? ''}
workload:
${opts.workload ?? `  arrival: { process: poisson, rate_per_s: 5 }
  input_tokens: { dist: fixed, value: 100 }
  output_tokens: { dist: fixed, value: 10 }
  num_requests: 5`}
`;
}

export function writeScenario(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from the sources; a hang shows as status null after `timeout_ms`. */
export function cli(args: string[], opts: { cwd?: string; input?: string; timeout_ms?: number; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'infersim.js'), ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    input: opts.input ?? '',
    timeout: opts.timeout_ms ?? 45_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, INFERSIM_FROM_SOURCE: CLI_FROM_SOURCE, ...opts.env },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** stderr lines that come from npm's own configuration, not from infersim. */
const NOISE = /Unknown (user|env|project) config/;

/**
 * Asserts the hostile-input contract for one CLI call. `out` is the output folder the call was
 * given (if any): it must not exist afterwards (unless `outExisted`), nor any `<out>.tmp-*`.
 */
export function expectCleanFailure(
  r: CliResult,
  pattern: RegExp,
  opts: { out?: string; outExisted?: boolean; maxLineChars?: number } = {},
): void {
  expect(r.signal, `killed by ${r.signal} (a hang?)\nstderr: ${r.stderr.slice(0, 2000)}`).toBeNull();
  expect(r.status, `exit status; stderr: ${r.stderr.slice(0, 2000)}`).not.toBe(0);
  expect(r.status).not.toBeNull();
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !NOISE.test(l));
  expect(lines, `stderr should be one line:\n${r.stderr.slice(0, 4000)}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^infersim: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines[0].length, 'the error line is bounded').toBeLessThanOrEqual(opts.maxLineChars ?? 2000);
  expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .*:\d+:\d+/);
  if (opts.out !== undefined) {
    if (!opts.outExisted) expect(existsSync(opts.out), `${opts.out} left behind`).toBe(false);
    const parent = dirname(opts.out);
    // The parent may itself be the hostile part (a file, a loop): only a folder can hold leftovers.
    const leftovers = isFolder(parent) ? readdirSync(parent).filter((f) => f.startsWith(`${basename(opts.out!)}.tmp-`) || f.startsWith(`${basename(opts.out!)}.old-`)) : [];
    expect(leftovers, 'temporary folders left behind').toEqual([]);
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
