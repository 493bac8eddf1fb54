/**
 * Where things live in a state home (`~/.cejobs` or `CEJOBS_HOME`):
 *
 *     <home>/cejobs.db                          the store (SQLite, WAL)
 *     <home>/logs/<runId>/<instance>.log[.1]    instance logs (kept until the run is deleted)
 *     <home>/work/<runId>/<instance>/           per-instance driver files (scratch, exit records)
 *     <home>/launcher/                          the process driver's launcher (socket, pid, log)
 *
 * Run ids are UUIDs and instance names are validated DNS labels, so no name can escape the
 * home (`..`, `/` are impossible by construction; `assertInside` double-checks).
 */
import path from 'node:path';

export class StateLayout {
  constructor(readonly home: string) {}

  get database(): string {
    return path.join(this.home, 'cejobs.db');
  }

  /** Read-only snapshots of `source` builds, by content digest (builders/source.ts). */
  get snapshotsDir(): string {
    return path.join(this.home, 'snapshots');
  }

  get launcherDir(): string {
    return path.join(this.home, 'launcher');
  }

  runLogDir(runId: string): string {
    return this.inside(path.join(this.home, 'logs', segment(runId)));
  }

  logPath(runId: string, instanceName: string): string {
    return this.inside(path.join(this.home, 'logs', segment(runId), `${segment(instanceName)}.log`));
  }

  runWorkDir(runId: string): string {
    return this.inside(path.join(this.home, 'work', segment(runId)));
  }

  workDir(runId: string, instanceName: string): string {
    return this.inside(path.join(this.home, 'work', segment(runId), segment(instanceName)));
  }

  private inside(p: string): string {
    const rel = path.relative(this.home, p);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`path ${p} escapes the state home`);
    return p;
  }
}

/**
 * One path segment of an id or a name: never empty, `.`, `..`, or with a separator or NUL, so a
 * run's directory can never be its parent (removing it would remove every run's logs).
 */
function segment(s: string): string {
  if (s === '' || s === '.' || s === '..' || /[/\\\0]/.test(s)) throw new Error(`${JSON.stringify(s)} is not a safe file name`);
  return s;
}
