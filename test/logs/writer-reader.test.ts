import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeLines, decodeLogText, decodeRecord, encodeRecord, isFullRecord, MAX_LINE_BYTES, rotatedPath, type LogRecord } from '../../src/logs/format.js';
import { followLogRecords, formatRecord, readLogRecords } from '../../src/logs/reader.js';
import { DEFAULT_LOG_MAX_BYTES, defaultLogMaxBytes, LogWriter } from '../../src/logs/writer.js';
import { seeded } from '../fault/helpers.js';

let dir: string;
let logPath: string;
let clock: number;
const now = (): number => clock++;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-logs-'));
  logPath = path.join(dir, 'instance.log');
  clock = Date.UTC(2026, 10, 21, 11, 14, 1);
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Polls `cond` every few ms until true or `timeoutMs` passes (then fails). */
async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Consumes a follow generator in the background, collecting what it yields. */
function collect(gen: AsyncGenerator<LogRecord>): { records: LogRecord[]; finished: Promise<void> } {
  const records: LogRecord[] = [];
  const finished = (async () => {
    for await (const r of gen) records.push(r);
  })();
  return { records, finished };
}

const texts = (rs: LogRecord[]): string[] => rs.map((r) => r.text);

describe('writer + reader round trip', () => {
  it('keeps streams, splits lines, flushes partial lines, strips CR', async () => {
    const w = new LogWriter(logPath, { now });
    w.write('stdout', 'one\ntwo');
    w.write('stderr', Buffer.from('err line\r\n'));
    expect(w.hasPartial()).toBe(true);
    w.write('stdout', ' more\n');
    w.write('stdout', 'partial');
    w.flush();
    expect(w.hasPartial()).toBe(false);
    w.note('[cejobs] a note');
    w.write('stdout', '\n'); // an empty line is a record too
    w.close();

    const rs = await readLogRecords(logPath);
    expect(rs.map((r) => [r.stream, r.text])).toEqual([
      ['stdout', 'one'],
      ['stderr', 'err line'],
      ['stdout', 'two more'],
      ['stdout', 'partial'],
      ['system', '[cejobs] a note'],
      ['stdout', ''],
    ]);
    // Times come from the clock, in write order.
    const times = rs.map((r) => r.time);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(times[0]).toBe(Date.UTC(2026, 10, 21, 11, 14, 1));
  });

  it('splits a line longer than MAX_LINE_BYTES into several records', async () => {
    const w = new LogWriter(logPath, { now });
    const long = 'x'.repeat(MAX_LINE_BYTES * 2 + 10);
    w.write('stdout', long + '\nafter\n');
    // A runaway line without newline is split as it arrives, not held in memory.
    w.write('stderr', 'y'.repeat(MAX_LINE_BYTES + 5));
    w.close();
    const rs = await readLogRecords(logPath);
    expect(rs.map((r) => r.text.length)).toEqual([MAX_LINE_BYTES, MAX_LINE_BYTES, 10, 5, MAX_LINE_BYTES, 5]);
    expect(rs.map((r) => r.stream)).toEqual(['stdout', 'stdout', 'stdout', 'stdout', 'stderr', 'stderr']);
    expect(rs.slice(0, 3).map((r) => r.text).join('')).toBe(long);
    expect(rs[3]!.text).toBe('after');
  });

  it('keeps multi-byte characters whole when a chunk splits them', async () => {
    const w = new LogWriter(logPath, { now });
    const bytes = Buffer.from('héllo wörld 😀\n');
    for (let i = 0; i < bytes.length; i++) w.write('stdout', bytes.subarray(i, i + 1));
    // A long line made of astral characters must not be cut inside a surrogate pair.
    w.write('stdout', 'a' + '😀'.repeat(MAX_LINE_BYTES) + '\n');
    w.close();
    const rs = await readLogRecords(logPath);
    expect(rs[0]!.text).toBe('héllo wörld 😀');
    expect(rs.slice(1).map((r) => r.text).join('')).toBe('a' + '😀'.repeat(MAX_LINE_BYTES));
    expect(rs.slice(1).some((r) => r.text.includes('\ufffd'))).toBe(false);
  });

  it('ignores a trailing fragment without newline and reads missing logs as empty', async () => {
    expect(await readLogRecords(logPath)).toEqual([]);
    expect(await readLogRecords(logPath, { tail: 5 })).toEqual([]);
    fs.writeFileSync(logPath, encodeRecord({ time: 1000, stream: 'stdout', text: 'done' }) + '2026-11-21T11:1');
    expect(texts(await readLogRecords(logPath))).toEqual(['done']);
    expect(texts(await readLogRecords(logPath, { tail: 1 }))).toEqual(['done']);
    expect(texts(await readLogRecords(logPath, { tail: -1 }))).toEqual(['done']);
  });

  it('formats records with and without timestamps', () => {
    const r: LogRecord = { time: Date.UTC(2026, 10, 21, 11, 14, 1, 123), stream: 'stdout', text: 'Hello' };
    expect(formatRecord(r, {})).toBe('Hello');
    expect(formatRecord(r, { timestamps: true })).toBe('2026-11-21T11:14:01.123Z Hello');
    const note: LogRecord = { time: 0, stream: 'system', text: '[cejobs] log rotated' };
    expect(formatRecord(note, {})).toBe('[cejobs] log rotated');
  });
});

