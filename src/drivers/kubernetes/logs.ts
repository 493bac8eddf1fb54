/**
 * Output of one attempt into `spec.logPath` from the pod log API, in two passes over the same
 * lines:
 *
 * - **live**: a follow of the container's log (`follow=true&timestamps=true`) while it runs;
 * - **complete**: the whole log (`timestamps=true`) read after the container ended and before
 *   the exit is reported (so before `release` deletes the pod): the stored record is complete
 *   even when the follow broke, started late, or belonged to a driver that restarted.
 *
 * Both passes deliver the kubelet's lines from the first one, each prefixed with its RFC 3339
 * time (kept as the record's time), so they are de-duplicated by **line count**: a pass only
 * writes lines beyond `written`. The count is saved to `<workDir>/k8s-log-<attemptId>.json` so
 * a driver adopting the pod after a restart continues where the previous one stopped.
 *
 * The pod log API merges stdout and stderr: every line is recorded as `stdout`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { LogWriter } from '../../logs/writer.js';

export function lineCountFileOf(workDir: string, attemptId: string): string {
  return path.join(workDir, `k8s-log-${attemptId}.json`);
}

export function readLineCount(workDir: string, attemptId: string): number {
  try {
    return Number((JSON.parse(fs.readFileSync(lineCountFileOf(workDir, attemptId), 'utf8')) as { lines?: unknown }).lines) || 0;
  } catch {
    return 0;
  }
}

/** Splits `"<RFC 3339 time> <text>"` into its time (epoch ms) and text. */
export function splitTimestamp(line: string): { time?: number; text: string } {
  const space = line.indexOf(' ');
  if (space > 0 && space < 40) {
    const t = Date.parse(line.slice(0, space));
    if (!Number.isNaN(t)) return { time: t, text: line.slice(space + 1) };
  }
  return { text: line };
}

export class PodLog {
  private readonly writer: LogWriter;
  private stamp = Date.now();
  /** Lines of the container's log already written. */
  written: number;
  private closed = false;

  constructor(
    logPath: string,
    private readonly workDir: string,
    private readonly attemptId: string,
    initialLines = 0,
    maxBytes?: number,
  ) {
    fs.mkdirSync(path.dirname(logPath), { recursive: true });
    this.writer = new LogWriter(logPath, { now: () => this.stamp, ...(maxBytes ? { maxBytes } : {}) });
    this.written = initialLines;
  }

  /** Line number `n` (0-based) of the container's log, with its timestamp prefix. */
  private line(n: number, raw: string): void {
    if (this.closed || n < this.written) return;
    const { time, text } = splitTimestamp(raw);
    this.stamp = time ?? Date.now();
    this.writer.write('stdout', `${text}\n`);
    this.written = n + 1;
  }

  /** A note from cejobs (`[cejobs] …`). */
  note(text: string): void {
    if (this.closed) return;
    this.stamp = Date.now();
    this.writer.note(`[cejobs] ${text}`);
  }

  /**
   * A sink for a follow of the log: lines are written as they complete; a last line without a
   * newline is written when the stream ends.
   */
  followSink(): Writable {
    const decoder = new StringDecoder('utf8');
    let partial = '';
    let n = 0;
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        const lines = (partial + decoder.write(chunk)).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) this.line(n++, l);
        this.save();
        cb();
      },
      final: (cb) => {
        partial += decoder.end();
        if (partial !== '') this.line(n++, partial);
        partial = '';
        this.save();
        cb();
      },
    });
  }

  /** Writes the lines of the complete log `text` that are not written yet. */
  complete(text: string): void {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    lines.forEach((l, n) => this.line(n, l));
    this.save();
  }

  private save(): void {
    try {
      const file = lineCountFileOf(this.workDir, this.attemptId);
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ lines: this.written }));
      fs.renameSync(tmp, file);
    } catch {
      // the work dir is gone (run deleted): nothing to keep
    }
  }

  close(): void {
    if (this.closed) return;
    this.stamp = Date.now();
    this.writer.close();
    this.closed = true;
    this.save();
  }
}
