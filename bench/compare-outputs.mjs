#!/usr/bin/env node
// Checks that two builds of infersim write the same outputs for the same scenarios (issue 14:
// the refactor must leave every output byte-identical to the commit before it).
//
//   node bench/compare-outputs.mjs --old /tmp/wt-old --new /work/main [--only NAME]... [--cache-old]
//
// Each build directory must hold bin/infersim.js and a compiled dist/ (npx tsc -p tsconfig.json):
// the compiled code is what runs, because bin/infersim.js would silently fall back to the sources
// through tsx without it. Scenarios are every scenarios/*.{yaml,yml,json} and bench/compare/*.yaml
// of the checkout this script lives in, whichever builds are compared: relative paths inside a
// scenario (traces under ../../shared) resolve against the scenario file, so both builds must read
// the very same file, and the extra scenarios exist only in this checkout.
//
// Compared per scenario: the set of files written, requests.arrow, iterations.arrow and
// tokens.arrow byte for byte, and summary.json byte for byte once the wall-clock figures are masked
// (simulator.wall_s, events_per_s, uncertainty_wall_s: two runs of one build differ only there)
// and the output folder the summary echoes (scenario.output.dir) is masked, since each side writes
// to its own folder. Exit status: 0 all same, 1 a difference or a failed run, 2 a usage error.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(here);
const ARROW_FILES = ['requests.arrow', 'iterations.arrow', 'tokens.arrow'];
// The only summary fields that depend on how fast the machine ran, found by diffing two runs of
// one build; `simulator.events` stays compared (it counts simulated events).
const WALL_FIELDS = ['wall_s', 'events_per_s', 'uncertainty_wall_s'];
const RUN_ARGS = ['--tokens', '--quiet'];
// A marker written last: a cached folder without it is a run that was cut short.
const COMPLETE = '.complete';

function usage(message, status = 2) {
  console.error(`compare-outputs: ${message}`);
  console.error(
    'usage: node bench/compare-outputs.mjs --old DIR --new DIR [--only NAME]... [--cache-old] [--cache-dir DIR] [--keep] [--list]\n' +
      '  --old, --new  build directories, each with bin/infersim.js and dist/ (npx tsc -p tsconfig.json)\n' +
      '  --only NAME   run only this scenario (file name without extension; repeatable or comma-separated)\n' +
      '  --cache-old   reuse the old build\'s outputs from the cache (keyed by scenario text, old dist/ and profiles/, node version)\n' +
      '  --cache-dir   where --cache-old keeps them (default /tmp/cmp-old)\n' +
      '  --keep        keep every output folder, not only those of scenarios that differ\n' +
      '  --list        print the scenarios and exit',
  );
  process.exit(status);
}

