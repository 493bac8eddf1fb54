/**
 * The supervisor: owns every attempt the launcher runs.
 *
 * One attempt = one process session (the main pid is session and group leader), optionally
 * inside its own cgroups and, when it mounts config maps or secrets, its own mount namespace
 * (`mounts.ts`), with stdout/stderr piped into a `LogWriter`. When the main process
 * ends, whatever remains of its group and cgroups is killed (like a container whose PID 1
 * ends), the pipes are drained for a bounded time, the exit is written durably
 * (`records.ts`), then pushed. It stays until `release`.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { AttemptExit, InstanceSpec } from '../drivers/driver.js';
import type { AttemptOutcome } from '../domain/failure-reasons.js';
import { LogWriter } from '../logs/writer.js';
import { nodeStarter, processStarter, StartError, type ProcessStarter, type StartedChild } from './child.js';
import type { OutputCapture } from './output-capture.js';
import {
  oomKills,
  procsFiles,
  removeCgroup,
  signalCgroup,
  type AttemptCgroup,
  type LimitSetup,
} from './cgroups.js';
import { materializeMounts, MountError, mountsDirOf, mountWrapper, removeMounts, type MountPlan, type MountSetup } from './mounts.js';
import type { AttemptState, LauncherCapabilities, ListResult, StartResult, StopResult } from './protocol.js';
import {
  AttemptJournal,
  procStartTime,
  type AttemptIndexEntry,
} from './records.js';
import { ScratchPool } from './scratch-pool.js';
import { buildEnv, gidOf, resolveCommand } from './spawn.js';
import { ATTEMPT_MARKER, dirUsage, pidsMarked, pidsOfGroup, rssByGroup } from './watch.js';

export interface SupervisorOptions {
  /** The launcher directory (the journal of attempts is `<dir>/journal`, see `records.ts`). */
  dir: string;
  limits: LimitSetup;
  /** What `detectMounts` found. @default mounts not available */
  mounts?: MountSetup;
  log: (line: string) => void;
  /**
   * Period of the RSS / adopted-pid checks. @default 500. Scratch sizes are checked every
   * `STORAGE_EVERY` periods (10 s by default, as the kubelet that enforces Code Engine's
   * ephemeral storage does): with hundreds of daemons that check is the launcher's main idle cost.
   */
  watchIntervalMs?: number;
  /** How long to wait for the pipes to drain after the main process ended. @default 2000 */
  drainMs?: number;
  /** Silence after which a partial output line is written as a record. @default 200 */
  partialFlushMs?: number;
  /** How main processes are started. @default the native addon when it loads, else Node's spawn */
  starter?: ProcessStarter;
}

export class SupervisorError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Attempt {
  id: string;
  entry: AttemptIndexEntry;
  state: 'starting' | 'running' | 'exited';
  exit?: AttemptExit;
  ready: Promise<void>;
  child?: StartedChild;
  writer?: LogWriter;
  capture?: OutputCapture;
  /** Set when the launcher killed it for a limit. */
  killedFor?: AttemptOutcome;
  stopTimer?: NodeJS.Timeout;
  stopDeadline?: number;
  /** Found alive after a launcher restart: not our child, polled instead. */
  adopted: boolean;
  mainExited: boolean;
  /**
   * The modification time of its scratch directory when a walk last found it empty. While the
   * directory's time stays the same it is still empty (adding an entry changes it), so the next
   * check is a `stat`, not a walk: idle daemons cost almost nothing to watch.
   */
  emptyScratchMtime?: number;
}

/**
 * Scratch sizes are checked every this many watch periods: 10 s by default, the kubelet's
 * eviction monitoring period (what enforces Code Engine's ephemeral storage). Each check costs a
 * `stat` per idle attempt; at 2 s that was most of the launcher's system calls while idle with
 * 500 daemons.
 */
export const STORAGE_EVERY = 20;

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/** False for a directory with entries, and for one that cannot be read (missing). */
function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

