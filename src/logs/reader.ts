/**
 * Reading instance logs written by `writer.ts` (record format: `format.ts`).
 *
 * A log is two files: `<logPath>.1` (the older, rotated part, if any) then `<logPath>` (the
 * current part). Only complete lines are records: a trailing fragment without its newline is
 * a write in progress and is left for a later read. A short record takes the time of the record
 * before it, so each part is decoded from its first line onwards, and a tail read backwards goes
 * back to a full record first. Both readers pin the files by open handle,
 * so a rotation between "look" and "read" can neither lose nor duplicate records.
 */
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { decodeLines, isFullRecord, rotatedPath, type LogRecord } from './format.js';

/** Bytes read per system call. */
const CHUNK = 256 * 1024;

/**
 * Reads every record of an instance log: the rotated part `<logPath>.1` (if present) then
 * `<logPath>`, oldest first. Missing files contribute no records.
 *
 * @param logPath path of the current log file (as given to `LogWriter`).
 * @param options.tail when a number ≥ 0, only the last `tail` records (across both parts);
 *   they are found by reading backwards from the end, so the cost depends on `tail` and line
 *   length, not on file size. A negative `tail` (Code Engine's `--tail -1`) means all.
 * @returns the records; a trailing fragment without newline (a line still being written) is
 *   not included.
 */
export async function readLogRecords(logPath: string, options: { tail?: number } = {}): Promise<LogRecord[]> {
  const { old, cur } = await openParts(logPath);
  try {
    const tail = normalizeTail(options.tail);
    if (tail === undefined) {
      const out: LogRecord[] = [];
      for (const fh of [old, cur]) {
        if (!fh) continue;
        let pos = 0;
        const at: Decoding = {};
        for (;;) {
          const batch = await readBatch(fh, pos, at);
          if (batch.next === pos) break;
          for (const r of batch.records) out.push(r);
          pos = batch.next;
        }
      }
      return out;
    }
    const fromCur = cur ? await readTail(cur, (await cur.stat()).size, tail) : { records: [], end: 0 };
    if (fromCur.records.length >= tail || !old) return fromCur.records;
    const fromOld = await readTail(old, (await old.stat()).size, tail - fromCur.records.length);
    return [...fromOld.records, ...fromCur.records];
  } finally {
    await old?.close();
    await cur?.close();
  }
}

export interface FollowOptions {
  /** Start with only the last `tail` existing records (negative or absent: all of them). */
  tail?: number;
  /** Aborting ends the generator promptly (between records or while waiting). */
  signal?: AbortSignal;
  /**
   * True once nothing more will be written (the attempt ended and its writer closed). The
   * follower checks it, then drains the log once more, then ends — so no late line is missed.
   */
  isDone: () => boolean | Promise<boolean>;
  /** Poll interval in ms; `fs.watch` on the directory only shortens waits. @default 100 */
  pollMs?: number;
}

/**
 * Yields an instance log's records like `tail -F`: first the existing records (all, or the
 * last `tail`), then new records as the writer appends them, in order.
 *
 * Rotation while following (the current file renamed to `.1`, a new one started) is detected
 * by a change of device/inode at `logPath`; the old file is read to its end through the still
 * open handle before the new one is read from its start, so nothing is lost or repeated. If
 * more than one rotation happened between two polls, the intermediate part is read from `.1`
 * (anything older was already discarded by the writer). A file that shrinks in place is read
 * again from its start.
 *
 * Ends when `isDone()` has returned true and everything written up to then has been yielded,
 * when `signal` aborts, or when the consumer stops iterating (`break`/`return`), which closes
 * the files and the watcher. A missing log is fine: the follower waits for it to appear.
 */