describe('short records (the time of the record before)', () => {
  const T = Date.UTC(2026, 10, 21, 11, 14, 1, 123);

  it('encodes a record short only after one of the same time, and decodes it with that time', () => {
    expect(encodeRecord({ time: T, stream: 'stdout', text: 'a' })).toBe('2026-11-21T11:14:01.123Z o a\n');
    expect(encodeRecord({ time: T, stream: 'stderr', text: 'b' }, T)).toBe('e b\n');
    expect(encodeRecord({ time: T, stream: 'system', text: '' }, T)).toBe('s \n');
    expect(encodeRecord({ time: T + 1, stream: 'stdout', text: 'c' }, T)).toBe('2026-11-21T11:14:01.124Z o c\n');
    const prev: LogRecord = { time: T, stream: 'stdout', text: 'a' };
    expect(decodeRecord('e b', prev)).toEqual({ time: T, stream: 'stderr', text: 'b' });
    expect(decodeRecord('s ', prev)).toEqual({ time: T, stream: 'system', text: '' });
    expect(decodeRecord('o x')).toEqual({ time: 0, stream: 'stdout', text: 'x' }); // nothing before it
    // Not records: stdout text with time 0, whatever came before.
    expect(decodeRecord('x y', prev)).toEqual({ time: 0, stream: 'stdout', text: 'x y' });
    expect(decodeRecord('o', prev)).toEqual({ time: 0, stream: 'stdout', text: 'o' });
    expect(isFullRecord('2026-11-21T11:14:01.123Z o a')).toBe(true);
    expect(isFullRecord('o 2026-11-21T11:14:01.123Z o a')).toBe(false);
    // A short record whose text happens to have a full record's layout is still short.
    const chars = [...'o xx-xxxxxTxxxxxxxx.xxxZ o x'];
    expect([chars[4], chars[10], chars[19], chars[23], chars[24], chars[25], chars[26]]).toEqual(['-', 'T', '.', 'Z', ' ', 'o', ' ']);
    const lookalike = chars.join('');
    expect(isFullRecord(lookalike)).toBe(true);
    expect(decodeRecord(lookalike, prev)).toEqual({ time: T, stream: 'stdout', text: lookalike.slice(2) });
    expect(decodeLogText('2026-11-21T11:14:01.123Z o a\no b\ne c\n2026-11-21T11:14:01.124Z o d\no e\npartial')).toEqual([
      { time: T, stream: 'stdout', text: 'a' },
      { time: T, stream: 'stdout', text: 'b' },
      { time: T, stream: 'stderr', text: 'c' },
      { time: T + 1, stream: 'stdout', text: 'd' },
      { time: T + 1, stream: 'stdout', text: 'e' },
    ]);
    expect(decodeLines(['o z'], prev)).toEqual([{ time: T, stream: 'stdout', text: 'z' }]);
  });

  it('writes the lines of one chunk as one full record and short ones, on both paths', () => {
    for (const bytePath of [true, false]) {
      const file = path.join(dir, `chunk-${bytePath}.log`);
      let t = T;
      const w = new LogWriter(file, { now: () => t, bytePath });
      w.write('stdout', 'a\nb\nc\n');
      w.write('stderr', 'd\n'); // the same millisecond: short
      t++;
      w.write('stdout', 'e\nf\n');
      w.note('[cejobs] n'); // same millisecond as e and f
      w.close();
      expect(fs.readFileSync(file, 'utf8')).toBe(
        '2026-11-21T11:14:01.123Z o a\no b\no c\ne d\n2026-11-21T11:14:01.124Z o e\no f\ns [cejobs] n\n',
      );
    }
  });

  it('starts every file with a full record: a new writer, a rotation, after a failed write', async () => {
    const t = T;
    const w1 = new LogWriter(logPath, { now: () => t, maxBytes: 4096 });
    w1.write('stdout', 'one\n');
    w1.close();
    const w2 = new LogWriter(logPath, { now: () => t, maxBytes: 4096 }); // a restarted launcher: knows nothing of the file
    w2.write('stdout', 'two\n');
    for (let i = 0; i < 100; i++) w2.write('stdout', `${'x'.repeat(60)} ${i}\n`); // rotates
    w2.close();
    const cur = fs.readFileSync(logPath, 'utf8').split('\n');
    const old = fs.readFileSync(rotatedPath(logPath), 'utf8').split('\n');
    expect(old.slice(0, 3)).toEqual(['2026-11-21T11:14:01.123Z o one', '2026-11-21T11:14:01.123Z o two', `o ${'x'.repeat(60)} 0`]);
    expect(isFullRecord(cur[0]!)).toBe(true);
    expect(cur[0]).toContain(' s [cejobs] log rotated');
    expect(cur[1]).toMatch(/^o x+ \d+$/);
    const all = await readLogRecords(logPath);
    expect(all.every((r) => r.time === T)).toBe(true);

    // A write that fails forgets what the file ends with: the record after it is full.
    const file = path.join(dir, 'gone', 'x.log');
    fs.mkdirSync(path.dirname(file));
    const w3 = new LogWriter(file, { now: () => t });
    w3.write('stdout', 'a\n');
    fs.rmSync(path.dirname(file), { recursive: true });
    w3.resync(); // as after a hand-over: the next write opens the file again, and fails
    w3.write('stdout', 'lost\n');
    fs.mkdirSync(path.dirname(file));
    w3.write('stdout', 'b\n');
    w3.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('2026-11-21T11:14:01.123Z s [cejobs] 7 bytes of output were dropped: ENOENT\n2026-11-21T11:14:01.123Z o b\n');
  });

  it('tail finds the time of short records far behind the last full one', async () => {
    // One full record, then 30,000 short ones (over 256 KiB: several chunks back), then a new time.
    const body = Array.from({ length: 30_000 }, (_, i) => `line ${i} ${'y'.repeat(20)}\n`).join('');
    fs.writeFileSync(logPath, encodeRecord({ time: T, stream: 'stdout', text: 'first' }) + body.replace(/^/gm, 'o ').slice(0, -2));
    expect(fs.statSync(logPath).size).toBeGreaterThan(3 * 256 * 1024);
    const last3 = await readLogRecords(logPath, { tail: 3 });
    expect(last3).toEqual([29_997, 29_998, 29_999].map((i) => ({ time: T, stream: 'stdout', text: `line ${i} ${'y'.repeat(20)}` })));
    const all = await readLogRecords(logPath);
    expect(all).toHaveLength(30_001);
    expect(all.every((r) => r.time === T)).toBe(true);

    // Following from the end (tail 0): a short record appended later still gets its time.
    const ac = new AbortController();
    const f = collect(followLogRecords(logPath, { tail: 0, isDone: () => false, pollMs: 10, signal: ac.signal }));
    await new Promise((r) => setTimeout(r, 50));
    fs.appendFileSync(logPath, 'e late\n');
    await until(() => f.records.length === 1);
    ac.abort();
    await f.finished;
    expect(f.records).toEqual([{ time: T, stream: 'stderr', text: 'late' }]);
  });
});

