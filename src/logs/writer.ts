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
 * Records of the same millisecond as the record before them are written short (`format.ts`),
 * so the writer keeps the time of the last record it queued for the current file
 * (`lastRecordTime`). It forgets it (the next record is full) when it opens an empty file and
 * when a write fails, and takes the other writer's when told another writer appended (`resync`).
 *
 * Writes are synchronous appends, buffered by the page cache, and never interleaved between
 * writers because each log file has exactly one writer. The records of one `write` (a pipe read
 * of up to 64 KiB, hundreds of lines) go to the file in one system call, not one per line.
 *
 * Complete lines are handled as bytes: a chunk's lines that are valid UTF-8 without a carriage
 * return, each within `MAX_LINE_BYTES`, fitting under the cap, become records by copying
 * prefix and line bytes, without decoding. Lines that are not (and rotation) go through the
 * text path (decode, split, strip `\r`, cut long lines, re-encode), always whole lines, so it
 * never holds state between chunks. Both give byte-identical files (a test compares them on
 * random input).
 */
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { encodeRecord, MAX_LINE_BYTES, recordPrefix, rotatedPath, type LogStream } from './format.js';

export interface LogWriterOptions {
  /** Cap of the current file in bytes. @default 10 MiB */
  maxBytes?: number;
  /** Clock for record times (tests pass a fake). @default Date.now */
  now?: () => number;
  /** Handle complete valid lines as bytes (tests turn it off to compare). @default true */
  bytePath?: boolean;
}

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

/**
 * The cap used when the caller passes none: `CEJOBS_LOG_MAX_BYTES` (a positive integer, read
 * when the writer is made, so a launcher takes it from its environment), else 10 MiB.
 */
export function defaultLogMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.CEJOBS_LOG_MAX_BYTES?.trim() || NaN);
  return Number.isSafeInteger(v) && v > 0 ? v : DEFAULT_LOG_MAX_BYTES;
}

export class LogWriter {
  readonly path: string;
  /** The effective cap of the current file (at least 4096). */
  readonly maxBytes: number;
  private readonly now: () => number;
  private fd: number | null = null;
  private size = 0;
  private readonly partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  // Chunks split UTF-8 sequences anywhere; a decoder per stream keeps them whole.
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private droppedBytes = 0;
  private dropReason = '';
  private closed = false;
  // With the byte path, the incomplete last line of each stream, as bytes (the text path's
  // `partial` and decoders then stay empty).
  private readonly partialBytes: Record<'stdout' | 'stderr', Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly bytePath: boolean;
  // Encoded records not yet written (see `append`), and their size in bytes.
  private pending: (string | Buffer)[] = [];
  private pendingBytes = 0;
  // The time of the last record queued or written to the current file; NaN: none, or unknown.
  private previousTime = NaN;

  constructor(path: string, options: LogWriterOptions = {}) {
    this.path = path;
    this.maxBytes = Math.max(4096, options.maxBytes ?? defaultLogMaxBytes());
    this.now = options.now ?? Date.now;
    this.bytePath = options.bytePath ?? true;
  }

