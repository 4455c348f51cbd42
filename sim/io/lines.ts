import { closeSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { fieldError, rowError } from '../errors.js';
import { openRegularFile } from './readText.js';

/** What a LineReader reports after each read from the file (tests check that reading is incremental). */
export interface ReadProbe {
  /** Bytes read from the file so far. */
  bytes_read: number;
  /** Complete lines held in memory and not yet returned, right after this read. */
  buffered_lines: number;
}

export interface LineReaderOptions {
  /** Bytes per read (default 256 KiB). */
  chunkBytes?: number;
  /** Called after every read; for tests and diagnostics, so the hot path pays nothing without it. */
  onRead?: (probe: ReadProbe) => void;
}

/**
 * A text file read line by line with synchronous chunked reads, so memory holds one chunk and the
 * lines in it, whatever the file's size (the request stream is pulled synchronously by the engine).
 * Lines are returned without their end (LF or CRLF); a UTF-8 BOM is dropped. Only a regular file is
 * opened (sim/io/readText.ts): a FIFO or a device is refused before any read.
 */
export class LineReader {
  private fd: number | undefined;
  private readonly buffer: Buffer;
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private pos = 0;
  private lineNumber = 0;
  private bytesRead = 0;
  private eof = false;

  constructor(
    private readonly path: string,
    field: string,
    private readonly options: LineReaderOptions = {},
  ) {
    this.fd = openRegularFile(path, field);
    this.buffer = Buffer.allocUnsafe(Math.max(64, options.chunkBytes ?? 256 * 1024));
  }

  /** 1-based number of the line `next()` returned last. */
  get line(): number {
    return this.lineNumber;
  }

  /** The next line, or undefined at the end of the file (the file is then closed). */
  next(): string | undefined {
    for (;;) {
      const eol = this.pending.indexOf('\n', this.pos);
      if (eol !== -1) {
        let text = this.pending.slice(this.pos, eol);
        this.pos = eol + 1;
        if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
        return this.take(text);
      }
      if (this.eof) {
        if (this.pos < this.pending.length) {
          const text = this.pending.slice(this.pos);
          this.pos = this.pending.length;
          return this.take(text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text);
        }
        return undefined;
      }
      this.fill();
    }
  }

  /** Closes the file early (a stream cut short by num_requests or duration_s). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private take(text: string): string {
    this.lineNumber++;
    if (this.lineNumber === 1 && text.charCodeAt(0) === 0xfeff) return text.slice(1);
    if (text.indexOf('\0') !== -1) throw rowError(this.path, this.lineNumber, 'not a text file: a NUL byte in this line');
    return text;
  }

  private fill(): void {
    if (this.fd === undefined) {
      this.eof = true;
      return;
    }
    let n: number;
    try {
      n = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
    } catch (error) {
      this.close();
      throw fieldError('workload.trace.path', `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, this.path);
    }
    // Keep only the unreturned tail: the buffer never grows past a chunk plus one partial line.
    const rest = this.pending.slice(this.pos);
    this.pos = 0;
    if (n === 0) {
      this.pending = rest + this.decoder.end();
      this.eof = true;
      this.close();
    } else {
      this.bytesRead += n;
      this.pending = rest + this.decoder.write(this.buffer.subarray(0, n));
    }
    if (this.options.onRead !== undefined) this.options.onRead({ bytes_read: this.bytesRead, buffered_lines: countLines(this.pending) });
  }
}

function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}