describe('rotation', () => {
  it('reads the rotated part then the current one, keeping about 2x the cap', async () => {
    const maxBytes = 4096;
    const w = new LogWriter(logPath, { maxBytes, now });
    const n = 2000;
    for (let i = 0; i < n; i++) w.write('stdout', `line ${i}\n`);
    w.close();

    expect(fs.existsSync(rotatedPath(logPath))).toBe(true);
    const onDisk = fs.statSync(logPath).size + fs.statSync(rotatedPath(logPath)).size;
    expect(onDisk).toBeLessThanOrEqual(2 * maxBytes);

    const rs = await readLogRecords(logPath);
    const lines = rs.filter((r) => r.stream === 'stdout').map((r) => Number(r.text.slice(5)));
    // A contiguous, ordered run ending with the last line: nothing lost inside the kept window.
    expect(lines.at(-1)).toBe(n - 1);
    expect(lines).toEqual(lines.map((_, k) => lines[0]! + k));
    expect(lines.length).toBeLessThan(n);
    const notes = rs.filter((r) => r.stream === 'system');
    expect(notes.length).toBeGreaterThanOrEqual(1);
    expect(notes[0]!.text).toMatch(/log rotated at 4096 bytes/);
    // The current part starts with the rotation note.
    const current = fs.readFileSync(logPath, 'utf8').split('\n')[0]!;
    expect(current).toMatch(/ s \[cejobs\] log rotated/);
  });

  it('tail spans the rotated and the current part', async () => {
    const w = new LogWriter(logPath, { maxBytes: 4096, now });
    for (let i = 0; i < 300; i++) w.write('stdout', `line ${i}\n`);
    w.close();
    const all = await readLogRecords(logPath);
    const currentCount = fs.readFileSync(logPath, 'utf8').split('\n').length - 1;
    const n = currentCount + 3;
    expect(await readLogRecords(logPath, { tail: n })).toEqual(all.slice(-n));
    expect(await readLogRecords(logPath, { tail: 10_000 })).toEqual(all);
    expect(await readLogRecords(logPath, { tail: 0 })).toEqual([]);
  });
});

