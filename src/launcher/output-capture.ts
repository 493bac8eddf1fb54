/**
 * Capturing an attempt's stdout and stderr into its `LogWriter`.
 *
 * Contract of an `OutputCapture`:
 * - every byte read from the pipes reaches the writer, in order per stream, as `LogWriter.write`
 *   would have turned it into records; a partial line that waits `flushMs` without more output
 *   of its stream is flushed as a record;
 * - `drained` resolves once both pipes are at end of file and everything read is in the log
 *   (partial lines still held by the writer: `close` writes them);
 * - `release()` stops reading now (the main process is gone but something still holds a pipe
 *   open, or it is done) and resolves once what was read is in the log; after it the writer is
 *   the caller's again, to note and close. Call it once, also after `drained`.
 *
 * Two implementations: `streamCapture` reads Node streams on the JavaScript thread;
 * `LogPump.capture` hands the pipes to the native log pump (`native/logpump.c`), a thread that
 * writes the common case (valid UTF-8 lines without `\r`, under the cap) itself and gives
 * everything else to the writer here — no JavaScript runs per chunk of a chatty workload.
 */
import type { Readable } from 'node:stream';
import type { LogWriter } from '../logs/writer.js';

export interface OutputCapture {
  readonly drained: Promise<void>;
  release(): Promise<void>;
}

type Stream = 'stdout' | 'stderr';

/** Capture on the JavaScript thread, from two readable streams. */
export function streamCapture(stdout: Readable, stderr: Readable, writer: LogWriter, flushMs: number): OutputCapture {
  let flushTimer: NodeJS.Timeout | null = null;
  const onData = (stream: Stream) => (chunk: Buffer) => {
    writer.write(stream, chunk);
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = writer.hasPartial() ? setTimeout(() => writer.flush(), flushMs) : null;
  };
  stdout.on('data', onData('stdout'));
  stderr.on('data', onData('stderr'));
  const streams = [stdout, stderr];
  const closed = (s: Readable) => (s.closed || s.destroyed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r())));
  return {
    drained: Promise.all(streams.map(closed)).then(() => undefined),
    release: async () => {
      for (const s of streams) s.destroy();
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = null;
    },
  };
}

/** What the addon's log pump offers (see `native/logpump.c` for the contract). */
export interface LogPumpAddon {
  pumpOpen(onEvent: (kind: 0 | 1 | 2, id: number, a: number | Buffer, b: Buffer, lastTime: number) => void, fixedTimeMs?: number): void;
  pumpAdd(id: number, stdoutFd: number, stderrFd: number, logPath: string, maxBytes: number, flushMs: number): void;
  pumpResume(id: number, stream: 0 | 1, partial: Buffer, writerOnly: boolean, lastTime: number): void;
  pumpRelease(id: number): void;
  pumpKeepAlive(on: boolean): void;
}

const STREAMS: readonly Stream[] = ['stdout', 'stderr'];

interface Captured {
  writer: LogWriter;
  flushMs: number;
  done: () => void;
  // A flush timer for partial lines the pump handed back at end of file.
  timer: NodeJS.Timeout | null;
}

/** The process's one native log pump: one thread for every captured attempt. */
export class LogPump {
  private readonly captured = new Map<number, Captured>();
  private nextId = 1;
  /** Chunks the pump handed to LogWriter (`slow`) and partial lines it flushed through it. */
  readonly handedOver = { slow: 0, flush: 0 };

  /** Opens the pump; throws when its thread cannot start. `fixedTimeMs` stamps every record (tests). */
  constructor(
    private readonly addon: LogPumpAddon,
    fixedTimeMs?: number,
  ) {
    addon.pumpOpen((kind, id, a, b, lastTime) => this.onEvent(kind, id, a, b, lastTime), fixedTimeMs ?? -1);
  }

  /** Takes ownership of two pipe read ends and captures them into `writer`. */
  capture(stdoutFd: number, stderrFd: number, writer: LogWriter, flushMs: number): OutputCapture {
    const id = this.nextId++;
    let done!: () => void;
    const drained = new Promise<void>((r) => (done = r));
    const c: Captured = { writer, flushMs, done, timer: null };
    // Like a socket being read, a capture keeps the process alive until its end of file.
    if (this.captured.size === 0) this.addon.pumpKeepAlive(true);
    this.captured.set(id, c);
    this.addon.pumpAdd(id, stdoutFd, stderrFd, writer.path, writer.maxBytes, flushMs);
    return {
      drained,
      release: async () => {
        // The pump answers with the end-of-file event, after any hand-over in flight.
        if (this.captured.has(id)) this.addon.pumpRelease(id);
        await drained;
        if (c.timer) clearTimeout(c.timer);
        c.timer = null;
      },
    };
  }

  private onEvent(kind: 0 | 1 | 2, id: number, a: number | Buffer, b: Buffer, lastTime: number): void {
    const c = this.captured.get(id);
    if (!c) return;
    // The writer holds no descriptor of the file here: it gives it up after every hand-over (below),
    // so it learns what the pump appended when it opens the file again — and the time of the
    // pump's last record, to write the next one short or full as the pump would have.
    const { writer } = c;
    writer.resync(lastTime);
    if (kind === 2) {
      this.captured.delete(id);
      if (this.captured.size === 0) this.addon.pumpKeepAlive(false);
      writer.write('stdout', a as Buffer);
      writer.write('stderr', b);
      if (writer.hasPartial()) c.timer = setTimeout(() => writer.flush(), c.flushMs).unref();
      c.done();
      return;
    }
    const stream = STREAMS[a as number]!;
    this.handedOver[kind === 0 ? 'slow' : 'flush']++;
    try {
      writer.write(stream, b);
      if (kind === 1) writer.flush();
    } finally {
      writer.resync(); // the pump writes next
      // A writer that dropped bytes (full disk) writes everything until it could note the loss.
      this.addon.pumpResume(id, a as 0 | 1, writer.takePartial(stream), writer.owesDropNote(), writer.lastRecordTime);
    }
  }
}
