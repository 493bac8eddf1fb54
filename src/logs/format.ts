/**
 * The on-disk record format of instance logs, shared by every writer (the launcher for host
 * processes, in-process drivers for containers and pods) and every reader.
 *
 * One record per line, in one of two forms:
 *
 *     2026-11-21T11:14:01.123Z o Hello from helloworld!     full: time, stream, text
 *     └─ ISO-8601 UTC, ms ─┘   │ └─ the output line, without its newline
 *                              └─ stream: `o` stdout, `e` stderr, `s` a note from cejobs itself
 *     o and a second line of the same millisecond            short: stream, text
 *
 * A short record has the time of the record just before it in the same file. Writers use it
 * only when that record has the same time (the lines of one pipe read share a time, so a chatty
 * workload's records are mostly short: 2 bytes of framing instead of 27), and never for the
 * first record of a file, so every file decodes on its own from its first line.
 *
 * A workload line longer than `MAX_LINE_BYTES` is split into several records. A final
 * partial line (no trailing newline) is written as a record when the attempt ends or after a
 * short delay. Files are `<logPath>` (current) and `<logPath>.1` (the previous, rotated part).
 */

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogRecord {
  /** Epoch milliseconds when the line was read. */
  time: number;
  stream: LogStream;
  text: string;
}

/** Longest record text, in UTF-16 code units (bytes for ASCII); longer workload lines are split. */
export const MAX_LINE_BYTES = 16 * 1024;

const STREAM_CHAR: Record<LogStream, string> = { stdout: 'o', stderr: 'e', system: 's' };
const CHAR_STREAM: Record<string, LogStream> = { o: 'stdout', e: 'stderr', s: 'system' };

/** The framing of a record: `<ISO time> <c> `, or `<c> ` when `previousTime` is the record's own time. */
export function recordPrefix(time: number, stream: LogStream, previousTime: number): string {
  return time === previousTime ? `${STREAM_CHAR[stream]} ` : `${new Date(time).toISOString()} ${STREAM_CHAR[stream]} `;
}

/**
 * Encodes one record as a line, newline included. `text` must not contain a newline.
 * `previousTime`: the time of the record just before it in the file (NaN: none, or unknown).
 */
export function encodeRecord(record: LogRecord, previousTime = NaN): string {
  return `${recordPrefix(record.time, record.stream, previousTime)}${record.text}\n`;
}

/** True when `line` has the layout of a record in full form (`2026-11-21T11:14:01.123Z o …`). */
export function isFullRecord(line: string): boolean {
  return (
    line.length >= 26 &&
    line[4] === '-' &&
    line[10] === 'T' &&
    line[19] === '.' &&
    line[23] === 'Z' &&
    line[24] === ' ' &&
    (line.length === 26 || line[26] === ' ') &&
    CHAR_STREAM[line[25]!] !== undefined
  );
}

/**
 * Decodes one line (without its newline). `previous` is the record decoded just before it from
 * the same file (a short record takes its time; without it, time 0). A line that is not a
 * record (a torn write after a crash, say) decodes as stdout text with time 0, so nothing a
 * workload wrote is hidden.
 */
export function decodeRecord(line: string, previous?: LogRecord): LogRecord {
  if (isFullRecord(line)) {
    const time = parseStamp(line.slice(0, 24));
    if (!Number.isNaN(time)) return { time, stream: CHAR_STREAM[line[25]!]!, text: line.length === 26 ? '' : line.slice(27) };
  }
  if (line.length >= 2 && line[1] === ' ') {
    const stream = CHAR_STREAM[line[0]!];
    if (stream) return { time: previous?.time ?? 0, stream, text: line.slice(2) };
  }
  return { time: 0, stream: 'stdout', text: line };
}

/** Decodes consecutive lines of one file, from a line with `previous` before it (if any). */
export function decodeLines(lines: readonly string[], previous?: LogRecord): LogRecord[] {
  const out: LogRecord[] = new Array(lines.length);
  let prev = previous;
  for (let i = 0; i < lines.length; i++) prev = out[i] = decodeRecord(lines[i]!, prev);
  return out;
}

/** The records of a whole log file's text (a trailing line without its newline is left out). */
export function decodeLogText(text: string): LogRecord[] {
  const lines = text.split('\n');
  lines.pop();
  return decodeLines(lines);
}

// The records of one read share their time stamp: parsing it once per run of them makes
// reading a large log several times faster.
let lastStamp = '';
let lastTime = NaN;

function parseStamp(stamp: string): number {
  if (stamp !== lastStamp) {
    lastStamp = stamp;
    lastTime = Date.parse(stamp);
  }
  return lastTime;
}

/** Path of the rotated (older) part of a log file. */
export function rotatedPath(logPath: string): string {
  return `${logPath}.1`;
}