describe('tail on a large file', () => {
  it('returns exactly the last N records', async () => {
    const total = 200_000;
    const t0 = Date.UTC(2026, 0, 1);
    const parts: string[] = [];
    for (let i = 0; i < total; i++) parts.push(encodeRecord({ time: t0 + i, stream: i % 7 === 0 ? 'stderr' : 'stdout', text: `record ${i}` }));
    fs.writeFileSync(logPath, parts.join(''));

    for (const n of [1, 10, 1000, 50_000]) {
      const rs = await readLogRecords(logPath, { tail: n });
      expect(rs.length).toBe(n);
      expect(rs[0]).toEqual({ time: t0 + total - n, stream: (total - n) % 7 === 0 ? 'stderr' : 'stdout', text: `record ${total - n}` });
      expect(rs.at(-1)!.text).toBe(`record ${total - 1}`);
    }
    expect((await readLogRecords(logPath)).length).toBe(total);
  });
});

describe('follow', () => {
  it('yields existing records, then appended ones in order, and ends when done', async () => {
    const w = new LogWriter(logPath, { now });
    w.write('stdout', 'before 1\nbefore 2\n');
    let done = false;
    const f = collect(followLogRecords(logPath, { isDone: () => done, pollMs: 10 }));
    await until(() => f.records.length === 2);
    for (let i = 0; i < 50; i++) w.write(i % 2 ? 'stderr' : 'stdout', `after ${i}\n`);
    await until(() => f.records.length === 52);
    w.write('stdout', 'last words');
    w.close(); // flushes the partial line
    done = true;
    await f.finished;
    expect(texts(f.records)).toEqual(['before 1', 'before 2', ...Array.from({ length: 50 }, (_, i) => `after ${i}`), 'last words']);
  });

  it('starts with the last `tail` records', async () => {
    const w = new LogWriter(logPath, { now });
    for (let i = 0; i < 20; i++) w.write('stdout', `l${i}\n`);
    w.write('stdout', 'half'); // not yet a record
    let done = false;
    const f = collect(followLogRecords(logPath, { tail: 3, isDone: () => done, pollMs: 10 }));
    await until(() => f.records.length === 3);
    w.write('stdout', ' done\n');
    w.close();
    done = true;
    await f.finished;
    expect(texts(f.records)).toEqual(['l17', 'l18', 'l19', 'half done']);
  });

  it('waits for a log that does not exist yet', async () => {
    let done = false;
    const f = collect(followLogRecords(logPath, { isDone: () => done, pollMs: 10 }));
    await new Promise((r) => setTimeout(r, 30));
    const w = new LogWriter(logPath, { now });
    w.write('stdout', 'hello\n');
    await until(() => f.records.length === 1);
    w.close();
    done = true;
    await f.finished;
    expect(texts(f.records)).toEqual(['hello']);
  });

  it('survives rotations without losing or duplicating records', async () => {
    // A cap far above what is written between two polls, so the writer drops nothing.
    const w = new LogWriter(logPath, { maxBytes: 8192, now });
    let done = false;
    const f = collect(followLogRecords(logPath, { isDone: async () => done, pollMs: 5 }));
    const n = 3000;
    for (let i = 0; i < n; i++) {
      w.write('stdout', `line ${i}\n`);
      // Let the follower keep up: wait whenever it falls more than ~100 lines behind.
      if (i % 50 === 49) await until(() => f.records.filter((r) => r.stream === 'stdout').length >= i - 100);
    }
    w.close();
    done = true;
    await f.finished;
    const lines = f.records.filter((r) => r.stream === 'stdout').map((r) => r.text);
    expect(lines).toEqual(Array.from({ length: n }, (_, i) => `line ${i}`));
    const rotations = f.records.filter((r) => r.stream === 'system' && /log rotated/.test(r.text)).length;
    expect(rotations).toBeGreaterThan(5);
    expect(fs.existsSync(rotatedPath(logPath))).toBe(true);
  });

  it('reads an intermediate part when two rotations happen between polls', async () => {
    const w = new LogWriter(logPath, { maxBytes: 4096, now });
    w.write('stdout', 'first\n');
    let done = false;
    let gate: (() => void) | undefined;
    // isDone doubles as a hook: it stalls the follower while we rotate twice.
    let stall = false;
    const isDone = (): Promise<boolean> =>
      stall ? new Promise<boolean>((resolve) => (gate = () => resolve(done))) : Promise.resolve(done);
    const f = collect(followLogRecords(logPath, { isDone, pollMs: 1 }));
    await until(() => f.records.length === 1);
    stall = true;
    await until(() => gate !== undefined);
    // Fill about 2.5 parts: two rotations while the follower is parked.
    const line = 'z'.repeat(100);
    let i = 0;
    while (countRotations() < 2) w.write('stdout', `${i++} ${line}\n`);
    w.write('stdout', 'tail line\n');
    w.close();
    done = true;
    stall = false;
    gate!();
    await f.finished;
    const got = f.records.filter((r) => r.stream === 'stdout').map((r) => r.text);
    // The first part is deleted by the second rotation, but the follower still holds it open:
    // it finishes that part, reads the intermediate `.1` in full, then the current part.
    expect(got).toEqual(['first', ...Array.from({ length: i }, (_, k) => `${k} ${line}`), 'tail line']);
    const notes = f.records.filter((r) => r.stream === 'system').map((r) => r.text);
    expect(notes).toHaveLength(2);

    function countRotations(): number {
      const notes = (p: string): number =>
        fs.existsSync(p) ? fs.readFileSync(p, 'utf8').split('\n').filter((l) => / s \[cejobs\] log rotated/.test(l)).length : 0;
      // Two rotations = the `.1` part itself starts with a rotation note.
      return notes(logPath) + notes(rotatedPath(logPath));
    }
  });

  it('ends when the signal aborts, even while waiting', async () => {
    const w = new LogWriter(logPath, { now });
    w.write('stdout', 'a\n');
    const ac = new AbortController();
    const f = collect(followLogRecords(logPath, { isDone: () => false, signal: ac.signal, pollMs: 60_000 }));
    await until(() => f.records.length === 1);
    ac.abort();
    await f.finished;
    expect(texts(f.records)).toEqual(['a']);
    w.close();
  });

  it('closes its files when the consumer stops early', async () => {
    const w = new LogWriter(logPath, { now });
    for (let i = 0; i < 10; i++) w.write('stdout', `r${i}\n`);
    w.close();
    const got: string[] = [];
    for await (const r of followLogRecords(logPath, { isDone: () => false, pollMs: 10 })) {
      got.push(r.text);
      if (got.length === 3) break;
    }
    expect(got).toEqual(['r0', 'r1', 'r2']);
  });
});