/** A problem with the builds or files given, not with how the command was typed: no usage text. */
function fail(message) {
  console.error(`compare-outputs: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { only: [], cacheOld: false, cacheDir: '/tmp/cmp-old', keep: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) usage(`${flag} needs a value`);
      return v;
    };
    if (flag === '--old') opts.old = path.resolve(value());
    else if (flag === '--new') opts.new = path.resolve(value());
    else if (flag === '--only') opts.only.push(...value().split(',').filter(Boolean));
    else if (flag === '--cache-old') opts.cacheOld = true;
    else if (flag === '--cache-dir') opts.cacheDir = path.resolve(value());
    else if (flag === '--keep') opts.keep = true;
    else if (flag === '--list') opts.list = true;
    else if (flag === '--help' || flag === '-h') usage('compares the outputs of two builds', 0);
    else usage(`unknown argument ${a}`);
  }
  return opts;
}

function listScenarios() {
  const pick = (dir, exts) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => exts.includes(path.extname(f)))
          .sort()
          .map((f) => ({ name: path.basename(f, path.extname(f)), file: path.join(dir, f) }))
      : [];
  const all = [...pick(path.join(repoRoot, 'scenarios'), ['.yaml', '.yml', '.json']), ...pick(path.join(here, 'compare'), ['.yaml', '.yml'])];
  // Output folders and the cache are keyed by name: two files with one name would overwrite each other.
  const seen = new Map();
  for (const s of all) {
    if (seen.has(s.name)) fail(`two scenarios are named ${s.name}: ${seen.get(s.name)} and ${s.file}; rename one`);
    seen.set(s.name, s.file);
  }
  return all;
}

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function checkBuild(label, dir) {
  const bin = path.join(dir, 'bin', 'infersim.js');
  const main = path.join(dir, 'dist', 'sim', 'cli', 'main.js');
  if (!existsSync(bin)) fail(`--${label} ${dir}: no bin/infersim.js there (is it an infersim checkout?)`);
  if (!existsSync(main)) fail(`--${label} ${dir}: no dist/sim/cli/main.js; build it first: (cd ${dir} && npx tsc -p tsconfig.json)`);
  // A dist/ older than the sources compares the previous build: say so rather than report "same" for code not run.
  const built = statSync(main).mtimeMs;
  const newer = walk(path.join(dir, 'sim')).filter((f) => f.endsWith('.ts') && statSync(f).mtimeMs > built);
  if (newer.length > 0) {
    console.error(
      `compare-outputs: warning: --${label} ${dir}: ${newer.length} source file(s) changed after dist/ was built ` +
        `(${path.relative(dir, newer[0])}${newer.length > 1 ? ', …' : ''}); rebuild with npx tsc -p tsconfig.json to compare the current code`,
    );
  }
  return bin;
}

/** Identifies what the old build's output depends on, so a cached output is reused only for the same inputs. */
function buildDigest(dir) {
  const h = createHash('sha256');
  h.update(process.version);
  for (const sub of ['dist', 'profiles', 'bin']) {
    for (const f of walk(path.join(dir, sub))) {
      h.update(path.relative(dir, f));
      h.update('\0');
      h.update(readFileSync(f));
      h.update('\0');
    }
  }
  return h.digest('hex');
}

function runBuild(bin, scenarioFile, outDir) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(path.dirname(outDir), { recursive: true });
  const env = { ...process.env };
  // Set, it would make bin/infersim.js run the sources instead of the dist/ being compared.
  delete env.INFERSIM_FROM_SOURCE;
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, 'run', scenarioFile, '--out', outDir, ...RUN_ARGS], {
    cwd: path.dirname(path.dirname(bin)),
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.error) return { ok: false, seconds, why: `could not start node: ${r.error.message}` };
  if (r.status !== 0) {
    // A crash ends with its stack and node's version line: the error's own line is the one to show.
    const lines = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l && !/^\s+at /.test(l) && !/^Node\.js v\d/.test(l));
    const how = r.status === null ? `killed by ${r.signal}` : `exit ${r.status}`;
    return { ok: false, seconds, why: `${how}: ${lines.at(-1) ?? '(no output)'}` };
  }
  return { ok: true, seconds };
}

/** The summary's text with the wall-clock values and this side's own output folder masked; all else kept byte for byte. */
function maskedSummary(file, outDir) {
  let text = readFileSync(file, 'utf8');
  const number = '-?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|null';
  for (const key of WALL_FIELDS) text = text.replace(new RegExp(`("${key}":\\s*)(?:${number})`, 'g'), '$1"<wall-clock>"');
  return text.split(JSON.stringify(outDir)).join('"<output folder>"');
}

function firstDifferentLine(a, b) {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}: old ${JSON.stringify(la[i]?.trim() ?? '<end>')} new ${JSON.stringify(lb[i]?.trim() ?? '<end>')}`;
  }
  return 'same lines, different bytes';
}

