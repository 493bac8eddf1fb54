/**
 * What the launcher keeps on disk, so nothing is lost when it (or the server) restarts:
 *
 * - `<launcher dir>/attempts/<attemptId>.json`: one index entry per attempt it holds (where its
 *   workDir is, its pid and the pid's start time, the path of its mounts — never their
 *   contents), removed on `release`.
 * - `<spec.workDir>/exit-<attemptId>.json`: the attempt's `AttemptExit`, written before the exit
 *   is pushed to anyone, removed on `release`.
 *
 * Index entries are written atomically (a temporary file in the same directory, then a
 * rename); exit records in place, which is as safe for a new file (see `writeExitRecord`).
 * Nothing is fsynced: these files must outlive a crash of the launcher or the server *process*, which the
 * page cache guarantees; a crash of the machine ends every instance anyway (an fsync per exit
 * cost about 1 ms per instance for no gain).
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

/** Writes JSON atomically (temporary file, then rename). */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(value));
  fs.renameSync(tmp, file);
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

function rmQuiet(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // nothing to remove
  }
}

export function exitRecordPath(workDir: string, attemptId: string): string {
  return path.join(workDir, `exit-${attemptId}.json`);
}

/**
 * Written in place, not through a rename: the file is new (one per attempt id), so a crash in
 * the middle leaves a record that does not parse, which reads as no record — the same as a
 * crash just before writing it (the attempt is then found ended with its exit unknown).
 */
export function writeExitRecord(workDir: string, exit: AttemptExit): void {
  const file = exitRecordPath(workDir, exit.attemptId);
  const json = JSON.stringify(exit);
  try {
    fs.writeFileSync(file, json);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    fs.mkdirSync(workDir, { recursive: true });
    fs.writeFileSync(file, json);
  }
}

export function readExitRecord(workDir: string, attemptId: string): AttemptExit | null {
  return readJson<AttemptExit>(exitRecordPath(workDir, attemptId));
}

export function removeExitRecord(workDir: string, attemptId: string): void {
  rmQuiet(exitRecordPath(workDir, attemptId));
}

export class AttemptIndex {
  readonly dir: string;
  constructor(launcherDir: string) {
    this.dir = path.join(launcherDir, 'attempts');
    fs.mkdirSync(this.dir, { recursive: true });
  }
  private file(attemptId: string): string {
    return path.join(this.dir, `${attemptId}.json`);
  }
  /** The index is a hint for a restarted launcher; exit records are the facts. */
  write(entry: AttemptIndexEntry): void {
    writeJsonAtomic(this.file(entry.attemptId), entry);
  }
  remove(attemptId: string): void {
    rmQuiet(this.file(attemptId));
  }
  readAll(): AttemptIndexEntry[] {
    const out: AttemptIndexEntry[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      if (!name.endsWith('.json')) {
        if (name.includes('.tmp-')) rmQuiet(path.join(this.dir, name));
        continue;
      }
      const entry = readJson<AttemptIndexEntry>(path.join(this.dir, name));
      if (entry) out.push(entry);
    }
    return out;
  }
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