export async function* followLogRecords(logPath: string, options: FollowOptions): AsyncGenerator<LogRecord> {
  const { signal, isDone } = options;
  const pollMs = Math.max(1, options.pollMs ?? 100);
  const tail = normalizeTail(options.tail);
  const base = path.basename(logPath);
  const rotatedBase = path.basename(rotatedPath(logPath));

  let fh: FileHandle | undefined; // the part being followed
  let fhKey: string | undefined;
  let pos = 0; // offset just past the last complete line yielded from `fh`
  let decoding: Decoding = {}; // the last record read from `fh` (a short record after it takes its time)
  let finishedKey: string | undefined; // the part read to its end before `fh` (now `.1`, normally)

  // Wake-ups: the watcher and abort shorten the poll wait; `dirty` remembers events that came
  // in while we were reading so the next wait is skipped.
  let dirty = false;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    dirty = true;
    wake?.();
  };
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(path.dirname(logPath), { persistent: false }, (_event, name) => {
      if (name === null || name === base || name === rotatedBase) poke();
    });
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined;
    });
  } catch {
    watcher = undefined; // directory missing or watch unsupported: polling alone
  }
  signal?.addEventListener('abort', poke);

  /** Yields complete lines of `h` from `from` (`d`: the record before them); returns the new offset. */
  async function* drain(h: FileHandle, from: number, d: Decoding): AsyncGenerator<LogRecord, number> {
    let at = from;
    while (!signal?.aborted) {
      const batch = await readBatch(h, at, d);
      if (batch.next === at) break;
      at = batch.next;
      for (const r of batch.records) {
        if (signal?.aborted) break;
        yield r;
      }
    }
    return at;
  }

  /** Reads what is new in the followed part and moves on to a new part after a rotation. */
  async function* advance(): AsyncGenerator<LogRecord> {
    if (fh) pos = yield* drain(fh, pos, decoding);
    const st = await statKey(logPath);
    if (!st) return; // not created yet, or between the writer's rename and its open
    if (fh && st.key === fhKey) {
      if (st.size < pos) {
        pos = 0; // shrunk in place: the file restarted
        decoding = {};
        pos = yield* drain(fh, pos, decoding);
      }
      return;
    }
    // A different file is at logPath now: finish the old one, then switch.
    if (fh) {
      pos = yield* drain(fh, pos, decoding);
      await fh.close();
      finishedKey = fhKey;
      fh = undefined;
      fhKey = undefined;
    }
    const next = await openIfExists(logPath);
    if (!next) return;
    const nextKey = await handleKey(next);
    // Two rotations since the last look: `.1` is a part we have not seen at all.
    const between = await openIfExists(rotatedPath(logPath));
    if (between) {
      try {
        const betweenKey = await handleKey(between);
        if (betweenKey !== finishedKey && betweenKey !== nextKey) {
          yield* drain(between, 0, {});
          finishedKey = betweenKey;
        }
      } finally {
        await between.close();
      }
    }
    fh = next;
    fhKey = nextKey;
    pos = 0;
    decoding = {};
    pos = yield* drain(fh, pos, decoding);
  }

  function pause(): Promise<void> {
    if (dirty || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  try {
    // Existing records first.
    const { old, cur } = await openParts(logPath);
    try {
      finishedKey = old ? await handleKey(old) : undefined;
      if (tail === undefined) {
        if (old) yield* drain(old, 0, {});
        fh = cur;
        fhKey = cur ? await handleKey(cur) : undefined;
        pos = 0;
      } else {
        const fromCur: Tail = cur ? await readTail(cur, (await cur.stat()).size, tail) : { records: [], end: 0 };
        let records = fromCur.records;
        if (records.length < tail && old) {
          const fromOld = await readTail(old, (await old.stat()).size, tail - records.length);
          records = [...fromOld.records, ...records];
        }
        fh = cur;
        fhKey = cur ? await handleKey(cur) : undefined;
        pos = fromCur.end;
        decoding = { previous: fromCur.last };
        for (const r of records) {
          if (signal?.aborted) return;
          yield r;
        }
      }
    } finally {
      await old?.close();
      if (fh !== cur) await cur?.close();
    }

    let lastCheck = -Infinity;
    let done = false;
    while (!signal?.aborted) {
      // isDone may be costly (a store query): ask at most once per poll interval.
      const now = performance.now();
      if (now - lastCheck >= pollMs) {
        lastCheck = now;
        done = await isDone();
      }
      dirty = false;
      yield* advance();
      if (done || signal?.aborted) return;
      await pause();
    }
  } finally {
    signal?.removeEventListener('abort', poke);
    watcher?.close();
    await fh?.close();
  }
}

/**
 * Formats a record as a display line (no newline): the text alone, or with `timestamps`
 * (Code Engine's `jobrun logs --timestamps`) prefixed by its ISO-8601 UTC time and a space.
 * System notes (`stream === 'system'`) are shown with their own text (they already say
 * `[cejobs] …`); stderr lines are not marked, as in Code Engine.
 */
export function formatRecord(record: LogRecord, options: { timestamps?: boolean } = {}): string {
  return options.timestamps ? `${new Date(record.time).toISOString()} ${record.text}` : record.text;
}

function normalizeTail(tail: number | undefined): number | undefined {
  if (tail === undefined || !Number.isFinite(tail) || tail < 0) return undefined;
  return Math.floor(tail);
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function openIfExists(p: string): Promise<FileHandle | undefined> {
  try {
    return await fsp.open(p, 'r');
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

async function statKey(p: string): Promise<{ key: string; size: number } | undefined> {
  try {
    const st = await fsp.stat(p, { bigint: true });
    return { key: `${st.dev}:${st.ino}`, size: Number(st.size) };
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

async function handleKey(fh: FileHandle): Promise<string> {
  const st = await fh.stat({ bigint: true });
  return `${st.dev}:${st.ino}`;
}

/**
 * Opens both parts so that they are a consistent pair: if a rotation happens between the two
 * opens, the "old" handle would be a part that no longer precedes the current one, so retry.
 */
async function openParts(logPath: string): Promise<{ old?: FileHandle; cur?: FileHandle }> {
  for (let attempt = 0; ; attempt++) {
    const old = await openIfExists(rotatedPath(logPath));
    const cur = await openIfExists(logPath);
    const oldKey = old ? await handleKey(old) : undefined;
    const now = await statKey(rotatedPath(logPath));
    if (oldKey === now?.key || attempt >= 5) return { old, cur };
    await old?.close();
    await cur?.close();
  }
}

/** Where a sequential read of one part is: the record decoded last (none at the start). */
interface Decoding {
  previous?: LogRecord;
}

/**
 * Reads from `from` up to and including the last newline of what is available (at least one
 * line if any is complete). `next === from` means no complete line is there yet. `d` is the
 * record before `from`, and becomes the last one read.
 */
async function readBatch(fh: FileHandle, from: number, d: Decoding): Promise<{ records: LogRecord[]; next: number }> {
  const parts: Buffer[] = [];
  let total = 0;
  let lastNl = -1;
  for (;;) {
    const buf = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await fh.read(buf, 0, CHUNK, from + total);
    if (bytesRead === 0) break;
    const chunk = buf.subarray(0, bytesRead);
    const nl = chunk.lastIndexOf(10);
    if (nl >= 0) lastNl = total + nl;
    parts.push(chunk);
    total += bytesRead;
    if (lastNl >= 0) break;
  }
  if (lastNl < 0) return { records: [], next: from };
  const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  const records = decodeLines(data.subarray(0, lastNl).toString('utf8').split('\n'), d.previous);
  d.previous = records[records.length - 1];
  return { records, next: from + lastNl + 1 };
}

interface Tail {
  records: LogRecord[];
  /** The offset just past the last complete line (0 if there is none). */
  end: number;
  /** The last complete record of the part (also when `n` is 0), if any. */
  last?: LogRecord;
}

/**
 * The last `n` complete records of the first `size` bytes of a file, read backwards in chunks.
 * It reads on past them to the full record nearest before the first of them, since the short
 * records that follow it take their time from it.
 */
async function readTail(fh: FileHandle, size: number, n: number): Promise<Tail> {
  const parts: Buffer[] = [];
  let start = size;
  let newlines = 0;
  let end = -1;
  // m lines need m + 1 newlines: the one ending the last line and one before each line. At
  // least the last line is decoded, for `last`.
  const m = Math.max(n, 1);
  let lines: string[] = [];
  let from = 0; // the line decoding starts at: a full record, or the first line of the file
  while (start > 0) {
    if (newlines >= m + 1) {
      // Enough lines: is there a full record at or before the first one kept?
      lines = complete(parts, start, end);
      from = Math.max(0, lines.length - m);
      while (from > 0 && !isFullRecord(lines[from]!)) from--;
      if (isFullRecord(lines[from]!)) break;
    }
    const len = Math.min(CHUNK, start);
    start -= len;
    const buf = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await fh.read(buf, got, len - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    parts.unshift(buf);
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) newlines++;
    if (end < 0) {
      const nl = buf.lastIndexOf(10);
      if (nl >= 0) end = start + nl + 1;
    }
  }
  if (end < 0) return { records: [], end: 0 };
  if (start === 0) {
    lines = complete(parts, start, end);
    from = 0;
  }
  const records = decodeLines(lines.slice(from));
  return { records: n === 0 ? [] : records.slice(-n), end, last: records[records.length - 1] };
}

/** The complete lines of the bytes read (`parts`, from offset `start`) up to `end`. */
function complete(parts: Buffer[], start: number, end: number): string[] {
  const lines = Buffer.concat(parts).subarray(0, end - start - 1).toString('utf8').split('\n');
  if (start > 0) lines.shift(); // may begin mid-line
  return lines;
}
