import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, parse } from 'node:path';
import { InfersimError } from './errors.js';

/**
 * A failure of the user's file system (a full disk, a read-only folder, a path through a file).
 * It prints as one line like an input error, but it is not a property of the input: a sweep
 * stops on it instead of recording the point as failed, so a rerun retries the point.
 */
export class FileSystemError extends InfersimError {}

/** A Node system error (fs, child_process…): it carries an errno code and the call that failed. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  const e = err as NodeJS.ErrnoException | null;
  return e instanceof Error && typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) && typeof e.syscall === 'string';
}

const WORDS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  ELOOP: 'too many levels of symbolic links (a symlink loop?)',
  ENAMETOOLONG: 'a name in the path is too long',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'the folder is not empty',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on the system',
  EBUSY: 'the resource is busy',
  EXDEV: 'it is on another file system',
};

/** The problem in words: the code's meaning, made specific to `path` where the file system tells more. */
export function describeProblem(code: string, path: string | undefined, syscall?: string): string {
  if (path !== undefined && (code === 'ENOTDIR' || code === 'EEXIST')) {
    const file = firstNonFolder(path);
    if (file !== undefined) return `${file} is a file, not a folder`;
    const link = danglingLink(path);
    if (link !== undefined) return link;
  }
  // mkdir failing with ENOENT under an existing folder: /proc, sysfs, some FUSE mounts.
  if (path !== undefined && code === 'ENOENT' && syscall === 'mkdir' && isFolder(dirname(path)) && !existsSync(path)) {
    return `${dirname(path)} does not accept new entries`;
  }
  return WORDS[code] ?? code.toLowerCase();
}

/**
 * `field: cannot <action> <path>: <problem> (<CODE>)`: a system error from I/O on `path`, as one
 * line. An InfersimError is returned as it is; anything else (a bug) is rethrown.
 */
export function fsError(field: string, action: string, path: string, err: unknown): InfersimError {
  if (err instanceof InfersimError) return err;
  if (!isSystemError(err)) throw err;
  const where = err.path ?? path;
  return new FileSystemError(`${field}: cannot ${action} ${path}: ${describeProblem(err.code, where, err.syscall)} (${err.code})`);
}

/**
 * The one line for a system error no caller named (every write path should name its own): its
 * call, path and the problem in words; undefined for an error without a path.
 */
export function systemErrorLine(err: unknown): string | undefined {
  if (!isSystemError(err) || typeof err.path !== 'string') return undefined;
  return `cannot ${err.syscall} ${err.path}: ${describeProblem(err.code, err.path, err.syscall)} (${err.code})`;
}