describe('drop accounting', () => {
  it('counts bytes it could not write and says so once writing works again', async () => {
    const sub = path.join(dir, 'gone');
    const p = path.join(sub, 'instance.log');
    const w = new LogWriter(p, { now });
    // The directory does not exist: opening the log fails, so these are dropped.
    w.write('stdout', 'lost 1\n');
    w.write('stderr', 'lost 2\n');
    const lostBytes =
      Buffer.byteLength(encodeRecord({ time: 0, stream: 'stdout', text: 'lost 1' })) +
      Buffer.byteLength(encodeRecord({ time: 0, stream: 'stderr', text: 'lost 2' }));
    fs.mkdirSync(sub);
    w.write('stdout', 'kept\n');
    w.close();
    const rs = await readLogRecords(p);
    expect(rs.map((r) => [r.stream, r.text])).toEqual([
      ['system', `[cejobs] ${lostBytes} bytes of output were dropped: ENOENT`],
      ['stdout', 'kept'],
    ]);
  });

  it('recovers after its directory is removed and re-created', async () => {
    const sub = path.join(dir, 'inst');
    fs.mkdirSync(sub);
    const p = path.join(sub, 'instance.log');
    const w = new LogWriter(p, { maxBytes: 4096, now });
    w.write('stdout', 'first\n');
    fs.rmSync(sub, { recursive: true });
    // Writes to the open (now unlinked) file succeed until the cap forces a rotation, which
    // fails; from then on records are counted as dropped.
    const line = 'q'.repeat(200);
    for (let i = 0; i < 40; i++) w.write('stdout', `${line}\n`);
    fs.mkdirSync(sub);
    w.write('stdout', 'back\n');
    w.close();
    const rs = await readLogRecords(p);
    expect(rs.at(-1)!.text).toBe('back');
    expect(rs[0]!.stream).toBe('system');
    expect(rs[0]!.text).toMatch(/^\[cejobs\] \d+ bytes of output were dropped: ENOENT$/);
  });
});

