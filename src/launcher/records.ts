/**
 * What the launcher keeps on disk, so nothing is lost when it (or the server) restarts: the
 * journal `<launcher dir>/journal`, one JSON record per line, only ever appended to:
 *
 *     {"s":<AttemptIndexEntry>}   an attempt was started (or failed to start): where its workDir
 *                                 is, its pid and the pid's start time, the path of its mounts —
 *                                 never their contents
 *     {"x":<AttemptExit>}         its exit, written before the exit is pushed to anyone
 *     {"r":"<attemptId>"}         released: forget it
 *
 * A later record of an attempt replaces an earlier one of the same kind. Reading folds the lines
 * into the attempts held (started, not released) and their exits. A line that does not parse — a
 * write torn by a crash — counts as never written: a torn exit reads as "ended, exit unknown", as
 * a crash just before writing it would. When released attempts make up most of the file, it is
 * rewritten with the live ones only (a temporary file, then a rename), so it stays small.
 *
 * One append per event instead of files per attempt (an index file written through a rename, an
 * exit record, both removed at release): at hundreds of instances a second, creating and
 * removing those files was a large part of the launcher's work. Launchers before the journal kept
 * `<launcher dir>/attempts/<id>.json` and `<workDir>/exit-<id>.json`; reading takes those in once
 * and removes them.
 *
 * Nothing is fsynced: these records must outlive a crash of the launcher or the server
 * *process*, which the page cache guarantees; a crash of the machine ends every instance anyway
 * (an fsync per exit cost about 1 ms per instance for no gain).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AttemptExit } from '../drivers/driver.js';
import type { AttemptCgroup } from './cgroups.js';

export interface AttemptIndexEntry {
  attemptId: string;
  workDir: string;
  logPath: string;
  scratch: string;
  pid: number;
  pgid: number;
  /** Field 22 of /proc/<pid>/stat, to tell the workload from a recycled pid. */
  procStart: string | null;
  startedAt: number;
  cgroup: AttemptCgroup | null;
  /**
   * Directory of the attempt's materialised config maps and secrets (`mounts.ts`), or null.
   * Only the path: file contents are never written to the index.
   */
  mountsDir?: string | null;
  memoryLimitBytes: number;
  storageLimitBytes: number;
}

/** An attempt the journal holds: its entry and, once it ended, its exit. */
export interface JournaledAttempt {
  entry: AttemptIndexEntry;
  exit: AttemptExit | null;
}

type JournalRecord = { s: AttemptIndexEntry } | { x: AttemptExit } | { r: string };

export const JOURNAL_FILE = 'journal';

/** Rewrite when the file has this many lines more than the live attempts need. */
const COMPACT_SLACK = 4096;

export class AttemptJournal {
  readonly file: string;
  private fd: number;
  private size: number;
  private lines = 0;
  // The lines that describe each live attempt (its latest `s` and `x`), for a rewrite.
  private readonly live = new Map<string, { s?: string; x?: string }>();

  constructor(private readonly launcherDir: string) {
    this.file = path.join(launcherDir, JOURNAL_FILE);
    this.fd = fs.openSync(this.file, 'a+');
    this.size = fs.fstatSync(this.fd).size;
    // A line torn by a crash must not swallow the next record.
    const last = Buffer.alloc(1);
    if (this.size > 0 && fs.readSync(this.fd, last, 0, 1, this.size - 1) === 1 && last[0] !== 10) this.append('\n');
  }

  /**
   * The attempts a previous launcher left (also from the files of launchers before the
   * journal), then a rewrite of the journal with only them.
   */
  recover(): JournaledAttempt[] {
    const held = new Map<string, JournaledAttempt>();
    for (const line of fs.readFileSync(this.file, 'utf8').split('\n')) {
      const rec = parseLine(line);
      if (!rec) continue;
      if ('s' in rec) held.set(rec.s.attemptId, { entry: rec.s, exit: held.get(rec.s.attemptId)?.exit ?? null });
      else if ('x' in rec) {
        const h = held.get(rec.x.attemptId);
        if (h) h.exit = rec.x;
      } else held.delete(rec.r);
    }
    const legacy = readLegacy(this.launcherDir);
    for (const h of legacy.attempts) if (!held.has(h.entry.attemptId)) held.set(h.entry.attemptId, h);
    this.live.clear();
    for (const h of held.values()) {
      this.live.set(h.entry.attemptId, { s: encode({ s: h.entry }), ...(h.exit ? { x: encode({ x: h.exit }) } : {}) });
    }
    this.rewrite();
    legacy.remove();
    return [...held.values()];
  }

  started(entry: AttemptIndexEntry): void {
    const line = encode({ s: entry });
    this.append(line);
    this.liveOf(entry.attemptId).s = line;
  }

  exited(exit: AttemptExit): void {
    const line = encode({ x: exit });
    this.append(line);
    this.liveOf(exit.attemptId).x = line;
  }

  released(attemptId: string): void {
    this.append(encode({ r: attemptId }));
    this.live.delete(attemptId);
    if (this.lines > COMPACT_SLACK + 2 * this.live.size) this.rewrite();
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private liveOf(attemptId: string): { s?: string; x?: string } {
    let l = this.live.get(attemptId);
    if (!l) this.live.set(attemptId, (l = {}));
    return l;
  }

  /** Appends a whole line or nothing (a short write on a full disk is cut off again). */
  private append(line: string): void {
    const buf = Buffer.from(line);
    const n = fs.writeSync(this.fd, buf);
    if (n < buf.length) {
      try {
        fs.ftruncateSync(this.fd, this.size);
      } catch {
        // the reader skips a line that does not parse
      }
      throw Object.assign(new Error('short write to the launcher journal: the disk is full'), { code: 'ENOSPC' });
    }
    this.size += n;
    this.lines++;
  }

  /** Replaces the file with the live attempts' lines only. */
  private rewrite(): void {
    const text = [...this.live.values()].map((l) => (l.s ?? '') + (l.x ?? '')).join('');
    const tmp = `${this.file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, this.file);
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file, 'a');
    this.size = Buffer.byteLength(text);
    this.lines = 2 * this.live.size;
  }
}

function encode(rec: JournalRecord): string {
  return `${JSON.stringify(rec)}\n`;
}

function parseLine(line: string): JournalRecord | null {
  if (line === '') return null;
  try {
    const rec = JSON.parse(line) as JournalRecord;
    if (rec && typeof rec === 'object' && ('s' in rec || 'x' in rec || 'r' in rec)) return rec;
  } catch {
    // torn by a crash: as if never written
  }
  return null;
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The index files and exit records of a launcher from before the journal, and how to remove them. */
function readLegacy(launcherDir: string): { attempts: JournaledAttempt[]; remove(): void } {
  const dir = path.join(launcherDir, 'attempts');
  if (!fs.existsSync(dir)) return { attempts: [], remove: () => {} };
  const attempts: JournaledAttempt[] = [];
  for (const name of fs.readdirSync(dir)) {
    const entry = name.endsWith('.json') ? readJson<AttemptIndexEntry>(path.join(dir, name)) : null;
    if (entry) attempts.push({ entry, exit: readJson<AttemptExit>(path.join(entry.workDir, `exit-${entry.attemptId}.json`)) });
  }
  return {
    attempts,
    remove: () => {
      for (const a of attempts) fs.rmSync(path.join(a.entry.workDir, `exit-${a.entry.attemptId}.json`), { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Start time of a pid (field 22 of /proc/<pid>/stat), or null when it does not exist. */
export function procStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); field 22 is fields[19].
    if (fields[0] === 'Z') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