  /** Appends output of a stream; complete lines become records, the rest waits for more. */
  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
    if (this.closed) return;
    if (!this.bytePath) return this.writeText(stream, chunk);
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const held = this.partialBytes[stream];
    const data = held.length > 0 ? Buffer.concat([held, bytes]) : bytes;
    const lastNl = data.lastIndexOf(10);
    if (lastNl >= 0) {
      const body = data.subarray(0, lastNl + 1); // complete lines, with the final newline
      const taken = this.appendLineBytes(stream, body);
      if (taken !== true) this.writeText(stream, body, taken);
    }
    let rest = data.subarray(lastNl + 1);
    if (rest.length > MAX_LINE_BYTES) rest = this.cutRunaway(stream, rest);
    this.partialBytes[stream] = Buffer.from(rest); // a copy: a subarray would keep the chunk alive
    this.writePending();
  }

  /**
   * Complete lines (`body` ends with a newline) as records, by copying bytes. Returns true when
   * done; otherwise, having written nothing, the lines need the text path: a `\r`, invalid UTF-8,
   * a line over `MAX_LINE_BYTES`, a file that cannot be opened — or records that would not fit
   * under the cap, and then it returns the time it read, for the text path to use (so both
   * paths read the clock as often).
   */
  private appendLineBytes(stream: 'stdout' | 'stderr', body: Buffer): true | number | undefined {
    if (body.indexOf(13) >= 0 || !isUtf8(body)) return undefined;
    let lines = 0;
    for (let from = 0, nl = body.indexOf(10); nl >= 0; from = nl + 1, nl = body.indexOf(10, from)) {
      if (nl - from > MAX_LINE_BYTES) return undefined;
      lines++;
    }
    try {
      this.open();
    } catch {
      return undefined;
    }
    const time = this.now();
    const first = recordPrefix(time, stream, this.previousTime);
    const short = recordPrefix(time, stream, time);
    const bytes = body.length + first.length + (lines - 1) * short.length; // the prefixes are ASCII
    if (this.size + this.pendingBytes + bytes > this.maxBytes) return time;
    // latin1 maps each byte to one character and back, so this copies the bytes as they are,
    // in three bulk native steps instead of two copies per line.
    const records = `${first}${body.toString('latin1', 0, body.length - 1).replaceAll('\n', `\n${short}`)}\n`;
    this.pending.push(Buffer.from(records, 'latin1'));
    this.pendingBytes += bytes;
    this.previousTime = time;
    return true;
  }

  /** A runaway line without newlines: records of its leading part, as the text path cuts them. */
  private cutRunaway(stream: 'stdout' | 'stderr', rest: Buffer): Buffer {
    const whole = completeUtf8Length(rest);
    const p = this.cutLongLine(stream, rest.subarray(0, whole).toString('utf8'));
    return Buffer.concat([Buffer.from(p), rest.subarray(whole)]);
  }

  /** Writes leading records of `MAX_LINE_BYTES` off a line still without its newline; returns the rest. */
  private cutLongLine(stream: 'stdout' | 'stderr', line: string): string {
    let p = line;
    while (Buffer.byteLength(p) > MAX_LINE_BYTES) {
      const cut = cutAt(p, MAX_LINE_BYTES);
      this.writeLine(stream, p.slice(0, cut));
      p = p.slice(cut);
    }
    return p;
  }

  /** The text path of `write`; `time`: the clock as the byte path read it, if it did. */
  private writeText(stream: 'stdout' | 'stderr', chunk: Buffer | string, time?: number): void {
    const text = this.partial[stream] + (typeof chunk === 'string' ? chunk : this.decoders[stream].write(chunk));
    const lastNl = text.lastIndexOf('\n');
    if (lastNl >= 0 && !this.appendLines(stream, text.slice(0, lastNl), time)) {
      for (const line of text.slice(0, lastNl).split('\n')) this.writeLine(stream, line);
    }
    // A runaway line without newlines must not grow memory without bound.
    this.partial[stream] = this.cutLongLine(stream, text.slice(lastNl + 1));
    this.writePending();
  }

  /** Writes a note from cejobs itself (stream `system`). */
  note(text: string): void {
    if (this.closed) return;
    this.writeLine('system', text);
    this.writePending();
  }

  /** Writes pending partial lines as records (at exit, or when output stalls). */
  flush(): void {
    if (this.closed) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      const held = this.partialBytes[stream];
      if (held.length > 0) {
        // Like the text path's decoder: an incomplete character at the end waits for the rest.
        const whole = completeUtf8Length(held);
        this.partialBytes[stream] = Buffer.from(held.subarray(whole));
        if (whole > 0) this.writeLine(stream, held.subarray(0, whole).toString('utf8'));
      }
      if (this.partial[stream] !== '') {
        const p = this.partial[stream];
        this.partial[stream] = '';
        this.writeLine(stream, p);
      }
    }
    this.writePending();
  }

  /**
   * Hands over the incomplete last line of a stream (bytes after the last newline), which this
   * writer then no longer holds: for a capture that keeps partial lines itself between the
   * chunks it gives the writer (the launcher's native log pump). Byte path only.
   */
  takePartial(stream: 'stdout' | 'stderr'): Buffer {
    const held = this.partialBytes[stream];
    this.partialBytes[stream] = Buffer.alloc(0);
    return held;
  }

  /**
   * Forgets the open file and its size, so the next write opens it again and learns its size:
   * another writer (the native log pump) appends to it in between. `previousTime`: the time of
   * the last record that writer wrote (NaN: unknown); absent, the writer keeps its own.
   */
  resync(previousTime?: number): void {
    if (previousTime !== undefined) this.previousTime = previousTime;
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already gone
    }
    this.fd = null;
  }

  /** The time of the last record this writer queued or wrote to the current file (NaN: unknown). */
  get lastRecordTime(): number {
    return this.previousTime;
  }

  /** True when bytes were dropped (a failed write) and the note saying so is not written yet. */
  owesDropNote(): boolean {
    return this.droppedBytes > 0;
  }

  /** True when a partial line waits for its newline. */
  hasPartial(): boolean {
    return this.partial.stdout !== '' || this.partial.stderr !== '' || this.partialBytes.stdout.length > 0 || this.partialBytes.stderr.length > 0;
  }

  close(): void {
    if (this.closed) return;
    // An incomplete UTF-8 sequence at the very end becomes U+FFFD rather than vanishing.
    for (const stream of ['stdout', 'stderr'] as const) {
      this.partial[stream] += this.partialBytes[stream].toString('utf8') + this.decoders[stream].end();
      this.partialBytes[stream] = Buffer.alloc(0);
    }
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
    this.append(this.now(), stream, line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /**
   * The common case of `write` in one piece: the complete lines `body` (newline-separated, no
   * trailing newline) become records stamped with one time, built with one `replaceAll`
   * instead of line by line. Returns false, having written nothing, when the lines need the
   * general path: a carriage return to strip, a line over `MAX_LINE_BYTES`, or records that
   * would not fit under the cap without a rotation (or a file that cannot be opened). `time`:
   * the clock as the byte path read it for these lines, if it did.
   */
  private appendLines(stream: 'stdout' | 'stderr', body: string, time?: number): boolean {
    if (body.includes('\r')) return false;
    let lines = 1;
    let from = 0;
    for (let nl = body.indexOf('\n'); nl >= 0; nl = body.indexOf('\n', from)) {
      if (nl - from > MAX_LINE_BYTES) return false;
      from = nl + 1;
      lines++;
    }
    if (body.length - from > MAX_LINE_BYTES) return false;
    try {
      this.open();
    } catch {
      return false;
    }
    const t = time ?? this.now();
    const short = recordPrefix(t, stream, t);
    const records = recordPrefix(t, stream, this.previousTime) + (lines > 1 ? body.replaceAll('\n', `\n${short}`) : body) + '\n';
    const bytes = Buffer.byteLength(records);
    if (this.size + this.pendingBytes + bytes > this.maxBytes) return false;
    this.pending.push(records);
    this.pendingBytes += bytes;
    this.previousTime = t;
    return true;
  }

  /**
   * Queues a record; `writePending` writes the queue. A record that would overflow the cap
   * first writes what is queued, then rotates, exactly as if each record were written alone.
   */
  private append(time: number, stream: LogStream, text: string): void {
    let record = encodeRecord({ time, stream, text }, this.previousTime);
    let bytes = Buffer.byteLength(record);
    if (this.pendingBytes > 0 && this.size + this.pendingBytes + bytes > this.maxBytes) this.writePending();
    if (this.pendingBytes === 0) {
      const before = this.previousTime;
      // Rotation is decided against the file as it is, so open it (and learn its size) first.
      try {
        this.open();
        if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      } catch (e) {
        this.dropped(bytes, e);
        return;
      }
      if (!Object.is(before, this.previousTime)) {
        // Opening an empty file or rotating changed the record before this one.
        record = encodeRecord({ time, stream, text }, this.previousTime);
        bytes = Buffer.byteLength(record);
      }
    }
    this.pending.push(record);
    this.pendingBytes += bytes;
    this.previousTime = time;
  }

  /** Writes the queued records in one call, after a note about earlier drops if any. */
  private writePending(): void {
    if (this.pendingBytes === 0) return;
    const batch =
      this.pending.length === 1
        ? this.pending[0]!
        : this.pending.every((p) => typeof p === 'string')
          ? this.pending.join('')
          : Buffer.concat(this.pending.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      this.open();
      if (this.droppedBytes > 0) {
        // Full: the batch after it was queued after the drop, so it starts with a full record too.
        const note = encodeRecord({
          time: this.now(),
          stream: 'system',
          text: `[cejobs] ${this.droppedBytes} bytes of output were dropped: ${this.dropReason}`,
        });
        this.writeWhole(note);
        this.droppedBytes = 0;
      }
      this.writeWhole(batch);
    } catch (e) {
      this.dropped(bytes, e);
    }
  }

  private dropped(bytes: number, e: unknown): void {
    this.droppedBytes += bytes;
    this.previousTime = NaN; // what the file ends with is not known now
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

  /**
   * Appends whole records or nothing. A disk that fills mid-write makes `write` return short:
   * the torn part is cut off again (truncating frees space, so it works on a full disk) and the
   * records count as dropped — else the next record (e.g. the note about the drop) would be
   * glued onto a torn line and neither would read back as a record.
   */
  private writeWhole(record: string | Buffer): void {
    const buf = typeof record === 'string' ? Buffer.from(record) : record;
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
    if (this.size === 0) this.previousTime = NaN; // a new file starts with a full record
  }

  private rotate(): void {
    fs.closeSync(this.fd!);
    this.fd = null;
    fs.renameSync(this.path, rotatedPath(this.path));
    this.fd = fs.openSync(this.path, 'a');
    this.size = 0;
    const time = this.now();
    this.size += fs.writeSync(
      this.fd,
      encodeRecord({
        time,
        stream: 'system',
        text: `[cejobs] log rotated at ${this.maxBytes} bytes; older output is in the previous part, earlier parts were dropped`,
      }),
    );
    this.previousTime = time;
  }
}

/** The length of the longest prefix of `b` that ends on a UTF-8 character boundary. */
function completeUtf8Length(b: Buffer): number {
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  let i = b.length - 1;
  while (i >= 0 && i >= b.length - 4 && (b[i]! & 0xc0) === 0x80) i--;
  if (i < 0) return b.length; // only continuation bytes: nothing to wait for
  const lead = b[i]!;
  // Only a valid lead byte starts a sequence worth waiting for (what a decoder would hold).
  const need = lead >= 0xf5 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 1;
  return b.length - i >= need ? b.length : i;
}

/** Where to split `s` at most `max` UTF-16 units in, without cutting a surrogate pair. */
function cutAt(s: string, max: number): number {
  if (s.length <= max) return s.length;
  const c = s.charCodeAt(max - 1);
  return c >= 0xd800 && c <= 0xdbff ? max - 1 : max;
}
