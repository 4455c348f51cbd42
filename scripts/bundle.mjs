// Part of `npm run build` (and so of `npm ci`, through `prepare`): bundles the thread that runs
// `infersim run` (dist/sim/cli/runWorker.js and the simulator it imports) into one CommonJS
// script, dist/bundle/runWorker.cjs, and has V8 cache its compiled code by running the quickstart
// once. Node 20 caches no compiled code for ES modules; loading ~250 of them was ~0.2 s of every
// run's start (docs/performance.md, "start-up from one script with a code cache").
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const out = join(dist, 'bundle');
const entry = join(dist, 'sim/cli/runWorker.js');
if (!existsSync(entry)) {
  console.error('scripts/bundle.mjs: dist/sim/cli/runWorker.js is missing: run `tsc -p tsconfig.json` first');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// Each module keeps its own URL (paths to profiles, workers and the native addon are relative to
// it), found at run time from the bundle's place: the folder may move after the build.
const ownUrl = {
  name: 'own-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]sim[\\/].*\.js$/ }, (args) => {
      const rel = relative(out, args.path).split('\\').join('/');
      let text = readFileSync(args.path, 'utf8');
      if (args.path.endsWith(join('io', 'arrowLib.js'))) text = bundledArrow(text);
      text = text.replaceAll('import.meta.url', `__infersimUrl(${JSON.stringify(rel)})`);
      return { contents: text, loader: 'js' };
    });
  },
};

/**
 * apache-arrow goes into the bundle, so that the code cache holds it too: arrowLib.ts's
 * createRequire call, which esbuild cannot follow, becomes a plain require, which esbuild bundles
 * and still runs on first use. `infersim run` on the Azure trace took 0.94–0.99 of the time of
 * loading the package at run time (docs/performance.md, nineteenth session).
 */
function bundledArrow(text) {
  const call = "createRequire(import.meta.url)('apache-arrow/Arrow.esnext.min')";
  if (!text.includes(call)) {
    console.error(`scripts/bundle.mjs: dist/sim/io/arrowLib.js no longer holds ${call}: update bundledArrow to how it loads apache-arrow now`);
    process.exit(1);
  }
  return text.replace(call, "require('apache-arrow/Arrow.esnext.min')");
}
const result = await esbuild.build({
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: join(out, 'runWorker.cjs'),
  plugins: [ownUrl],
  banner: { js: "const __infersimUrl = (rel) => require('node:url').pathToFileURL(require('node:path').join(__dirname, rel)).href;" },
  logLevel: 'silent',
});
// A module of a dependency that reads import.meta would get an empty object in CommonJS: refuse.
const meta = result.warnings.filter((w) => w.text.includes('import.meta'));
if (meta.length > 0) {
  rmSync(out, { recursive: true, force: true });
  console.error(`scripts/bundle.mjs: ${meta.length} module(s) read import.meta, which a CommonJS bundle lacks:\n${meta.map((w) => `  ${w.location?.file}: ${w.text}`).join('\n')}`);
  process.exit(1);
}
writeFileSync(join(out, 'runWorker-load.cjs'), loaderSource());
// Which build of runWorker.js this bundle holds: tsc rewrites every file, so a later `tsc` alone leaves a stale bundle the loader's caller refuses.
writeFileSync(join(out, 'stamp.json'), JSON.stringify({ runWorker_mtime_ms: statSync(entry).mtimeMs }));

// The code cache: V8 compiles lazily, so the cache is written after a run has compiled what runs use.
const tmp = mkdtempSync(join(tmpdir(), 'infersim-bundle-'));
const warm = spawnSync(process.execPath, [join(root, 'bin/infersim.js'), 'run', join(root, 'scenarios/quickstart.yaml'), '--set', 'workload.num_requests=200', '--out', join(tmp, 'out'), '--quiet'], {
  env: { ...process.env, INFERSIM_PRODUCE_CACHE: '1', INFERSIM_FROM_SOURCE: '0', INFERSIM_BUNDLE: '1' },
  encoding: 'utf8',
});
rmSync(tmp, { recursive: true, force: true });
if (warm.status !== 0) {
  // A bundle that cannot run the quickstart must not run anything: `infersim run` falls back to the modules.
  rmSync(out, { recursive: true, force: true });
  console.warn(`scripts/bundle.mjs: the bundled run thread failed the quickstart, so it was removed (infersim run uses dist/sim's modules): ${warm.stderr.trim() || `exit ${warm.status}`}`);
} else if (!existsSync(join(out, 'runWorker.cache'))) {
  console.warn('scripts/bundle.mjs: no code cache was written (the bundled run thread compiles at each start)');
}

function loaderSource() {
  return `'use strict';
// Written by scripts/bundle.mjs. The run thread's body (runWorker.cjs) compiled with V8's code
// cache (runWorker.cache) when there is one that matches this Node (else compiled as usual).
// INFERSIM_PRODUCE_CACHE=1 (the build's warm-up run) writes the cache as the thread ends;
// INFERSIM_BUNDLE_TRACE=1 says on stderr that the bundle runs, and what became of the cache.
const vm = require('node:vm');
const fs = require('node:fs');
const path = require('node:path');
const file = path.join(__dirname, 'runWorker.cjs');
const cacheFile = path.join(__dirname, 'runWorker.cache');
const produce = process.env.INFERSIM_PRODUCE_CACHE === '1';
let cachedData;
if (!produce && fs.existsSync(cacheFile)) cachedData = fs.readFileSync(cacheFile);
const source = '(function (exports, require, module, __filename, __dirname) {' + fs.readFileSync(file, 'utf8') + '\\n})';
const script = new vm.Script(source, { filename: file, cachedData });
if (process.env.INFERSIM_BUNDLE_TRACE === '1') {
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
  fs.writeSync(2, 'infersim: run thread from ' + file + ' (code cache ' + cache + ')\\n');
}
if (produce) {
  process.on('exit', () => {
    fs.writeFileSync(cacheFile + '.tmp', script.createCachedData());
    fs.renameSync(cacheFile + '.tmp', cacheFile);
  });
}
const m = { exports: {} };
script.runInThisContext()(m.exports, require, m, file, __dirname);
`;
}
