/**
 * A capped, rotating writer of one instance's log (record format: `format.ts`).
 *
 * - Splits incoming chunks into lines per stream, stamping each line with the time it was read.
 * - Keeps at most `maxBytes` in the current file; when a record would overflow it, the file
 *   becomes `<path>.1` (replacing an older one) and a new file starts with a system note. So an
 *   instance never holds more than about 2 × `maxBytes` on disk, however chatty it is.
 * - A failed write (disk full) never throws at the caller: the bytes are counted as dropped and
 *   a system note says how many were lost once writing works again.
 *
 * Writes are synchronous appends: small, buffered by the page cache, and never interleaved
 * between writers because each log file has exactly one writer.
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { encodeRecord, MAX_LINE_BYTES, rotatedPath, type LogStream } from './format.js';

export interface LogWriterOptions {
  /** Cap of the current file in bytes. @default 10 MiB */
  maxBytes?: number;
  /** Clock for record times (tests pass a fake). @default Date.now */
  now?: () => number;
}

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

export class LogWriter {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private fd: number | null = null;
  private size = 0;
  private readonly partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  // Chunks split UTF-8 sequences anywhere; a decoder per stream keeps them whole.
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private droppedBytes = 0;
  private dropReason = '';
  private closed = false;

  constructor(path: string, options: LogWriterOptions = {}) {
    this.path = path;
    this.maxBytes = Math.max(4096, options.maxBytes ?? DEFAULT_LOG_MAX_BYTES);
    this.now = options.now ?? Date.now;
  }

  /** Appends output of a stream; complete lines become records, the rest waits for more. */
  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
    if (this.closed) return;
    const text = this.partial[stream] + (typeof chunk === 'string' ? chunk : this.decoders[stream].write(chunk));
    const lines = text.split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.writeLine(stream, line);
    // A runaway line without newlines must not grow memory without bound.
    while (Buffer.byteLength(this.partial[stream]) > MAX_LINE_BYTES) {
      const p = this.partial[stream];
      const cut = cutAt(p, MAX_LINE_BYTES);
      this.writeLine(stream, p.slice(0, cut));
      this.partial[stream] = p.slice(cut);
    }
  }

  /** Writes a note from cejobs itself (stream `system`). */
  note(text: string): void {
    if (this.closed) return;
    this.writeLine('system', text);
  }

  /** Writes pending partial lines as records (at exit, or when output stalls). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') {
        const p = this.partial[stream];
        this.partial[stream] = '';
        this.writeLine(stream, p);
      }
    }
  }

  /** True when a partial line waits for its newline. */
  hasPartial(): boolean {
    return this.partial.stdout !== '' || this.partial.stderr !== '';
  }

  close(): void {
    if (this.closed) return;
    // An incomplete UTF-8 sequence at the very end becomes U+FFFD rather than vanishing.
    for (const stream of ['stdout', 'stderr'] as const) this.partial[stream] += this.decoders[stream].end();
    this.flush();
    this.closed = true;
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already gone; nothing to keep
      }
      this.fd = null;
    }
  }

  private writeLine(stream: LogStream, line: string): void {
    if (line.length > MAX_LINE_BYTES) {
      for (let i = 0; i < line.length; ) {
        const cut = i + cutAt(line.slice(i), MAX_LINE_BYTES);
        this.writeLine(stream, line.slice(i, cut));
        i = cut;
      }
      return;
    }
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    this.append(encodeRecord({ time: this.now(), stream, text }));
  }

  private append(record: string): void {
    const bytes = Buffer.byteLength(record);
    try {
      this.open();
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      if (this.droppedBytes > 0) {
        const note = encodeRecord({
          time: this.now(),
          stream: 'system',
          text: `[cejobs] ${this.droppedBytes} bytes of output were dropped: ${this.dropReason}`,
        });
        this.writeWhole(note);
        this.droppedBytes = 0;
      }
      this.writeWhole(record);
    } catch (e) {
      this.droppedBytes += bytes;
      this.dropReason = (e as NodeJS.ErrnoException).code ?? String(e);
      // Reopen on the next write: the file may have been removed or the disk may be full.
      if (this.fd !== null) {
        try {
          fs.closeSync(this.fd);
        } catch {
          // ignore: we reopen next time
        }
        this.fd = null;
      }
    }
  }

  /**
   * Appends one whole record or nothing. A disk that fills mid-record makes `write` return
   * short: the torn part is cut off again (truncating frees space, so it works on a full disk)
   * and the record counts as dropped — else the next record (e.g. the note about the drop)
   * would be glued onto a torn line and neither would read back as a record.
   */
  private writeWhole(record: string): void {
    const buf = Buffer.from(record);
    const n = fs.writeSync(this.fd!, buf);
    if (n < buf.length) {
      try {
        fs.ftruncateSync(this.fd!, this.size);
      } catch {
        // nothing better to do; the reader skips what does not parse
      }
      throw Object.assign(new Error('short write: the disk is full'), { code: 'ENOSPC' });
    }
    this.size += n;
  }

  private open(): void {
    if (this.fd !== null) return;
    this.fd = fs.openSync(this.path, 'a');
    this.size = fs.fstatSync(this.fd).size;
  }

  private rotate(): void {
    fs.closeSync(this.fd!);
    this.fd = null;
    fs.renameSync(this.path, rotatedPath(this.path));
    this.fd = fs.openSync(this.path, 'a');
    this.size = 0;
    this.size += fs.writeSync(
      this.fd,
      encodeRecord({
        time: this.now(),
        stream: 'system',
        text: `[cejobs] log rotated at ${this.maxBytes} bytes; older output is in the previous part, earlier parts were dropped`,
      }),
    );
  }
}

/** Where to split `s` at most `max` UTF-16 units in, without cutting a surrogate pair. */
function cutAt(s: string, max: number): number {
  if (s.length <= max) return s.length;
  const c = s.charCodeAt(max - 1);
  return c >= 0xd800 && c <= 0xdbff ? max - 1 : max;
}
