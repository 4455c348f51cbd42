import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledRunWorker } from '../../sim/cli/runThread.js';
import { expectSameRunFolders, infersim, ROOT } from './cli.js';

/*
 * `infersim run`'s thread as one bundled script with V8's code cache (scripts/bundle.mjs, part of
 * `npm run build` and `npm test`): used only where it holds the build beside it, and giving the
 * same outputs as the ES modules it bundles.
 */
const DIST = process.env.INFERSIM_TEST_DIST === '1';
const dir = mkdtempSync(join(tmpdir(), 'infersim-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake build: dist/sim/cli/runWorker.js, and a bundle whose stamp names `stamp_ms`. */
function fakeBuild(name: string, stamp_ms?: number): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'sim/cli'), { recursive: true });
  const worker = join(root, 'sim/cli/runWorker.js');
  writeFileSync(worker, '');
  utimesSync(worker, 1_700_000_000, 1_700_000_000);
  if (stamp_ms !== undefined) {
    mkdirSync(join(root, 'bundle'));
    writeFileSync(join(root, 'bundle/stamp.json'), JSON.stringify({ runWorker_mtime_ms: stamp_ms }));
  }
  return pathToFileURL(join(root, 'sim/cli/runThread.js')).href;
}

describe('the bundled run thread', () => {
  it('is used only where its stamp names the runWorker.js beside it, and not with INFERSIM_BUNDLE=0', () => {
    const mtime_ms = 1_700_000_000_000;
    const fresh = fakeBuild('fresh', mtime_ms);
    expect(statSync(new URL('./runWorker.js', fresh)).mtimeMs).toBe(mtime_ms);
    expect(bundledRunWorker(fresh)?.href).toBe(new URL('../../bundle/runWorker-load.cjs', fresh).href);
    // `tsc` since the bundle: every file rewritten, so runWorker.js is newer than the stamp.
    expect(bundledRunWorker(fakeBuild('stale', mtime_ms - 1000))).toBeUndefined();
    expect(bundledRunWorker(fakeBuild('none'))).toBeUndefined();
    const saved = process.env.INFERSIM_BUNDLE;
    process.env.INFERSIM_BUNDLE = '0';
    try {
      expect(bundledRunWorker(fresh)).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.INFERSIM_BUNDLE;
      else process.env.INFERSIM_BUNDLE = saved;
    }
  });

  it.skipIf(!DIST)('runs `infersim run` with its code cache, and writes what the ES modules write (needs the build: run through npm test)', () => {
    expect(existsSync(join(ROOT, 'dist/bundle/runWorker.cache'))).toBe(true);
    const args = (out: string) => ['run', 'scenarios/quickstart.yaml', '--set', 'workload.num_requests=120', '--out', join(dir, out), '--quiet'];
    const bundled = infersim(args('bundled'), ROOT, { INFERSIM_BUNDLE_TRACE: '1' });
    expect(bundled.status, bundled.stderr).toBe(0);
    expect(bundled.stderr).toContain(`run thread from ${join(ROOT, 'dist/bundle/runWorker.cjs')} (code cache accepted)`);
    const modules = infersim(args('modules'), ROOT, { INFERSIM_BUNDLE: '0', INFERSIM_BUNDLE_TRACE: '1' });
    expect(modules.status, modules.stderr).toBe(0);
    expect(modules.stderr).not.toContain('run thread from');
    expectSameRunFolders(join(dir, 'bundled'), join(dir, 'modules'));
  });
});