/** Runs `io`, turning a system error into one line naming `path`; anything else (a bug) passes through. */
export function withPath<T>(field: string, action: string, path: string, io: () => T): T {
  try {
    return io();
  } catch (err) {
    throw isSystemError(err) ? fsError(field, action, path, err) : err;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `path`'s ancestors from the root down, then `path` itself: /a, /a/b, /a/b/c. */
function* ancestors(path: string): Generator<string> {
  const { root } = parse(path);
  let prefix = root;
  for (const part of path.slice(root.length).split('/').filter((p) => p !== '')) {
    prefix = join(prefix, part);
    yield prefix;
  }
}

/** The first ancestor of `path` (or `path` itself) that exists and is not a folder. */
function firstNonFolder(path: string): string | undefined {
  for (const prefix of ancestors(path)) {
    try {
      if (!statSync(prefix).isDirectory()) return prefix;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** "X is a symbolic link to a missing Y" for the first such ancestor of `path`. */
function danglingLink(path: string): string | undefined {
  for (const prefix of ancestors(path)) {
    try {
      if (lstatSync(prefix).isSymbolicLink() && !existsSync(prefix)) return `${prefix} is a symbolic link to ${readlinkSync(prefix)}, which does not exist`;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * mkdir -p without `mkdirSync(…, { recursive: true })`: Node's version loops forever where mkdir
 * fails with ENOENT under an existing folder (/proc, some FUSE mounts), and says nothing of which
 * component failed. Returns the first folder it created (undefined if `path` existed). A parent
 * that another process makes meanwhile (two sweep workers starting their first points under one
 * `runs/`) is taken as found, not created: it is not this call's to remove. `mkdir` is injectable
 * so that the race can be tested.
 */
export function makeFolders(path: string, mkdir: (dir: string) => void = mkdirSync): string | undefined {
  const missing: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    try {
      if (statSync(p).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', syscall: 'mkdir', path: p });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw err;
      missing.push(p);
    }
  }
  missing.reverse();
  let first: string | undefined;
  for (const dir of missing) {
    try {
      mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || dir === path || !isFolder(dir)) throw err;
      continue;
    }
    first ??= dir;
  }
  return first;
}

/** rm -rf that never throws: used while reporting another error, which matters more. */
export function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // (a folder gone read-only, or vanished)
  }
}

/**
 * Writes `data` to `file` whole or not at all: through `<file>.tmp-<pid>` and a rename, so readers
 * see the old file or the new one. Missing parent folders are made; a failure (a full disk, a
 * path through a file) removes what this call made and names `file` after `field`.
 */
export function writeFileAtomic(field: string, file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  let created: string | undefined;
  try {
    created = makeFolders(dirname(file));
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    removeQuietly(created ?? tmp);
    throw fsError(field, 'write', file, err);
  }
}

/** Whether process `pid` is running (EPERM: it is, under another user). */
export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What `recoverPublish` did: the folders it removed, and the previous output it put back (if any). */
export interface Recovered {
  removed: string[];
  restored: string | undefined;
}

/**
 * Undoes what process `pid` left of an unfinished publish of `dir` (see MetricsSink): its
 * `<dir>.tmp-<pid>` goes; its `<dir>.old-<pid>` (the previous output, moved aside) is put back
 * when `dir` is missing, else removed (the new output was already in place).
 */
export function recoverPublish(dir: string, pid: number): Recovered {
  const done: Recovered = { removed: [], restored: undefined };
  const tmp = `${dir}.tmp-${pid}`;
  const old = `${dir}.old-${pid}`;
  if (existsSync(old)) {
    if (!existsSync(dir)) {
      renameSync(old, dir);
      unmarkWriter(dir);
      done.restored = old;
    } else {
      rmSync(old, { recursive: true, force: true });
      done.removed.push(old);
    }
  }
  if (existsSync(tmp)) {
    rmSync(tmp, { recursive: true, force: true });
    done.removed.push(tmp);
  }
  return done;
}

/**
 * The file a run writes first into each temporary folder it makes (and into the previous output
 * it moves aside): who made it. A later run cleans up only folders that carry it, name a process
 * of this machine (host and boot) that is gone, and hold nothing but infersim's own files, so a
 * user's `results.old-2023` or another machine's live run sharing the folder is never touched.
 */
export const WRITER_MARK = '.infersim-writer.json';

interface WriterIdentity {
  pid: number;
  host: string;
  boot_id: string | null;
}

function thisMachine(): { host: string; boot_id: string | null } {
  let boot_id: string | null = null;
  try {
    // Linux: a new id every boot, so a PID from before a reboot is never taken for a live one.
    boot_id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // Elsewhere the host name alone must do.
  }
  return { host: hostname(), boot_id };
}

/** Marks `folder` as this process's temporary (see WRITER_MARK). */
export function markWriter(folder: string): void {
  const mark: WriterIdentity = { pid: process.pid, ...thisMachine() };
  writeFileSync(join(folder, WRITER_MARK), JSON.stringify(mark));
}

/** Removes the mark from a folder that becomes (or again is) an output. */
export function unmarkWriter(folder: string): void {
  rmSync(join(folder, WRITER_MARK), { force: true });
}

/** Whether `folder` is a temporary left by process `pid`, dead, of this machine, holding only `allowed` names. */
function leftByDeadWriter(folder: string, pid: number, allowed: ReadonlySet<string>): boolean {
  try {
    const mark = JSON.parse(readFileSync(join(folder, WRITER_MARK), 'utf8')) as WriterIdentity;
    const here = thisMachine();
    if (mark.pid !== pid || mark.host !== here.host || mark.boot_id !== here.boot_id || isAlive(pid)) return false;
    return readdirSync(folder).every((name) => name === WRITER_MARK || allowed.has(name));
  } catch {
    return false;
  }
}

/**
 * Recovers every unfinished publish of `dir` by a dead infersim process (see WRITER_MARK): a
 * temporary goes; a previous output it had moved aside comes back when `dir` is missing, else
 * goes. Says so on stderr, one line each. `allowed`: the names an infersim output folder holds.
 */
export function removeStaleTemporaries(dir: string, allowed: ReadonlySet<string>): void {
  let names: string[];
  try {
    names = readdirSync(dirname(dir));
  } catch {
    return;
  }
  const prefix = basename(dir);
  // Asides first, so a restored previous output is in place before its temporaries are judged.
  const found = names
    .map((name) => (name.startsWith(prefix) ? /^\.(tmp|old)-(\d+)$/.exec(name.slice(prefix.length)) : null))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((x, y) => (x[1] === y[1] ? 0 : x[1] === 'old' ? -1 : 1));
  for (const [suffix, kind, pidText] of found) {
    const path = `${dir}${suffix}`;
    const pid = Number(pidText);
    if (!leftByDeadWriter(path, pid, allowed)) continue;
    const why = `(left by process ${pid}, no longer running)`;
    if (kind === 'old' && !existsSync(dir)) {
      renameSync(path, dir);
      unmarkWriter(dir);
      process.stderr.write(`infersim: restored the previous output ${dir} from ${path} ${why}\n`);
    } else {
      rmSync(path, { recursive: true, force: true });
      process.stderr.write(`infersim: removed stale temporary folder ${path} ${why}\n`);
    }
  }
}
