/**
 * Scratch directories, reused. Every attempt gets a directory of its own that is empty when it
 * starts: its working directory, `HOME` (when switching user) and `TMPDIR`, and what its
 * ephemeral storage limit measures. They live in `<launcher dir>/scratch/<n>`.
 *
 * Contract:
 * - `take()` hands out a directory no live attempt holds and that was empty when it was given
 *   back, or a new name (`fresh: true`) that the caller makes — the native starter makes it in
 *   the child, off the launcher's thread.
 * - `give(dir)` at release: the directory goes back to the pool only when it is still what a
 *   fresh one is — a directory of the launcher's user, with the mode `mkdir` gives (0777 less
 *   the umask), empty. A workload that filled it, `chmod`ed it or ran as another user
 *   (`run_as_user`, which chowns it) gets it removed instead. Nothing of an
 *   attempt runs any more at release (its group and cgroups were killed at its main exit).
 * - `recover(inUse)` at launcher start: directories a previous launcher left that no recovered
 *   attempt holds are pooled when they qualify, removed otherwise.
 *
 * Why: on ext4, making a directory is the dearest system call of a start. The inode allocator
 * spreads directories over block groups and skips recently deleted inodes, reading inode-table
 * blocks as it goes; at 800 starts/s `mkdir` was a tenth of the machine's CPU (perf, ≈ 0.25 ms
 * each). A reused directory costs a `readdir` and an `lstat` at release, and nothing at start.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Empty directories kept for reuse, at most this many (the rest are removed). */
export const SCRATCH_POOL_SIZE = 1024;

export interface TakenScratch {
  dir: string;
  /** The directory does not exist yet: the caller makes it. */
  fresh: boolean;
}

export class ScratchPool {
  private readonly free: string[] = [];
  private next = 0;
  private readonly uid = process.getuid?.() ?? 0;
  /** The mode of a directory made with 0777 under this process's umask. */
  private readonly freshMode: number;

  constructor(readonly root: string) {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    const probe = path.join(root, `.probe-${process.pid}`);
    fs.rmSync(probe, { recursive: true, force: true });
    fs.mkdirSync(probe, 0o777);
    this.freshMode = fs.lstatSync(probe).mode & 0o7777;
    fs.rmdirSync(probe);
  }

  /** True for a directory this pool hands out (attempts of older launchers used others). */
  owns(dir: string): boolean {
    return path.dirname(dir) === this.root;
  }

  take(): TakenScratch {
    const dir = this.free.pop();
    if (dir !== undefined) return { dir, fresh: false };
    return { dir: path.join(this.root, String(this.next++)), fresh: true };
  }

  /** Gives back the scratch of a released attempt: pooled when it qualifies, else removed. */
  give(dir: string): void {
    if (this.free.length < SCRATCH_POOL_SIZE && this.reusable(dir)) this.free.push(dir);
    else fs.rmSync(dir, { recursive: true, force: true });
  }

  /** Takes in what a previous launcher left under `root`; `inUse` are scratch dirs of recovered attempts. */
  recover(inUse: ReadonlySet<string>): void {
    for (const name of fs.readdirSync(this.root)) {
      const n = Number(name);
      if (Number.isSafeInteger(n) && n >= this.next) this.next = n + 1;
      const dir = path.join(this.root, name);
      if (!inUse.has(dir)) this.give(dir);
    }
  }

  /** How many empty directories wait for an attempt (for tests and status). */
  get size(): number {
    return this.free.length;
  }

  private reusable(dir: string): boolean {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      return false;
    }
    if (!st.isDirectory() || st.uid !== this.uid || (st.mode & 0o7777) !== this.freshMode) return false;
    try {
      return fs.readdirSync(dir).length === 0;
    } catch {
      return false;
    }
  }
}
