import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { withPath } from '../fsErrors.js';
import { FIELD } from './outputDir.js';

/**
 * Values written to a run's spill file, read back (`inMemory` in select.ts) when the summary needs
 * them: plain float64 values (an F64List's), or weighted ones (`weighted`: each value then an int32
 * weight, a GapPool's per-step counts).
 */
export interface SpilledValues {
  readonly spill: SpillFile;
  /** Byte offset in the file. */
  readonly offset: number;
  /** Values in the segment. */
  readonly length: number;
  /** Samples they stand for: `length`, or the sum of the weights. */
  readonly samples: number;
  readonly weighted: boolean;
}

/**
 * A scratch file of float64 segments, beside a run's outputs in its temporary folder, so that the
 * latency samples exact percentiles need take disk rather than memory: 32 bytes per request per
 * group held in memory made 10 M requests need ~1.5 GB. Segments are written once, in order, and
 * read back one at a time into one buffer: a reader must be done with a segment before it reads
 * the next (every pass of the summary reads its sources one after another).
 */
export class SpillFile {
  private fd: number | undefined;
  private end = 0;
  private scratch = new ArrayBuffer(0);
  private closed = false;

  constructor(readonly path: string) {}

  /** Appends values[0..n) as a new segment. */
  write(values: Float64Array, n: number): SpilledValues {
    const offset = this.append(new Uint8Array(values.buffer, values.byteOffset, n * 8));
    return { spill: this, offset, length: n, samples: n, weighted: false };
  }

  /** Appends values[0..n), each standing for weights[i] samples, as a new segment. */
  writeWeighted(values: Float64Array, weights: Int32Array, n: number): SpilledValues {
    const offset = this.append(new Uint8Array(values.buffer, values.byteOffset, n * 8));
    this.append(new Uint8Array(weights.buffer, weights.byteOffset, n * 4));
    let samples = 0;
    for (let i = 0; i < n; i++) samples += weights[i];
    return { spill: this, offset, length: n, samples, weighted: true };
  }

  /** A plain segment's values, in a buffer the next read overwrites. */
  read(segment: SpilledValues): Float64Array {
    return new Float64Array(this.load(segment, 8), 0, segment.length);
  }

  /** A weighted segment's values and weights, in a buffer the next read overwrites. */
  readWeighted(segment: SpilledValues): { values: Float64Array; weights: Int32Array } {
    const buffer = this.load(segment, 12);
    return { values: new Float64Array(buffer, 0, segment.length), weights: new Int32Array(buffer, segment.length * 8, segment.length) };
  }

  private append(bytes: Uint8Array): number {
    if (this.closed) throw new Error(`spill file ${this.path} written after it was closed`);
    const fd = (this.fd ??= withPath(FIELD, 'create', this.path, () => openSync(this.path, 'w+')));
    const offset = this.end;
    withPath(FIELD, 'write', this.path, () => {
      for (let done = 0; done < bytes.length; ) {
        const wrote = writeSync(fd, bytes, done, bytes.length - done, offset + done);
        if (wrote === 0) throw new Error(`spill file ${this.path}: the write stalled at byte ${offset + done}`);
        done += wrote;
      }
    });
    this.end += bytes.length;
    return offset;
  }

  /** Reads a segment of `bytesPerValue` bytes a value into the scratch buffer. */
  private load(segment: SpilledValues, bytesPerValue: number): ArrayBuffer {
    if (this.fd === undefined || this.closed) throw new Error(`spill file ${this.path} read while closed`);
    const size = segment.length * bytesPerValue;
    if (this.scratch.byteLength < size) this.scratch = new ArrayBuffer(size);
    const bytes = new Uint8Array(this.scratch, 0, size);
    const fd = this.fd;
    withPath(FIELD, 'read', this.path, () => {
      for (let done = 0; done < size; ) {
        const got = readSync(fd, bytes, done, size - done, segment.offset + done);
        if (got === 0) throw new Error(`spill file ${this.path} ends before byte ${segment.offset + size}`);
        done += got;
      }
    });
    return this.scratch;
  }

  /** On a failed run: the same as `close`, so the sink discards it with its writers. */
  abort(): void {
    this.close();
  }

  /** Closes and removes the file (nothing to do when nothing was written). Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.scratch = new ArrayBuffer(0);
    if (this.fd === undefined) return;
    const fd = this.fd;
    try {
      withPath(FIELD, 'close', this.path, () => closeSync(fd));
    } finally {
      // A failed close is the error worth reporting; the removal is tried either way.
      try {
        rmSync(this.path, { force: true });
      } catch {
        // The folder holding it is removed on abort, or reported when it is published.
      }
    }
  }
}
