import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every temporary file of a test run (the tests' own folders, the CLI's and the native builds'
 * in the processes they start) goes under one folder, removed when the run ends: a run leaves
 * nothing in the system's temporary folder, whichever test forgot to clean up or failed before it
 * could. Test workers and child processes inherit TMPDIR, which os.tmpdir() reads.
 */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'infersim-test-'));
  // Open to every user as /tmp is (sticky, world-writable): test/hostile runs the CLI as `nobody`,
  // whose tsx (in source mode) makes its cache folder here.
  chmodSync(root, 0o1777);
  process.env.TMPDIR = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  };
}
