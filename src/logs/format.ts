/**
 * The on-disk record format of instance logs, shared by every writer (the launcher for host
 * processes, in-process drivers for containers and pods) and every reader.
 *
 * One record per line:
 *
 *     2026-11-21T11:14:01.123Z o Hello from helloworld!
 *     └─ ISO-8601 UTC, ms ─┘   │ └─ the output line, without its newline
 *                              └─ stream: `o` stdout, `e` stderr, `s` a note from cejobs itself
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

/** Encodes one record as a line, newline included. `text` must not contain a newline. */
export function encodeRecord(record: LogRecord): string {
  return `${new Date(record.time).toISOString()} ${STREAM_CHAR[record.stream]} ${record.text}\n`;
}

/**
 * Decodes one line (without its newline). A line that is not a record (a torn write after a
 * crash, say) decodes as stdout text with time 0, so nothing a workload wrote is hidden.
 */
export function decodeRecord(line: string): LogRecord {
  // 24 chars of timestamp, a space, the stream char, a space.
  if (line.length >= 26 && line[24] === ' ' && line[23] === 'Z' && (line.length === 26 || line[26] === ' ')) {
    const stream = CHAR_STREAM[line[25]!];
    const time = parseStamp(line.slice(0, 24));
    if (stream && !Number.isNaN(time)) return { time, stream, text: line.length === 26 ? '' : line.slice(27) };
  }
  return { time: 0, stream: 'stdout', text: line };
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
