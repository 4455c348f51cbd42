#!/usr/bin/env node
// Builds the native probe (the Node addon and the standalone infersim-probe) when nvcc is found.
// Run by `npm ci`/`npm install` (the install script) and by `npm run build:native`. It never fails
// the install: without nvcc, make or the Node headers, or when the build breaks, it prints one line,
// records why in native/build/status.txt (the loader in sim/native reports it) and exits 0.
// No network: it compiles against the local Node headers and node-addon-api's headers.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = path.join(here, 'build');
const log = path.join(buildDir, 'build.log');

function finish(ok, message) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(path.join(buildDir, 'status.txt'), `${ok ? 'built' : 'not built'}: ${message}\n`);
  console.log(`infersim: native CUDA probe ${ok ? 'built' : 'not built'}: ${message}`);
  process.exit(0);
}

const onPath = (cmd) => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

if (process.env.INFERSIM_SKIP_NATIVE === '1') finish(false, 'INFERSIM_SKIP_NATIVE=1 (the simulator works without it)');

const cudaHome = process.env.CUDA_HOME ?? process.env.CUDA_PATH;
const nvcc = [process.env.NVCC, cudaHome && path.join(cudaHome, 'bin', 'nvcc'), onPath('nvcc'), '/usr/local/cuda/bin/nvcc'].find(
  (p) => p && existsSync(p),
);
if (!nvcc) finish(false, 'no nvcc found (install the CUDA toolkit or set CUDA_HOME); the simulator works without it');
if (!onPath('make')) finish(false, 'no make found; the simulator works without it');

const nodeInclude = [
  process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
  path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node'),
].find((d) => d && existsSync(path.join(d, 'node_api.h')));

let napiInclude;
try {
  napiInclude = path.dirname(createRequire(import.meta.url).resolve('node-addon-api/package.json'));
} catch {
  napiInclude = undefined;
}

const vars = [`NVCC=${nvcc}`];
if (cudaHome) vars.push(`CUDA_HOME=${cudaHome}`);
if (nodeInclude && napiInclude) vars.push(`NODE_INCLUDE=${nodeInclude}`, `NAPI_INCLUDE=${napiInclude}`);

mkdirSync(buildDir, { recursive: true });
// make writes to a fresh file: build.log keeps the record of the last build that compiled
// something. npm re-runs this script whenever it relinks the package (the first `npx infersim`
// in a checkout does), and a no-op make must not replace the record of how the binaries were built.
const attempt = `${log}.attempt`;
const fd = openSync(attempt, 'w');
const started = Date.now();
const r = spawnSync('make', ['-C', here, `-j${Math.min(availableParallelism(), 8)}`, ...vars], { stdio: ['ignore', fd, fd] });
closeSync(fd);
const compiled = /(^|\s)-c\s/m.test(readFileSync(attempt, 'utf8'));
if (r.status !== 0 || compiled || !existsSync(log)) renameSync(attempt, log);
else rmSync(attempt, { force: true });
const seconds = Math.round((Date.now() - started) / 1000);
if (r.status !== 0) finish(false, `the build failed (see ${path.relative(process.cwd(), log)}); the simulator works without it`);
const addon = nodeInclude && napiInclude ? 'addon and ' : '';
const why = nodeInclude ? '' : ' (no Node headers found: addon skipped, set npm_config_nodedir)';
finish(true, `${addon}native/build/infersim-probe with ${nvcc} in ${seconds} s${why}`);
