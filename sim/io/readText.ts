import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { fieldError, InfersimError, shownText } from '../errors.js';

/**
 * The most a trace or other data file read whole may hold: V8 cannot make a string much past
 * 512 MiB, and failing at the limit with a clear message beats failing inside toString.
 */
export const MAX_DATA_BYTES = 512 * 1024 * 1024;

/**
 * The whole file as UTF-8 (BOM removed). Only a regular file of at most `maxBytes` is read: a FIFO
 * or /dev/zero would block or never end. O_NONBLOCK lets a FIFO's open return so fstat can refuse it
 * (a plain open waits for a writer); the fd is what gets read, so a swap after the check reads nothing else.
 */
export function readText(path: string, field: string, maxBytes = MAX_DATA_BYTES): string {
  return decode(readBytes(path, field, maxBytes), path, field);
}

/** The whole file as bytes (a binary format: Arrow IPC), with readText's checks: a regular file of at most `maxBytes`. */
export function readBytes(path: string, field: string, maxBytes = MAX_DATA_BYTES): Buffer {
  const fd = openFile(path, field);
  let bytes: Buffer;
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw fieldError(field, `must name a regular file, not ${kindOf(stats)}`, path);
    if (stats.size > maxBytes) {
      throw fieldError(field, `file is ${mebibytes(stats.size)}, larger than the ${mebibytes(maxBytes)} that can be read`, path);
    }
    bytes = readFileSync(fd);
  } catch (error) {
    if (error instanceof InfersimError) throw error;
    throw fieldError(field, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** An fd open for reading on a regular file (checked with fstat on the fd itself); the caller closes it. */
export function openRegularFile(path: string, field: string): number {
  const fd = openFile(path, field);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw fieldError(field, `must name a regular file, not ${kindOf(stats)}`, path);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

function openFile(path: string, field: string): number {
  try {
    return openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fieldError(field, `file not found: ${shownText(path)}`);
    if (code === 'EISDIR') throw fieldError(field, `is a directory, not a file: ${shownText(path)}`);
    throw fieldError(field, `cannot read ${shownText(path)} (${code ?? (error as Error).message})`);
  }
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'a special file';
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** UTF-8 text; a UTF-16 file (Windows editors write them) is named as such rather than as binary. */
function decode(bytes: Buffer, path: string, field: string): string {
  const bom16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  if (bom16) throw fieldError(field, 'file is UTF-16: save it as UTF-8', path);
  // No text format infersim reads has NUL bytes; a binary file would otherwise fail far from the cause.
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw fieldError(field, `not a text file: a NUL byte at byte ${nul}`, path);
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
