/**
 * One server per state home: `<home>/server.lock` holds the pid of the server that owns the
 * home. It is created exclusively; a lock whose pid is dead is stale and taken over. Two
 * engines on one database would start every instance twice, so this is not optional.
 */
import fs from 'node:fs';
import path from 'node:path';

export class HomeLockedError extends Error {
  constructor(readonly home: string, readonly pid: number) {
    super(`a cejobs server (pid ${pid}) already runs on ${home}; use 'ce server status' or 'ce server stop'`);
    this.name = 'HomeLockedError';
  }
}

/** True while a process with this pid exists (ours or another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock of `home` for this process; returns the function that releases it. */
export function lockHome(home: string): () => void {
  const file = path.join(home, 'server.lock');
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) throw new HomeLockedError(home, pid);
      fs.rmSync(file, { force: true }); // stale: its server is gone
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
