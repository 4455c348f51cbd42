import { CLI_FROM_SOURCE } from '../cliMode.js';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WRITER_MARK } from '../../sim/fsErrors.js';
import { ROOT } from '../cli/cli.js';
import { cli, expectCleanFailure, scenarioText, writeScenario, type CliResult } from './harness.js';

/**
 * File-system faults: a path through a file, a symlink loop, a read-only or unwritable folder, a
 * full disk, a path too long. Each ends with one line naming the path, the problem and its code.
 * Faults that need a facility (mount, setpriv) skip with a warning where the machine lacks it.
 */

const root = mkdtempSync(join(tmpdir(), 'infersim-hostile-fs-'));
chmodSync(root, 0o755);
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  rmSync(root, { recursive: true, force: true });
});

const scenario = writeScenario(root, 's.yaml', scenarioText());
chmodSync(scenario, 0o644);
// Enough output that a small disk fills while the run writes (requests.arrow alone is ~400 kB).
const big = writeScenario(root, 'big.yaml', scenarioText({ workload: `  arrival: { process: poisson, rate_per_s: 50 }
  input_tokens: { dist: fixed, value: 20 }
  output_tokens: { dist: fixed, value: 4 }
  num_requests: 3000` }));
const sweepGrid = ['--grid', 'engine.max_num_seqs=8,16', '--jobs', '1'];

let source: string | undefined;
/** A finished sweep folder, for `sweep merge` (made once). */
function sweepSource(): string {
  if (source !== undefined) return source;
  source = join(root, 'merge-src');
  const made = cli(['sweep', scenario, ...sweepGrid, '--out', source]);
  expect(made.status, made.stderr).toBe(0);
  return source;
}

function sh(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
}

