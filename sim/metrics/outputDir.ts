import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { fieldError } from '../errors.js';
import { markWriter, unmarkWriter, WRITER_MARK, withPath } from '../fsErrors.js';

/**
 * The only names a folder may hold for the sink to replace it: never delete someone's files.
 * report.html is what `infersim report DIR` and `run --report` write there by default.
 */
export const OUTPUT_FILES = new Set(['requests.arrow', 'iterations.arrow', 'tokens.arrow', 'events.arrow', 'cluster.arrow', 'summary.json', 'report.html', 'compare.json']);

/** The spill file (metrics/spill.ts): only ever in a temporary folder, gone before it is published. */
export const SPILL_FILE = 'samples.spill';

/** What a temporary folder left by a dead run may hold for it to be removed. */
export const TEMPORARY_FILES: ReadonlySet<string> = new Set([...OUTPUT_FILES, SPILL_FILE]);

/** What the sink's errors name: --out sets it too. */
export const FIELD = 'output.dir';

export function assertReplaceable(dir: string): void {
  const stat = withPath(FIELD, 'use', dir, () => (existsSync(dir) ? statSync(dir) : undefined));
  if (stat === undefined) return;
  if (!stat.isDirectory()) throw fieldError(FIELD, 'exists and is not a folder', dir);
  const foreign = withPath(FIELD, 'read', dir, () => readdirSync(dir)).filter((name) => !OUTPUT_FILES.has(name) && name !== WRITER_MARK);
  if (foreign.length > 0) {
    throw fieldError(FIELD, `holds files that are not infersim output (${foreign.slice(0, 3).join(', ')}); refusing to replace it`, dir);
  }
}

/**
 * rename(2) cannot replace a non-empty folder, so the old one is moved aside first and put back
 * if the second rename fails; the window without `<dir>` is two renames long. `rename` is
 * injectable so that recovery can be tested.
 */
export function publish(tmpDir: string, dir: string, rename: (from: string, to: string) => void = renameSync): void {
  assertReplaceable(dir);
  if (!existsSync(dir)) {
    rename(tmpDir, dir);
    return;
  }
  const aside = `${dir}.old-${process.pid}`;
  rmSync(aside, { recursive: true, force: true });
  rename(dir, aside);
  try {
    // Marked as this run's, so that a later run may put it back if this one dies right here.
    markWriter(aside);
    pauseForTest();
    rename(tmpDir, dir);
  } catch (err) {
    rename(aside, dir);
    unmarkWriter(dir);
    throw err;
  }
  rmSync(aside, { recursive: true, force: true });
}

/**
 * Test hook: INFERSIM_TEST_PUBLISH_PAUSE_MS holds a publish between its two renames (the previous
 * output moved aside, the new one not yet in place) and says so on stderr, so that a test can
 * interrupt a run exactly there.
 */
function pauseForTest(): void {
  const ms = Number(process.env.INFERSIM_TEST_PUBLISH_PAUSE_MS ?? 0);
  if (!(ms > 0)) return;
  process.stderr.write('infersim-test: publish paused\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