export class Supervisor extends EventEmitter<{ exit: [AttemptExit] }> {
  private readonly attempts = new Map<string, Attempt>();
  private readonly journal: AttemptJournal;
  private readonly watchTimer: NodeJS.Timeout;
  private readonly drainMs: number;
  private readonly partialFlushMs: number;
  private readonly mounts: MountSetup;
  private readonly starter: ProcessStarter;
  private readonly scratch: ScratchPool;
  /** The last log directory known to exist (a run's instances share one). */
  private logDirMade = '';
  private readonly uid = process.getuid?.() ?? 0;
  /** Attempts with mounts start through their wrapper, which Node's spawn runs. */
  private readonly wrapperStarter = nodeStarter('the mount wrapper');

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.journal = new AttemptJournal(options.dir);
    this.drainMs = options.drainMs ?? 2000;
    this.partialFlushMs = options.partialFlushMs ?? 200;
    this.mounts = options.mounts ?? {
      support: { enforced: false, how: 'not available: mounts were not detected' },
      unshare: null,
      mount: null,
      setpriv: null,
    };
    this.starter = options.starter ?? processStarter();
    this.scratch = new ScratchPool(path.join(options.dir, 'scratch'));
    this.watchTimer = setInterval(() => this.watch(), options.watchIntervalMs ?? 500);
    this.watchTimer.unref();
  }

  get mode(): LimitSetup['mode'] {
    return this.options.limits.mode;
  }

  capabilities(): LauncherCapabilities {
    const l = this.options.limits;
    return {
      mode: l.mode,
      canSwitchUser: process.getuid?.() === 0,
      limits: {
        cpu: { enforced: l.cpu.enforced, how: l.cpu.why },
        memory: { enforced: true, how: l.mode },
        ephemeralStorage: { enforced: true, how: 'scratch-dir-watch' },
      },
      mounts: { ...this.mounts.support },
      spawn: { kind: this.starter.kind, how: this.starter.why },
      cwd: true,
    };
  }

  /** Loads what a previous launcher left: exit records, and attempts still running (adopted). */
  recoverFromDisk(): void {
    for (const { entry, exit } of this.journal.recover()) {
      if (!exit && entry.pid > 0 && entry.procStart !== null && procStartTime(entry.pid) === entry.procStart) {
        this.options.log(`adopting running attempt ${entry.attemptId} (pid ${entry.pid})`);
        this.attempts.set(entry.attemptId, {
          id: entry.attemptId, entry, state: 'running', ready: Promise.resolve(), adopted: true, mainExited: false,
        });
        continue;
      }
      const a: Attempt = { id: entry.attemptId, entry, state: 'exited', ready: Promise.resolve(), adopted: false, mainExited: true };
      this.attempts.set(a.id, a);
      if (exit) {
        a.exit = exit;
        this.removeMountFiles(entry); // the previous launcher may have died before it removed them
        continue;
      }
      // Ended while no launcher watched (or never got to run): how is unknown. Held as a `lost`
      // exit until released, like any exit, so that it reaches the engine — also one that stayed
      // up while its launcher died and came back, which would otherwise wait for it for ever. The
      // engine runs the instance again without using a retry. (Nobody listens for `exit` yet:
      // clients get it with the held exits after their hello.)
      this.options.log(`attempt ${entry.attemptId} ended while no launcher ran; its exit is unknown (reported as lost)`);
      this.finish(
        a,
        { kind: 'lost', message: 'its exit status is unknown: it ended while no launcher watched it (the launcher that started it had stopped)' },
        entry.pid > 0 ? entry.startedAt : undefined,
      );
    }
    const inUse = new Set<string>();
    for (const a of this.attempts.values()) for (const dir of a.entry.cgroup?.dirs ?? []) inUse.add(dir);
    this.options.limits.removeStale(inUse);
    this.scratch.recover(new Set([...this.attempts.values()].map((a) => a.entry.scratch)));
  }

  runningCount(): number {
    let n = 0;
    for (const a of this.attempts.values()) if (a.state !== 'exited') n++;
    return n;
  }

  unreleasedCount(): number {
    return this.attempts.size - this.runningCount();
  }

  /** Exits not yet released (re-pushed to new clients). */
  heldExits(): AttemptExit[] {
    const out: AttemptExit[] = [];
    for (const a of this.attempts.values()) if (a.exit) out.push(a.exit);
    return out;
  }

  private stateOf(a: Attempt): AttemptState {
    return a.state === 'exited' && a.exit ? { state: 'exited', exit: a.exit } : { state: 'running' };
  }

  private startResult(a: Attempt, created: boolean): StartResult {
    return {
      attemptId: a.id,
      created,
      state: this.stateOf(a),
      pid: a.entry.pid,
      pgid: a.entry.pgid,
      startedAt: a.entry.startedAt,
      launcherPid: process.pid,
    };
  }

  status(attemptId: string): AttemptState {
    const a = this.attempts.get(attemptId);
    return a ? this.stateOf(a) : { state: 'unknown' };
  }

  list(): ListResult {
    return {
      attempts: [...this.attempts.values()].map((a) => ({
        attemptId: a.id, pid: a.entry.pid, pgid: a.entry.pgid, startedAt: a.entry.startedAt, ...this.stateOf(a),
      })),
    };
  }

  async start(spec: InstanceSpec): Promise<StartResult> {
    if (typeof spec?.attemptId !== 'string' || !SAFE_ID.test(spec.attemptId)) {
      throw new SupervisorError('BadRequest', `invalid attemptId ${JSON.stringify(spec?.attemptId)}`);
    }
    for (const field of ['workDir', 'logPath'] as const) {
      if (typeof spec[field] !== 'string' || !path.isAbsolute(spec[field])) {
        throw new SupervisorError('BadRequest', `${field} must be an absolute path, got ${JSON.stringify(spec[field])}`);
      }
    }
    const known = this.attempts.get(spec.attemptId);
    if (known) {
      await known.ready;
      return this.startResult(known, false);
    }
    // A scratch directory from the pool: making one per instance was the dearest system call of
    // a start (scratch-pool.ts).
    const scratch = this.scratch.take();
    const entry: AttemptIndexEntry = {
      attemptId: spec.attemptId,
      workDir: spec.workDir,
      logPath: spec.logPath,
      scratch: scratch.dir,
      pid: 0,
      pgid: 0,
      procStart: null,
      startedAt: Date.now(),
      cgroup: null,
      mountsDir: null,
      memoryLimitBytes: spec.limits?.memoryBytes ?? 0,
      storageLimitBytes: spec.limits?.ephemeralStorageBytes ?? 0,
    };
    let resolveReady!: () => void;
    const a: Attempt = {
      id: spec.attemptId,
      entry,
      state: 'starting',
      ready: new Promise((r) => (resolveReady = r)),
      adopted: false,
      mainExited: false,
    };
    this.attempts.set(a.id, a);
    try {
      await this.launch(a, spec, scratch.fresh);
    } catch (e) {
      this.failStart(a, 'StartFailed', `the launcher could not start it: ${(e as Error).message}`);
    } finally {
      resolveReady();
    }
    return this.startResult(a, true);
  }

  private async launch(a: Attempt, spec: InstanceSpec, freshScratch: boolean): Promise<void> {
    const { entry } = a;
    const logDir = path.dirname(spec.logPath);
    if (logDir !== this.logDirMade) {
      if (!fs.existsSync(logDir)) fs.mkdirSync(logDir, { recursive: true });
      this.logDirMade = logDir;
    }
    a.writer = new LogWriter(spec.logPath, spec.logMaxBytes ? { maxBytes: spec.logMaxBytes } : {});

    // Who runs it.
    const myUid = this.uid;
    let uid: number | null = null;
    if (spec.runAsUser && spec.runAsUser !== myUid) {
      if (myUid !== 0) {
        return this.failStart(a, 'StartFailed',
          `run_as_user ${spec.runAsUser} needs a launcher running as root; it runs as uid ${myUid}`);
      }
      uid = spec.runAsUser;
    }

    // The scratch directory, empty: the instance's ephemeral storage and working directory. A new
    // one is made by the starter — the native one in the child, off this thread.
    const makeDirs = freshScratch ? [entry.scratch] : [];
    if (uid !== null) {
      for (const d of makeDirs.splice(0)) fs.mkdirSync(d); // it must exist to change its owner
      fs.chownSync(entry.scratch, uid, gidOf(uid));
    }

    const home = uid === null ? (process.env.HOME ?? '/') : entry.scratch;
    const env = buildEnv(spec, entry.scratch, home);
    env[ATTEMPT_MARKER] = a.id; // how signalAll finds processes that left the session
    // A source build's snapshot is the working directory; the scratch dir stays $HOME/TMPDIR.
    const cwd = typeof spec.cwd === 'string' && spec.cwd !== '' ? spec.cwd : entry.scratch;
    if (cwd !== entry.scratch && !isDirectory(cwd)) {
      return this.failStart(a, 'StartFailed', `the working directory ${cwd} (a source build snapshot) does not exist; rebuild the job`);
    }
    const resolved = resolveCommand(spec, env, cwd);
    if (!resolved.ok) return this.failStart(a, resolved.reason, resolved.message);

    // Config maps and secrets: files written now, mounted inside the attempt's own mount
    // namespace by the wrapper. Attempts without mounts pay nothing of this.
    let plan: MountPlan | null = null;
    const mounts = Array.isArray(spec.mounts) ? spec.mounts : [];
    if (mounts.length > 0) {
      const support = this.mounts.support;
      if (!support.enforced) {
        return this.failStart(a, 'StartFailed',
          `the instance mounts config maps or secrets, but this launcher cannot mount files (${support.how})`);
      }
      if (uid !== null && !this.mounts.setpriv) {
        return this.failStart(a, 'StartFailed',
          `run_as_user ${uid} with mounted config maps or secrets needs setpriv (util-linux), which was not found`);
      }
      entry.mountsDir = mountsDirOf(this.options.dir, a.id);
      try {
        plan = materializeMounts(mounts, this.options.dir, a.id, uid !== null ? { uid, gid: gidOf(uid) } : null);
      } catch (e) {
        // MountError messages name paths, names and keys only; other errors carry no content.
        const why = e instanceof MountError ? e.message : ((e as NodeJS.ErrnoException).code ?? 'unexpected error');
        return this.failStart(a, 'StartFailed', `cannot prepare the mounts of the instance: ${why}`);
      }
      this.options.log(
        `attempt ${a.id}: mounting ${mounts.map((m) => `${m.source === 'secret' ? 'secret' : 'config map'} ${m.name} at ${m.mountPath}`).join(', ')}`,
      );
    }

    let cg: AttemptCgroup | null = null;
    try {
      cg = this.options.limits.create(spec.limits, uid);
    } catch (e) {
      return this.failStart(a, 'StartFailed', `cannot set up the cgroups of the instance: ${(e as Error).message}`);
    }
    entry.cgroup = cg;

    const user = uid !== null ? { uid, gid: gidOf(uid) } : null;
    let child: StartedChild;
    try {
      // With mounts the wrapper starts as root (to mount), joins the cgroups and drops to the user itself.
      const wrapper = plan ? [...mountWrapper(this.mounts, plan, cg, user), resolved.program, ...resolved.argv.slice(1)] : null;
      child = wrapper
        ? await this.wrapperStarter.start({ program: wrapper[0]!, argv: wrapper, env, cwd, cgroupProcs: [], user: null, makeDirs })
        : await this.starter.start({
            program: resolved.program, argv: resolved.argv, env, cwd, cgroupProcs: cg ? procsFiles(cg) : [], user, makeDirs,
          });
    } catch (e) {
      return this.failStart(a, 'StartFailed', e instanceof StartError ? e.message : `spawn failed: ${(e as Error).message}`);
    }
    a.child = child;
    entry.pid = child.pid;
    entry.pgid = child.pid;
    entry.procStart = child.procStart;
    entry.startedAt = Date.now();
    a.state = 'running';
    try {
      this.journal.started(entry);
    } catch (e) {
      this.options.log(`cannot write the journal record of ${a.id}'s start: ${(e as Error).message}`);
    }

    a.capture = child.captureOutput(a.writer, this.partialFlushMs);
    child.onExit((code, signal) => void this.onMainExit(a, code, signal));
  }

  /** The attempt never ran: record a start-failed exit. */
  private failStart(a: Attempt, reason: 'ExecutableNotFound' | 'StartFailed', message: string): void {
    a.writer?.note(`[cejobs] failed to start: ${message}`);
    a.writer?.close();
    if (a.entry.cgroup) void this.options.limits.release(a.entry.cgroup);
    a.entry.cgroup = null;
    this.finish(a, { kind: 'start-failed', reason, message }, undefined);
  }

  /** Records the exit durably, then pushes it. */
  private finish(a: Attempt, outcome: AttemptOutcome, startedAt: number | undefined, finishedAt = Date.now()): void {
    const exit: AttemptExit = { attemptId: a.id, outcome, finishedAt };
    if (startedAt !== undefined) exit.startedAt = startedAt;
    if (a.stopTimer) clearTimeout(a.stopTimer);
    try {
      if (a.entry.pid === 0) this.journal.started(a.entry); // never ran: nothing was written at spawn
      this.journal.exited(exit);
    } catch (e) {
      this.options.log(`cannot write the journal record of ${a.id}'s exit: ${(e as Error).message}`);
    }
    // Nothing runs in its mount namespace any more: its secrets need not stay on disk.
    this.removeMountFiles(a.entry);
    a.state = 'exited';
    a.exit = exit;
    this.emit('exit', exit);
  }

  /** Removes the materialised config maps and secrets of an attempt (never logs contents). */
  private removeMountFiles(entry: AttemptIndexEntry): void {
    if (!entry.mountsDir) return;
    try {
      removeMounts(entry.mountsDir);
    } catch (e) {
      this.options.log(`cannot remove the mounted files of ${entry.attemptId} in ${entry.mountsDir}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }

  private async onMainExit(a: Attempt, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    a.mainExited = true;
    const finishedAt = Date.now();
    // Like a container whose PID 1 ended: nothing of the attempt survives it.
    this.signalAll(a, 'SIGKILL');
    const capture = a.capture!;
    let drainTimer: NodeJS.Timeout | undefined;
    await Promise.race([capture.drained, new Promise((r) => (drainTimer = setTimeout(r, this.drainMs)))]);
    clearTimeout(drainTimer);
    await capture.release();
    const cg = a.entry.cgroup;
    let outcome: AttemptOutcome;
    if (a.killedFor) {
      outcome = a.killedFor;
    } else if (cg && (signal === 'SIGKILL' || code !== 0) && oomKills(cg) > 0) {
      outcome = {
        kind: 'oom-killed',
        message: `was killed by the kernel for exceeding its memory limit of ${a.entry.memoryLimitBytes} bytes (${this.mode})`,
      };
    } else {
      outcome = { kind: 'exited', exitCode: signal ? null : code, signal: signal ?? null };
    }
    if (outcome.kind === 'oom-killed' || outcome.kind === 'storage-exceeded') a.writer?.note(`[cejobs] ${outcome.message}`);
    a.writer?.close();
    this.finish(a, outcome, a.entry.startedAt, finishedAt);
  }

  /** A signal to everything of the attempt: its group, its session members, its cgroups. */
  private signalAll(a: Attempt, signal: NodeJS.Signals): void {
    const pgid = a.entry.pgid;
    const kill = (pid: number) => this.starter.signal(pid, signal);
    if (pgid > 0) {
      kill(-pgid);
      if (a.adopted) kill(pgid);
    }
    if (a.entry.cgroup) signalCgroup(a.entry.cgroup, signal);
    else {
      if (pgid > 0) for (const pid of pidsOfGroup(pgid)) kill(pid);
      // what left the session (setsid, a double fork) still carries the attempt's marker
      for (const pid of pidsMarked(a.id)) kill(pid);
    }
  }

  stop(attemptId: string, graceMs: number): StopResult {
    const a = this.attempts.get(attemptId);
    if (!a) return { found: false };
    if (a.state === 'exited') return { found: true, state: this.stateOf(a) };
    const grace = Math.max(0, Number.isFinite(graceMs) ? graceMs : 10_000);
    const deadline = Date.now() + grace;
    void a.ready.then(() => {
      if (a.state === 'exited') return;
      if (a.stopDeadline === undefined) this.signalAll(a, 'SIGTERM');
      if (a.stopDeadline !== undefined && a.stopDeadline <= deadline) return;
      a.stopDeadline = deadline;
      if (a.stopTimer) clearTimeout(a.stopTimer);
      a.stopTimer = setTimeout(() => {
        if (a.state !== 'exited') this.signalAll(a, 'SIGKILL');
      }, Math.max(0, deadline - Date.now()));
    });
    return { found: true, state: this.stateOf(a) };
  }

  async release(attemptId: string): Promise<boolean> {
    const a = this.attempts.get(attemptId);
    if (!a) return false;
    if (a.state !== 'exited') throw new SupervisorError('Running', `attempt ${attemptId} is still running; stop it first`);
    this.attempts.delete(attemptId);
    try {
      this.journal.released(attemptId);
    } catch (e) {
      this.options.log(`cannot write the journal record of ${attemptId}'s release: ${(e as Error).message}`);
    }
    this.removeMountFiles(a.entry);
    if (this.scratch.owns(a.entry.scratch)) {
      try {
        this.scratch.give(a.entry.scratch);
      } catch (e) {
        this.options.log(`cannot remove ${a.entry.scratch}: ${(e as Error).message}`);
      }
    } else if (!isEmptyDir(a.entry.scratch)) {
      // an attempt of a launcher from before the pool: its scratch was its work directory
      this.removeScratch(a.entry.scratch, attemptId);
    }
    if (a.entry.cgroup) await this.options.limits.release(a.entry.cgroup);
    return true;
  }

  /** `dirUsage` of an attempt's scratch, skipping the walk while it is known to be empty. */
  private scratchUsage(a: Attempt): { bytes: number; complete: boolean } {
    let mtime: number | undefined;
    try {
      mtime = fs.statSync(a.entry.scratch).mtimeMs;
    } catch {
      // missing: the walk says 0
    }
    if (mtime !== undefined && mtime === a.emptyScratchMtime) return { bytes: 0, complete: true };
    const usage = dirUsage(a.entry.scratch);
    // Only a time well in the past is trusted: on a file system that keeps whole seconds, an
    // entry added within the same second would leave the time as it was.
    const settled = mtime !== undefined && Date.now() - mtime > 2000;
    a.emptyScratchMtime = usage.entries === 0 && settled ? mtime : undefined;
    return usage;
  }

  /**
   * Removes the scratch directory of an attempt from before the scratch pool (its work
   * directory, which a live retry of the same instance may still use: then it stays).
   */
  private removeScratch(scratch: string, except: string): void {
    for (const other of this.attempts.values()) {
      if (other.id !== except && other.state !== 'exited' && other.entry.scratch === scratch) return;
    }
    try {
      fs.rmSync(scratch, { recursive: true, force: true });
    } catch (e) {
      this.options.log(`cannot remove ${scratch}: ${(e as Error).message}`);
    }
  }

  /** SIGKILLs every running attempt and waits (bounded) for their exits. */
  async killAll(timeoutMs = 5000): Promise<number> {
    const running = [...this.attempts.values()].filter((a) => a.state !== 'exited');
    for (const a of running) this.signalAll(a, 'SIGKILL');
    const deadline = Date.now() + timeoutMs;
    while (running.some((a) => a.state !== 'exited') && Date.now() < deadline) {
      this.watch();
      await new Promise((r) => setTimeout(r, 20));
    }
    return running.length;
  }

  /** Removes the cgroups of every held exit (used before the launcher exits for good). */
  async cleanupCgroups(): Promise<void> {
    for (const a of this.attempts.values()) {
      if (a.state === 'exited' && a.entry.cgroup) await removeCgroup(a.entry.cgroup);
    }
    this.options.limits.drain();
  }

  close(): void {
    clearInterval(this.watchTimer);
  }

  /** Periodic checks: RSS (rss-watch mode), scratch size, adopted pids. */
  private watchTicks = 0;

  private watch(): void {
    this.starter.sweep();
    const checkStorage = this.watchTicks++ % STORAGE_EVERY === 0;
    const alive = [...this.attempts.values()].filter((a) => a.state === 'running' && !a.mainExited);
    if (alive.length === 0) return;
    // Limits are checked on what was not killed yet; adopted pids are watched until they end.
    const running = alive.filter((a) => !a.killedFor);
    if (this.mode === 'rss-watch') {
      const limited = running.filter((a) => a.entry.memoryLimitBytes > 0);
      const rss = rssByGroup(new Set(limited.map((a) => a.entry.pgid)));
      for (const a of limited) {
        const used = rss.get(a.entry.pgid) ?? 0;
        if (used > a.entry.memoryLimitBytes) {
          this.killFor(a, {
            kind: 'oom-killed',
            message: `was killed for exceeding its memory limit: its processes used ${used} bytes of resident memory, over the limit of ${a.entry.memoryLimitBytes} bytes (measured by RSS watch; no cgroup enforces memory on this host)`,
          });
        }
      }
    }
    for (const a of running) {
      if (!checkStorage || a.killedFor || a.entry.storageLimitBytes <= 0) continue;
      const usage = this.scratchUsage(a);
      if (usage.bytes > a.entry.storageLimitBytes) {
        this.killFor(a, {
          kind: 'storage-exceeded',
          message: `was killed for exceeding its ephemeral storage limit: its scratch directory holds ${usage.bytes} bytes${usage.complete ? '' : ' or more'}, over the limit of ${a.entry.storageLimitBytes} bytes`,
        });
      }
    }
    for (const a of alive) {
      if (!a.adopted) continue;
      if (procStartTime(a.entry.pid) !== a.entry.procStart) {
        a.mainExited = true;
        this.signalAll(a, 'SIGKILL');
        const cg = a.entry.cgroup;
        const outcome: AttemptOutcome = a.killedFor
          ? a.killedFor
          : cg && oomKills(cg) > 0
            ? { kind: 'oom-killed', message: `was killed by the kernel for exceeding its memory limit of ${a.entry.memoryLimitBytes} bytes` }
            : {
                kind: 'lost',
                message: 'its exit status is unknown: the launcher that started it was restarted while it ran',
              };
        this.finish(a, outcome, a.entry.startedAt);
      }
    }
  }

  private killFor(a: Attempt, outcome: AttemptOutcome): void {
    this.options.log(`killing ${a.id}: ${outcome.kind}`);
    a.killedFor = outcome;
    this.signalAll(a, 'SIGKILL');
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