describe('LogWriter batching and default cap', () => {
  it('writes many lines of one chunk as the same records, rotating exactly at the cap', async () => {
    const w = new LogWriter(logPath, { now, maxBytes: 4096 });
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    w.write('stdout', lines.join('\n') + '\n');
    w.close();
    expect(fs.statSync(logPath).size).toBeLessThanOrEqual(4096);
    expect(fs.statSync(rotatedPath(logPath)).size).toBeLessThanOrEqual(4096);
    const rs = (await readLogRecords(logPath)).filter((r) => r.stream === 'stdout').map((r) => r.text);
    expect(rs.length).toBeGreaterThan(0);
    expect(lines.slice(-rs.length)).toEqual(rs);
  });

  it('takes the default cap from CEJOBS_LOG_MAX_BYTES when it is a positive integer', () => {
    expect(defaultLogMaxBytes({ CEJOBS_LOG_MAX_BYTES: '600000000' })).toBe(600_000_000);
    expect(defaultLogMaxBytes({})).toBe(DEFAULT_LOG_MAX_BYTES);
    expect(defaultLogMaxBytes({ CEJOBS_LOG_MAX_BYTES: 'lots' })).toBe(DEFAULT_LOG_MAX_BYTES);
    expect(defaultLogMaxBytes({ CEJOBS_LOG_MAX_BYTES: '-5' })).toBe(DEFAULT_LOG_MAX_BYTES);
  });
});