function firstDifferentByte(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/**
 * Where two Arrow files differ in data terms (column and row), which says more to whoever must fix
 * it than a byte offset. Best effort: any trouble reading them leaves just the byte offset.
 */
async function arrowDetail(a, b) {
  try {
    const { tableFromIPC } = await import('apache-arrow');
    const ta = tableFromIPC(a);
    const tb = tableFromIPC(b);
    const fields = (t) => t.schema.fields.map((f) => `${f.name}:${f.type}`);
    const fa = fields(ta);
    const fb = fields(tb);
    if (fa.join() !== fb.join()) {
      const i = fa.findIndex((f, k) => f !== fb[k]);
      return `schema differs at column ${i < 0 ? fa.length : i}: old ${fa[i] ?? '<none>'} new ${fb[i] ?? '<none>'}`;
    }
    if (ta.numRows !== tb.numRows) return `old has ${ta.numRows} rows, new ${tb.numRows}`;
    for (const f of ta.schema.fields) {
      const va = ta.getChild(f.name).toArray();
      const vb = tb.getChild(f.name).toArray();
      for (let r = 0; r < va.length; r++) {
        const x = va[r];
        const y = vb[r];
        if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return `column ${f.name} row ${r}: old ${x} new ${y}`;
      }
    }
    return `same schema and values, different encoding (old ${ta.batches.length} record batches, new ${tb.batches.length}; or metadata)`;
  } catch {
    return undefined;
  }
}

/** The first difference between two output folders, or undefined when they match. */
async function compareOutputs(oldDir, newDir) {
  const names = (d) =>
    walk(d)
      .map((f) => path.relative(d, f))
      .filter((f) => f !== COMPLETE);
  const oldNames = names(oldDir);
  const newNames = names(newDir);
  const missing = oldNames.filter((f) => !newNames.includes(f));
  const extra = newNames.filter((f) => !oldNames.includes(f));
  if (missing.length) return { file: missing[0], detail: `written by old, not by new${missing.length > 1 ? ` (also ${missing.slice(1).join(', ')})` : ''}` };
  if (extra.length) return { file: extra[0], detail: `written by new, not by old${extra.length > 1 ? ` (also ${extra.slice(1).join(', ')})` : ''}` };
  for (const f of ARROW_FILES) {
    if (!oldNames.includes(f)) return { file: f, detail: 'not written by either build (expected with --tokens)' };
  }
  for (const f of [...ARROW_FILES, ...oldNames.filter((n) => !ARROW_FILES.includes(n) && n !== 'summary.json')]) {
    const a = readFileSync(path.join(oldDir, f));
    const b = readFileSync(path.join(newDir, f));
    if (!a.equals(b)) {
      const where = `first different byte at offset ${firstDifferentByte(a, b)} (sizes ${a.length} and ${b.length})`;
      const data = f.endsWith('.arrow') ? await arrowDetail(a, b) : undefined;
      return { file: f, detail: data ? `${data}; ${where}` : where };
    }
  }
  if (!oldNames.includes('summary.json')) return { file: 'summary.json', detail: 'not written by either build' };
  const a = maskedSummary(path.join(oldDir, 'summary.json'), oldDir);
  const b = maskedSummary(path.join(newDir, 'summary.json'), newDir);
  if (a !== b) return { file: 'summary.json', detail: firstDifferentLine(a, b) };
  return undefined;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let scenarios = listScenarios();
  if (opts.list) {
    for (const s of scenarios) console.log(`${s.name}\t${path.relative(repoRoot, s.file)}`);
    return 0;
  }
  if (!opts.old || !opts.new) usage('both --old and --new are required');
  if (opts.only.length) {
    const unknown = opts.only.filter((n) => !scenarios.some((s) => s.name === n));
    if (unknown.length) usage(`no scenario named ${unknown.join(', ')} (try --list)`);
    scenarios = scenarios.filter((s) => opts.only.includes(s.name));
  }
  const oldBin = checkBuild('old', opts.old);
  const newBin = checkBuild('new', opts.new);
  const oldDigest = opts.cacheOld ? buildDigest(opts.old) : undefined;
  const work = mkdtempSync(path.join(tmpdir(), 'cmp-run-'));
  const width = Math.max(...scenarios.map((s) => s.name.length));
  let failures = 0;
  let kept = false;

  for (const s of scenarios) {
    let oldOut;
    let oldNote;
    if (opts.cacheOld) {
      const key = createHash('sha256').update(oldDigest).update(readFileSync(s.file)).update(s.file).update(RUN_ARGS.join(' ')).digest('hex').slice(0, 16);
      const entry = path.join(opts.cacheDir, s.name);
      oldOut = path.join(entry, key);
      if (existsSync(path.join(oldOut, COMPLETE))) {
        oldNote = 'cached';
      } else {
        // Outputs of an earlier old build or scenario text are never read again.
        rmSync(entry, { recursive: true, force: true });
      }
    } else {
      oldOut = path.join(work, 'old', s.name);
    }
    if (oldNote === undefined) {
      const r = runBuild(oldBin, s.file, oldOut);
      if (!r.ok) {
        console.log(`${s.name.padEnd(width)}  FAILED   old build: ${r.why}`);
        failures++;
        continue;
      }
      if (opts.cacheOld) writeFileSync(path.join(oldOut, COMPLETE), `${s.file}\n`);
      oldNote = `${r.seconds.toFixed(1)} s`;
    }
    const newOut = path.join(work, 'new', s.name);
    const r = runBuild(newBin, s.file, newOut);
    if (!r.ok) {
      console.log(`${s.name.padEnd(width)}  FAILED   new build: ${r.why}`);
      failures++;
      kept = true;
      continue;
    }
    const diff = await compareOutputs(oldOut, newOut);
    const times = `(old ${oldNote}, new ${r.seconds.toFixed(1)} s)`;
    if (diff) {
      failures++;
      kept = true;
      console.log(`${s.name.padEnd(width)}  DIFFERENT  ${diff.file}: ${diff.detail}  ${times}\n${''.padEnd(width)}  old ${oldOut}\n${''.padEnd(width)}  new ${newOut}`);
    } else {
      console.log(`${s.name.padEnd(width)}  same  ${times}`);
      if (!opts.keep) {
        rmSync(newOut, { recursive: true, force: true });
        if (!opts.cacheOld) rmSync(oldOut, { recursive: true, force: true });
      }
    }
  }

  if (kept || opts.keep) console.log(`outputs kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
  console.log(failures === 0 ? `all ${scenarios.length} scenarios same` : `${failures} of ${scenarios.length} scenarios DIFFERENT or FAILED`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main();