function folder(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * What this machine lets a test do to make a fault happen: mount a tmpfs or a read-only bind (root
 * with mount permission), and drop root (setpriv) so that permissions apply. Tests that need one are
 * skipped, visibly, where it is missing; a test that cannot make its fault must not pass.
 */
const CAN_MOUNT = ((): boolean => {
  const dir = folder('probe-mount');
  if (!sh('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir])) return false;
  sh('umount', [dir]);
  return true;
})();
const CAN_DROP_ROOT = process.getuid?.() !== 0 || sh('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
if (!CAN_MOUNT) console.warn('test/hostile/filesystem.test.ts: ENOSPC and EROFS cases skipped: cannot mount a tmpfs or a read-only bind here');
if (!CAN_DROP_ROOT) console.warn('test/hostile/filesystem.test.ts: EACCES cases skipped: running as root without setpriv');

/** A small tmpfs mounted at a fresh folder; `fill` leaves no space at all. Only where CAN_MOUNT. */
function smallDisk(name: string, fill: boolean): string {
  const dir = folder(name);
  if (!sh('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', dir])) throw new Error(`cannot mount a tmpfs at ${dir}, though the probe could`);
  mounts.push(dir);
  if (fill) {
    try {
      writeFileSync(join(dir, 'filler'), Buffer.alloc(1 << 20));
    } catch {
      // ENOSPC: the disk is full, which is the point.
    }
  }
  return dir;
}

/** A folder bind-mounted read-only over itself (only where CAN_MOUNT). */
function readOnlyFolder(name: string): string {
  const dir = folder(name);
  if (!(sh('mount', ['--bind', dir, dir]) && (mounts.push(dir), sh('mount', ['-o', 'remount,ro,bind', dir])))) {
    throw new Error(`cannot bind-mount ${dir} read-only, though a tmpfs could be mounted`);
  }
  return dir;
}

/** Runs the CLI as a user who may not write into `dir` (root ignores permissions: then as nobody, through setpriv). */
function cliWithoutWrite(dir: string, args: string[]): CliResult {
  chmodSync(dir, 0o555);
  if (process.getuid?.() !== 0) return cli(args);

  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(ROOT, 'bin', 'infersim.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 45_000,
    env: { ...process.env, HOME: root, INFERSIM_FROM_SOURCE: CLI_FROM_SOURCE },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const aFile = join(root, 'a-file');
writeFileSync(aFile, 'not a folder\n');
const loop = join(root, 'loop');
symlinkSync('loop', loop);
const dangling = join(root, 'dangling');
symlinkSync(join(root, 'nowhere'), dangling);
const tooLong = join(root, 'x'.repeat(300), 'out');

/** For an --out through `aFile`: the file is untouched and nothing was made beside it (the harness lists the parent of `out`, a file here). */
function expectFileUntouched(): void {
  expect(readFileSync(aFile, 'utf8')).toBe('not a folder\n');
  expect(readdirSync(root).filter((f) => f.startsWith('a-file.'))).toEqual([]);
}

describe('infersim run: file-system faults', () => {
  it('--out through a regular file (ENOTDIR)', () => {
    const out = join(aFile, 'out');
    expectCleanFailure(cli(['run', scenario, '--out', out]), new RegExp(`cannot create ${out}: ${aFile} is a file, not a folder \\(ENOTDIR\\)`));
    expectFileUntouched();
  });

  it('--out is a regular file', () => {
    expectCleanFailure(cli(['run', scenario, '--out', aFile]), /output\.dir: exists and is not a folder/, { out: aFile, outExisted: true });
    expect(readFileSync(aFile, 'utf8')).toBe('not a folder\n');
  });

  it('--out through a symlink loop (ELOOP)', () => {
    const out = join(loop, 'out');
    expectCleanFailure(cli(['run', scenario, '--out', out]), /cannot (create|use) .*loop.*symbolic links.*\(ELOOP\)/, { out });
  });

  it('--out whose parent is a dangling symlink', () => {
    const out = join(dangling, 'out');
    expectCleanFailure(cli(['run', scenario, '--out', out]), new RegExp(`${dangling} is a symbolic link to .*nowhere, which does not exist`), { out });
  });

  it('--out with a name too long (ENAMETOOLONG)', () => {
    expectCleanFailure(cli(['run', scenario, '--out', tooLong]), /too long \(ENAMETOOLONG\)/, { out: tooLong });
  });

  it('--set output.dir under /proc ends (no mkdir loop) with one line', () => {
    const r = cli(['run', scenario, '--set', 'output.dir=/proc/infersim-x'], { timeout_ms: 20_000 });
    expectCleanFailure(r, /output\.dir: cannot create \/proc\/infersim-x: \/proc does not accept new entries \(ENOENT\)/);
  });

  it('--out / is refused, nothing written', () => {
    expectCleanFailure(cli(['run', scenario, '--out', '/']), /output\.dir: holds files that are not infersim output/);
    expect(readdirSync('/').filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('--out an existing folder of other files is refused and left as it was', () => {
    const out = folder('theirs');
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    expectCleanFailure(cli(['run', scenario, '--out', out]), /holds files that are not infersim output \(notes\.txt\)/, { out, outExisted: true });
    expect(readdirSync(out)).toEqual(['notes.txt']);
  });

  it('output.dir set in the scenario to a file', () => {
    const f = writeScenario(root, 'to-file.yaml', scenarioText({ extra: `output: { dir: ${JSON.stringify(join(aFile, 'sub'))} }` }));
    expectCleanFailure(cli(['run', f]), /output\.dir: cannot create .*a-file\/sub: .*a-file is a file, not a folder \(ENOTDIR\)/);
    expectFileUntouched();
  });

  it.skipIf(!CAN_MOUNT)('--out in a read-only folder (EROFS)', () => {
    const ro = readOnlyFolder('ro-run');
    const out = join(ro, 'out');
    expectCleanFailure(cli(['run', scenario, '--out', out]), new RegExp(`cannot create ${out}: read-only file system \\(EROFS\\)`), { out });
  });

  it.skipIf(!CAN_DROP_ROOT)('--out in a folder the user may not write (EACCES)', () => {
    const dir = folder('no-write-run');
    const out = join(dir, 'out');
    const r = cliWithoutWrite(dir, ['run', scenario, '--out', out]);
    expectCleanFailure(r, new RegExp(`cannot create ${out}: permission denied \\(EACCES\\)`), { out });
  });

  it.skipIf(!CAN_MOUNT)('--out on a full disk (ENOSPC)', () => {
    const disk = smallDisk('full-run', true);
    const out = join(disk, 'out');
    expectCleanFailure(cli(['run', scenario, '--out', out]), /output\.dir: cannot (create|write) .*: no space left on the device \(ENOSPC\)/, { out });
  });

  it.skipIf(!CAN_MOUNT)('a disk that fills during the run (ENOSPC mid-write)', () => {
    const disk = smallDisk('fills-run', false);
    const out = join(disk, 'out');
    expectCleanFailure(cli(['run', big, '--out', out]), /output\.dir: cannot write .*\.arrow: no space left on the device \(ENOSPC\)/, { out });
    expect(readdirSync(disk)).toEqual([]);
  });
});

/** A temporary folder as a run leaves it when killed: marked with its writer (see WRITER_MARK). */
function writerFolder(path: string, pid: string, mark: Partial<{ host: string; boot_id: string | null }> = {}): void {
  mkdirSync(path);
  let boot_id: string | null = null;
  try {
    boot_id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // not Linux
  }
  writeFileSync(join(path, WRITER_MARK), JSON.stringify({ pid: Number(pid), host: hostname(), boot_id, ...mark }));
}

const deadPid = (): string => spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;

describe('infersim run: temporaries of dead processes', () => {
  it('removes those of a process no longer running, says so, and keeps those of a live one', () => {
    const dir = folder('stale');
    const out = join(dir, 'out');
    const dead = deadPid();
    writerFolder(`${out}.tmp-${dead}`, dead);
    writeFileSync(join(`${out}.tmp-${dead}`, 'requests.arrow'), 'partial');
    // A run killed after its latency samples outgrew memory leaves its spill file too.
    writeFileSync(join(`${out}.tmp-${dead}`, 'samples.spill'), 'partial');
    writerFolder(`${out}.old-${dead}`, dead);
    writerFolder(`${out}.tmp-${process.pid}`, String(process.pid));
    const r = cli(['run', scenario, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const said = r.stderr.split('\n').filter((l) => l.startsWith('infersim: removed stale temporary folder'));
    expect(said).toEqual([`infersim: removed stale temporary folder ${out}.tmp-${dead} (left by process ${dead}, no longer running)`]);
    // With no `out`, the folder a dead publish had moved aside is the previous output: it is put back (then replaced by this run's).
    expect(r.stderr).toContain(`infersim: restored the previous output ${out} from ${out}.old-${dead} (left by process ${dead}, no longer running)`);
    expect(readdirSync(dir).sort()).toEqual(['out', `out.tmp-${process.pid}`]);
  });

  it('puts back a previous output a dead process had moved aside, then replaces it', () => {
    const dir = folder('stale-aside');
    const out = join(dir, 'out');
    const dead = deadPid();
    // Killed between the two renames of a publish: the old output aside, the new one not yet in place.
    writerFolder(`${out}.old-${dead}`, dead);
    writeFileSync(join(`${out}.old-${dead}`, 'summary.json'), '{}');
    writerFolder(`${out}.tmp-${dead}`, dead);
    const r = cli(['run', scenario, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`removed stale temporary folder ${out}\\.tmp-${dead} \\(left by process ${dead}, no longer running\\)`));
    expect(readdirSync(dir)).toEqual(['out']);
    expect(readdirSync(out).sort()).toEqual(['cluster.arrow', 'events.arrow', 'iterations.arrow', 'requests.arrow', 'summary.json']);
  });
});

describe('infersim run: folders that only look like temporaries are never touched', () => {
  it("a user's backup named like an aside, with or without output-like files", () => {
    const dir = folder('lookalike');
    const out = join(dir, 'res');
    mkdirSync(`${out}.old-2023`);
    writeFileSync(join(`${out}.old-2023`, 'notes.txt'), 'mine');
    mkdirSync(join(dir, 'data.tmp-2023'));
    writeFileSync(join(dir, 'data.tmp-2023', 'summary.json'), 'mine');
    const r = cli(['run', scenario, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/removed|restored/);
    expect(readFileSync(join(`${out}.old-2023`, 'notes.txt'), 'utf8')).toBe('mine');
    const r2 = cli(['run', scenario, '--out', join(dir, 'data'), '--quiet']);
    expect(r2.status, r2.stderr).toBe(0);
    expect(readFileSync(join(dir, 'data.tmp-2023', 'summary.json'), 'utf8')).toBe('mine');
  });

  it("an unmarked aside holding only output names is not restored over a missing output", () => {
    const dir = folder('unmarked');
    const out = join(dir, 'res');
    mkdirSync(`${out}.old-2023`);
    writeFileSync(join(`${out}.old-2023`, 'summary.json'), '{"mine": true}');
    const r = cli(['run', scenario, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(`${out}.old-2023`, 'summary.json'), 'utf8')).toBe('{"mine": true}');
  });

  it("a dead writer's temporary that holds a file infersim never writes is left alone", () => {
    const dir = folder('foreign-file');
    const out = join(dir, 'res');
    const dead = deadPid();
    writerFolder(`${out}.tmp-${dead}`, dead);
    writeFileSync(join(`${out}.tmp-${dead}`, 'notes.txt'), 'mine');
    const r = cli(['run', scenario, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(`${out}.tmp-${dead}`, 'notes.txt'))).toBe(true);
  });

  it('a temporary marked by another machine (a shared volume) is left alone, even if its PID is not running here', () => {
    const dir = folder('other-host');
    const out = join(dir, 'res');
    const dead = deadPid();
    writerFolder(`${out}.tmp-${dead}`, dead, { host: 'another-machine' });
    writerFolder(`${out}.old-${dead}`, dead, { boot_id: 'another-boot' });
    const r = cli(['run', scenario, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/removed|restored/);
    expect(existsSync(`${out}.tmp-${dead}`) && existsSync(`${out}.old-${dead}`)).toBe(true);
  });

  it('a finished output holds no writer mark', () => {
    const out = join(folder('no-mark'), 'res');
    expect(cli(['run', scenario, '--out', out, '--quiet']).status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['cluster.arrow', 'events.arrow', 'iterations.arrow', 'requests.arrow', 'summary.json']);
  });
});

describe('infersim sweep: file-system faults', () => {
  it('--out through a regular file', () => {
    const out = join(aFile, 'sweep');
    expectCleanFailure(cli(['sweep', scenario, ...sweepGrid, '--out', out]), new RegExp(`--out: cannot create ${out}: ${aFile} is a file, not a folder \\(ENOTDIR\\)`));
    expectFileUntouched();
  });

  it('--out is a regular file', () => {
    expectCleanFailure(cli(['sweep', scenario, ...sweepGrid, '--out', aFile]), /--out: exists and is not a folder/, { out: aFile, outExisted: true });
  });

  it('--out through a symlink loop', () => {
    const out = join(loop, 'sweep');
    expectCleanFailure(cli(['sweep', scenario, ...sweepGrid, '--out', out]), /--out: cannot .*symbolic links.*\(ELOOP\)/, { out });
  });

  it('--out with a name too long', () => {
    expectCleanFailure(cli(['sweep', scenario, ...sweepGrid, '--out', tooLong]), /--out: .*too long \(ENAMETOOLONG\)/, { out: tooLong });
  });

  it.skipIf(!CAN_MOUNT)('--out in a read-only folder', () => {
    const ro = readOnlyFolder('ro-sweep');
    const out = join(ro, 'sweep');
    expectCleanFailure(cli(['sweep', scenario, ...sweepGrid, '--out', out]), new RegExp(`--out: cannot create ${out}: read-only file system \\(EROFS\\)`), { out });
  });

  it.skipIf(!CAN_DROP_ROOT)('--out in a folder the user may not write', () => {
    const dir = folder('no-write-sweep');
    const out = join(dir, 'sweep');
    const r = cliWithoutWrite(dir, ['sweep', scenario, ...sweepGrid, '--out', out]);
    expectCleanFailure(r, /--out: cannot create .*: permission denied \(EACCES\)/, { out });
  });

  it.skipIf(!CAN_MOUNT)('--out on a full disk: not an internal error, and no folder left', () => {
    const disk = smallDisk('full-sweep', true);
    const out = join(disk, 'sweep');
    const r = cli(['sweep', scenario, ...sweepGrid, '--out', out]);
    expect(r.stderr).not.toMatch(/internal error/);
    expectCleanFailure(r, /--out: cannot write .*sweep\.json: no space left on the device \(ENOSPC\)/, { out });
    expect(readdirSync(disk)).toEqual(['filler']);
  });

  it.skipIf(!CAN_MOUNT)('--keep-runs on a disk that fills: stops with one line, not "internal error", no temporary run folder', () => {
    const disk = smallDisk('fills-sweep', false);
    const out = join(disk, 'sweep');
    const r = cli(['sweep', big, ...sweepGrid, '--keep-runs', '--out', out]);
    expect(r.stderr).not.toMatch(/internal error/);
    expectCleanFailure(r, /point 0: output\.dir: cannot write .*: no space left on the device \(ENOSPC\).*rerun/, { out, outExisted: true });
    // runs/ was made by the point that failed, and went with it.
    expect(existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')) : []).toEqual([]);
    expect(readdirSync(join(out, 'points'))).toEqual([]);
  });

  it('sweep merge --out through a regular file', () => {
    const out = join(aFile, 'merged');
    expectCleanFailure(cli(['sweep', 'merge', sweepSource(), '--out', out]), new RegExp(`--out: cannot create ${out}: ${aFile} is a file, not a folder \\(ENOTDIR\\)`));
    expectFileUntouched();
  });

  it.skipIf(!CAN_MOUNT)('sweep merge --out on a full disk', () => {
    const disk = smallDisk('full-merge', true);
    const out = join(disk, 'merged');
    const r = cli(['sweep', 'merge', sweepSource(), '--out', out]);
    expect(r.stderr).not.toMatch(/internal error/);
    expectCleanFailure(r, /--out: cannot write .*sweep\.json: no space left on the device \(ENOSPC\)/, { out });
    expect(readdirSync(disk)).toEqual(['filler']);
  });
});

describe('infersim profile analytic --out: file-system faults', () => {
  const analytic = (out: string): CliResult => cli(['profile', 'analytic', '--gpu', 'h100-sxm', '--out', out]);

  it('--out through a regular file', () => {
    const out = join(aFile, 'p.json');
    expectCleanFailure(analytic(out), new RegExp(`--out: cannot (create|write) ${out}: ${aFile} is a file, not a folder \\(ENOTDIR\\)`));
    expectFileUntouched();
  });

  it('--out names a folder', () => {
    const out = folder('profile-folder.json');
    expectCleanFailure(analytic(out), new RegExp(`--out: cannot write ${out}: it is a folder \\(EISDIR\\)`), { out, outExisted: true });
    expect(readdirSync(out)).toEqual([]);
  });

  it('--out through a symlink loop', () => {
    const out = join(loop, 'p.json');
    expectCleanFailure(analytic(out), /--out: cannot .*symbolic links.*\(ELOOP\)/, { out });
  });

  it('--out with a name too long', () => {
    const out = join(root, 'x'.repeat(300), 'p.json');
    expectCleanFailure(analytic(out), /--out: .*too long \(ENAMETOOLONG\)/, { out });
  });

  it.skipIf(!CAN_MOUNT)('--out in a read-only folder', () => {
    const ro = readOnlyFolder('ro-profile');
    const out = join(ro, 'p.json');
    expectCleanFailure(analytic(out), /--out: cannot write .*p\.json: read-only file system \(EROFS\)/, { out });
  });

  it.skipIf(!CAN_MOUNT)('--out on a full disk', () => {
    const disk = smallDisk('full-profile', true);
    const out = join(disk, 'p.json');
    expectCleanFailure(analytic(out), /--out: cannot write .*p\.json: no space left on the device \(ENOSPC\)/, { out });
    expect(readdirSync(disk)).toEqual(['filler']);
  });
});