describe('LogWriter: the byte path and the text path write the same bytes', () => {
  const pieces = ['hello', 'ümlaut', '日本語', '😀', '\n', '\n', '\n', '\r\n', 'x'.repeat(300), '\t', ' ', 'end'];

  it.each(Array.from({ length: 100 }, (_, i) => i + 1))('random output, seed %i', (seed) => {
    const random = seeded(seed);
    // The output of a workload: mostly text, sometimes a long line, CRLF, invalid bytes.
    const parts: Buffer[] = [];
    for (let i = 0; i < 400; i++) {
      const r = random();
      if (r < 0.01) parts.push(Buffer.from('y'.repeat(MAX_LINE_BYTES + Math.floor(random() * 3000))));
      else if (r < 0.03) parts.push(Buffer.from([[0xff], [0xc3, 0x28], [0xe2, 0x82], [0x80], [0xf0, 0x9f]][Math.floor(random() * 5)]!)); // invalid UTF-8
      else parts.push(Buffer.from(pieces[Math.floor(random() * pieces.length)]!));
    }
    const all = Buffer.concat(parts);
    // Cut into chunks anywhere (also inside characters), some on stderr, flushes in between.
    const plan: { stream: 'stdout' | 'stderr'; chunk: Buffer; flush: boolean }[] = [];
    for (let at = 0; at < all.length; ) {
      const n = 1 + Math.floor(random() * 700);
      plan.push({ stream: random() < 0.2 ? 'stderr' : 'stdout', chunk: all.subarray(at, at + n), flush: random() < 0.05 });
      at += n;
    }
    const files = [true, false].map((bytePath) => {
      const file = path.join(dir, `out-${bytePath}.log`);
      let t = Date.UTC(2026, 10, 21, 12, 0, 0);
      const w = new LogWriter(file, { now: () => (t += 1), maxBytes: 64 * 1024, bytePath });
      for (const step of plan) {
        w.write(step.stream, step.chunk);
        if (step.flush) w.flush();
      }
      w.close();
      const rotated = rotatedPath(file);
      return Buffer.concat([fs.existsSync(rotated) ? fs.readFileSync(rotated) : Buffer.alloc(0), fs.readFileSync(file)]);
    });
    if (!files[0]!.equals(files[1]!)) {
      const [x, y] = files.map((f) => f!.toString('utf8').split('\n'));
      const i = x!.findIndex((l, k) => l !== y![k]);
      expect(x!.slice(i, i + 3)).toEqual(y!.slice(i, i + 3));
    }
    expect(files[0]!.equals(files[1]!)).toBe(true);
  });
});
