/**
 * Output of one attempt into `spec.logPath`, from up to three sources of the same bytes:
 *
 * - the **attach** stream, opened before the container starts (live output);
 * - a **follow** of the engine's logs, for a container adopted after a driver restart;
 * - the engine's **stored** logs (`logs(follow:false, timestamps)`), read after the exit when
 *   the live source did not end cleanly (Podman resets ~1–2 % of attach streams under load)
 *   or the container was adopted.
 *
 * Every source delivers each stream's bytes from the container's first byte, so the log is
 * de-duplicated by **byte offsets**: `written.stdout`/`written.stderr` count the bytes already
 * given to the `LogWriter`, and a source only contributes bytes beyond them. The offsets are
 * saved to `<workDir>/container-log-<attemptId>.json` (after each turn of the event loop that
 * wrote output, every second while running and at close), so a driver that adopts the container after a restart continues where the previous
 * one stopped instead of writing everything again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { LogWriter } from '../../logs/writer.js';

type Stream = 'stdout' | 'stderr';

export interface Offsets {
  stdout: number;
  stderr: number;
}

/** A partial line is written as a record after this long without output on the attempt. */
const PARTIAL_FLUSH_MS = 200;

export function offsetsFileOf(workDir: string, attemptId: string): string {
  return path.join(workDir, `container-log-${attemptId}.json`);
}

export function readOffsets(workDir: string, attemptId: string): Offsets {
  try {
    const o = JSON.parse(fs.readFileSync(offsetsFileOf(workDir, attemptId), 'utf8')) as Partial<Offsets>;
    return { stdout: Number(o.stdout) || 0, stderr: Number(o.stderr) || 0 };
  } catch {
    return { stdout: 0, stderr: 0 };
  }
}

/** One source's position in each stream (bytes it has delivered). */
export interface SourcePos {
  stdout: number;
  stderr: number;
}

export class AttemptOutput {
  private readonly writer: LogWriter;
  private stamp = Date.now();
  readonly written: Offsets;
  private savedAt: Offsets;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private savePending = false;

  constructor(
    logPath: string,
    private readonly workDir: string,
    private readonly attemptId: string,
    initial: Offsets = { stdout: 0, stderr: 0 },
    maxBytes?: number,
  ) {
    fs.mkdirSync(path.dirname(logPath), { recursive: true });
    this.writer = new LogWriter(logPath, { now: () => this.stamp, ...(maxBytes ? { maxBytes } : {}) });
    this.written = { ...initial };
    this.savedAt = { ...initial };
  }

  /** Bytes `chunk` of `stream`, which a source delivers at its position `pos[stream]`. */
  feed(pos: SourcePos, stream: Stream, chunk: Buffer, time?: number): void {
    const start = pos[stream];
    const end = start + chunk.length;
    pos[stream] = end;
    if (this.closed || end <= this.written[stream]) return;
    const slice = start >= this.written[stream] ? chunk : chunk.subarray(this.written[stream] - start);
    this.stamp = time ?? Date.now();
    this.writer.write(stream, slice);
    this.written[stream] = end;
    this.armFlush();
    this.saveSoon();
  }

  /**
   * Saves the offsets at the end of this turn of the event loop (one save for every chunk that
   * arrived in it). Saving only periodically left up to a second of output that a driver adopting
   * the container after a crash (SIGKILL) wrote again: duplicated log lines.
   */
  private saveSoon(): void {
    if (this.savePending) return;
    this.savePending = true;
    setImmediate(() => {
      this.savePending = false;
      if (!this.closed) this.saveOffsets();
    });
  }

  /** A note from cejobs (`[cejobs] …`). */
  note(text: string): void {
    if (this.closed) return;
    this.stamp = Date.now();
    this.writer.note(`[cejobs] ${text}`);
  }

  private armFlush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (!this.writer.hasPartial()) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.stamp = Date.now();
      this.writer.flush();
    }, PARTIAL_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Saves the offsets when they changed (cheap; called periodically). */
  saveOffsets(force = false): void {
    if (!force && this.savedAt.stdout === this.written.stdout && this.savedAt.stderr === this.written.stderr) return;
    try {
      const file = offsetsFileOf(this.workDir, this.attemptId);
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(this.written));
      fs.renameSync(tmp, file);
      this.savedAt = { ...this.written };
    } catch {
      // the work dir may be gone (run deleted); nothing to keep
    }
  }

  /** Writes pending partial lines, closes the file and saves the offsets. */
  close(): void {
    if (this.closed) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.stamp = Date.now();
    this.writer.close();
    this.closed = true;
    this.saveOffsets(true);
  }

  /** A writable sink for `modem.demuxStream` feeding `stream` of a source. */
  sink(pos: SourcePos, stream: Stream): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.feed(pos, stream, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        cb();
      },
    });
  }
}

/** Splits a multiplexed (non-TTY) buffer into its frames. */
export function parseFrames(buf: Buffer): { stream: Stream | 'stdin'; payload: Buffer }[] {
  const out: { stream: Stream | 'stdin'; payload: Buffer }[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const type = buf[off];
    const n = buf.readUInt32BE(off + 4);
    const payload = buf.subarray(off + 8, off + 8 + n);
    out.push({ stream: type === 2 ? 'stderr' : type === 1 ? 'stdout' : 'stdin', payload });
    off += 8 + n;
  }
  return out;
}

/**
 * Feeds the engine's stored record of the container's output (complete, with the engine's
 * timestamps) into `out`; only bytes beyond what `out` already has are written.
 */
export async function completeFromStoredLogs(container: Docker.Container, out: AttemptOutput): Promise<void> {
  const raw = (await container.logs({ stdout: true, stderr: true, follow: false, timestamps: true })) as unknown;
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw ?? ''), 'latin1');
  const pos: SourcePos = { stdout: 0, stderr: 0 };
  for (const f of parseFrames(buf)) {
    if (f.stream === 'stdin') continue;
    // "<RFC 3339 time> <content>"
    const space = f.payload.indexOf(0x20);
    let time: number | undefined;
    let content = f.payload;
    if (space > 0 && space < 40) {
      const t = Date.parse(f.payload.subarray(0, space).toString('latin1'));
      if (!Number.isNaN(t)) {
        time = t;
        content = f.payload.subarray(space + 1);
      }
    }
    out.feed(pos, f.stream, content, time);
  }
}
