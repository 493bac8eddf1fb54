/**
 * The `container` driver: every attempt is one container on Podman or Docker, through the
 * Docker-compatible API (dockerode). See docs/container-driver.md.
 *
 * - Identity: the container is named `cejobs-<attemptId, dots → _>` and labelled
 *   `cejobs.attempt`, `cejobs.project`, `cejobs.run`, `cejobs.index`, `cejobs.retry`,
 *   `cejobs.instance`, plus `cejobs.owner` (scopes this driver's scans), `cejobs.workdir`,
 *   `cejobs.logpath`, `cejobs.memory` and `cejobs.storage` (what recovery needs).
 * - Durable record: the container itself, with its exit code, until `release` removes it; plus
 *   `<workDir>/container-exit-<attemptId>.json` (the `AttemptExit`, written before it is
 *   delivered) and `<workDir>/container-state-<attemptId>.json` (a stop was requested / the
 *   storage limit was exceeded), so a restarted server gets the same facts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { AttemptOutcome } from '../../domain/failure-reasons.js';
import type {
  AttemptExit,
  AttemptHandle,
  AttemptRef,
  Driver,
  DriverCapabilities,
  ExitListener,
  InstanceSpec,
  RecoveredAttempt,
} from '../driver.js';
import { outcomeOfExitCode } from '../exit-code.js';
import { ExitListeners, heldExits } from '../exit-listeners.js';
import { InFlightStarts } from '../in-flight-starts.js';
import { connectEngine, errorMessage, statusOf, type EngineConnection, type EngineKind } from './engine.js';
import { containerNameOf, createOptionsOf, LABEL, materializeMounts, normalizeImage, removeMounts } from './create.js';
import { makeHandle, parseHandle, type ContainerHandle, type ContainerHandleData } from './handle.js';
import { AttemptOutput, completeFromStoredLogs, offsetsFileOf, readOffsets, type SourcePos } from './logs.js';
import { cgroupParentOf, cgroupParentsUsable, peakMemoryOf, peakReachedLimit, removeCgroupParent } from './oom.js';
import { ensureImage } from './pull.js';
import { ExitWatcher, hasEnded, type DieEvent } from './watch.js';

export { detectContainerEngine } from './engine.js';

export interface ContainerDriverOptions {
  /** Unix socket of the engine's Docker-compatible API. @default detected (`detectContainerEngine`) */
  socketPath?: string;
  /** `unix:///path`, `tcp://host:port` or `http(s)://host:port` instead of `socketPath`. */
  host?: string;
  /** Expected engine; `auto` accepts whichever answers. @default 'auto' */
  engine?: EngineKind | 'auto';
  /** What the engine admits against. @default the host's cores × 1000 and total memory */
  capacity?: { cpuMillis: number; memoryBytes: number };
  /** Network of every container (`bridge`, `none`, or a named network). @default 'bridge' */
  network?: string;
  /** Longest time an image pull may take before the attempt fails with `ImagePullFailed`. @default 300000 */
  pullTimeoutMs?: number;
  /**
   * Scopes the containers this driver scans and adopts (label `cejobs.owner`): two servers on
   * one engine must use different owners. @default 'cejobs'
   */
  owner?: string;
  /** Period of the inspect fallback and the ephemeral-storage check (ms). @default 1000 */
  pollMs?: number;
}

export async function createContainerDriver(options: ContainerDriverOptions = {}): Promise<Driver> {
  const conn = await connectEngine(options);
  const driver = new ContainerDriver(conn, options);
  await driver.init();
  return driver;
}

type Phase = 'starting' | 'running' | 'exited';

interface Attempt {
  attemptId: string;
  containerName: string;
  containerId: string;
  workDir: string;
  logPath: string;
  handle: ContainerHandle;
  phase: Phase;
  /** Settles once the container was started (or failed to); exits wait for it. */
  started: Promise<void>;
  output?: AttemptOutput;
  /** The live source (attach or follow) and whether it ended cleanly. */
  live?: { pos: SourcePos; stream: NodeJS.ReadableStream & { destroy?: () => void }; ended: Promise<void> };
  memoryBytes: number;
  storageBytes: number;
  cgroupParent?: string;
  stopRequested: boolean;
  storageExceeded?: string;
  finishing?: Promise<void>;
  exit?: AttemptExit;
  delivered: boolean;
}

interface StateRecord {
  stopRequested?: boolean;
  storageExceeded?: string;
}

const exitFileOf = (workDir: string, attemptId: string) => path.join(workDir, `container-exit-${attemptId}.json`);
const stateFileOf = (workDir: string, attemptId: string) => path.join(workDir, `container-state-${attemptId}.json`);

function writeJsonAtomic(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value));
  fs.renameSync(tmp, file);
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Classifies the engine's error of a failed container start. */
export function startFailureOf(message: string, exitCode?: number): AttemptOutcome {
  const m = message.replace(/^\(HTTP code \d+\)[^-]*- /, '');
  if (/executable file not found|no such file or directory|not found in \$PATH|permission denied|exec format error/i.test(m) || exitCode === 127 || exitCode === 126) {
    return { kind: 'start-failed', reason: 'ExecutableNotFound', message: m };
  }
  return { kind: 'start-failed', reason: 'StartFailed', message: m };
}

function timeOf(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) || t <= 0 || s.startsWith('0001-') ? undefined : t;
}

class ContainerDriver implements Driver {
  readonly name = 'container';
  readonly capabilities: DriverCapabilities;
  private readonly docker: Docker;
  private readonly engine: EngineKind;
  private readonly owner: string;
  private readonly network: string;
  private readonly pullTimeoutMs: number;
  private readonly useCgroupParents: boolean;
  private readonly attempts = new Map<string, Attempt>();
  private readonly starting = new InFlightStarts();
  private readonly listeners = new ExitListeners();
  private readonly watcher: ExitWatcher;
  private closed = false;
  /** Aborts requests that may wait indefinitely (log follows of adopted containers) at close. */
  private readonly closing = new AbortController();

  constructor(conn: EngineConnection, options: ContainerDriverOptions) {
    this.docker = conn.docker;
    this.engine = conn.info.engine;
    this.owner = options.owner ?? 'cejobs';
    this.network = options.network ?? 'bridge';
    this.pullTimeoutMs = options.pullTimeoutMs ?? 300_000;
    this.useCgroupParents = this.engine === 'podman' && conn.socketPath !== undefined && cgroupParentsUsable();
    const how = this.engine;
    this.capabilities = {
      limits: {
        cpu: { enforced: true, how },
        memory: { enforced: true, how: this.useCgroupParents ? `${how} (OOM kills detected by cgroup peak)` : how },
        ephemeralStorage: { enforced: true, how: 'writable-layer-watch' },
      },
      capacity: options.capacity ?? { cpuMillis: os.availableParallelism() * 1000, memoryBytes: os.totalmem() },
      mounts: conn.socketPath
        ? { enforced: true, how: 'read-only bind mounts' }
        : { enforced: false, how: `not available: bind mounts need a local engine (${conn.where})` },
      requiresCommand: false,
      runsImages: true,
      runsLocalImages: true,
    };
    this.watcher = new ExitWatcher(
      this.docker,
      this.owner,
      (e) => this.onDie(e),
      () => this.poll(),
      options.pollMs ?? 1000,
    );
  }

  /** Opens the event stream, then adopts every container of this owner (running or ended). */
  async init(): Promise<void> {
    await this.watcher.start();
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL.owner}=${this.owner}`] } });
    for (const c of list) {
      const attemptId = c.Labels?.[LABEL.attempt];
      if (!attemptId || this.attempts.has(attemptId)) continue;
      try {
        await this.adopt(attemptId, this.docker.getContainer(c.Id));
      } catch {
        // gone meanwhile; recover will say so
      }
    }
  }

  // ─── start ────────────────────────────────────────────────────────────────────────────

  async start(spec: InstanceSpec): Promise<AttemptHandle> {
    this.assertOpen();
    return this.starting.run(spec.attemptId, () => this.startOnce(spec));
  }

  private async startOnce(spec: InstanceSpec): Promise<AttemptHandle> {
    const known = this.attempts.get(spec.attemptId);
    if (known) {
      await known.started;
      return known.handle;
    }
    // A record or a container from before a restart: the existing attempt, never a new one.
    const found = await this.find({ attemptId: spec.attemptId }, spec.workDir);
    if (found) {
      await found.started;
      return found.handle;
    }
    return this.startNew(spec);
  }

  private startNew(spec: InstanceSpec): Promise<AttemptHandle> {
    let markStarted!: () => void;
    const containerName = containerNameOf(spec.attemptId);
    const a: Attempt = {
      attemptId: spec.attemptId,
      containerName,
      containerId: '',
      workDir: spec.workDir,
      logPath: spec.logPath,
      handle: makeHandle({ containerName, containerId: '', engine: this.engine, workDir: spec.workDir, logPath: spec.logPath }),
      phase: 'starting',
      started: new Promise<void>((r) => (markStarted = r)),
      memoryBytes: spec.limits.memoryBytes,
      storageBytes: spec.limits.ephemeralStorageBytes,
      stopRequested: false,
      delivered: false,
    };
    this.attempts.set(spec.attemptId, a);
    const run = async (): Promise<AttemptHandle> => {
      try {
        await this.launch(spec, a);
      } catch (e) {
        // The engine is unusable: forget the attempt so a later start can try again.
        if (a.phase === 'starting') {
          this.attempts.delete(spec.attemptId);
          a.output?.close();
        }
        throw e;
      } finally {
        markStarted();
      }
      return a.handle;
    };
    return run();
  }

  private async launch(spec: InstanceSpec, a: Attempt): Promise<void> {
    fs.mkdirSync(spec.workDir, { recursive: true });
    a.output = new AttemptOutput(spec.logPath, spec.workDir, spec.attemptId, undefined, spec.logMaxBytes);
    if (!spec.image) {
      this.failStart(a, { kind: 'start-failed', reason: 'StartFailed', message: 'no image to run: the container driver needs image_reference' });
      return;
    }
    const image = normalizeImage(spec.image);
    const pulled = await ensureImage(this.docker, image, spec.imagePullCredentials, this.pullTimeoutMs);
    if (!pulled.ok) {
      this.failStart(a, { kind: 'start-failed', reason: 'ImagePullFailed', message: `cannot pull ${image}: ${pulled.message}` });
      return;
    }
    let mounts: Docker.MountSettings[];
    try {
      mounts = materializeMounts(spec);
    } catch (e) {
      this.failStart(a, { kind: 'start-failed', reason: 'StartFailed', message: `cannot write the mounted files: ${(e as Error).message}` });
      return;
    }
    if (this.useCgroupParents && spec.limits.memoryBytes > 0) a.cgroupParent = cgroupParentOf(a.containerName);
    const body = createOptionsOf(spec, image, mounts, {
      engine: this.engine,
      owner: this.owner,
      network: this.network,
      ...(a.cgroupParent ? { cgroupParent: a.cgroupParent } : {}),
    });
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(body);
    } catch (e) {
      const status = statusOf(e);
      if (status === undefined) throw e;
      if (status === 409) {
        // Another driver on this owner created it meanwhile: that one is the attempt.
        this.attempts.delete(a.attemptId);
        a.output?.close();
        const other = await this.adopt(a.attemptId, this.docker.getContainer(a.containerName));
        a.handle = other.handle;
        return;
      }
      this.failStart(a, { kind: 'start-failed', reason: 'StartFailed', message: `cannot create the container: ${errorMessage(e)}` });
      return;
    }
    a.containerId = container.id;
    a.handle = makeHandle({ containerName: a.containerName, containerId: container.id, engine: this.engine, workDir: a.workDir, logPath: a.logPath });
    // Live output: attach before start, so nothing is missed.
    try {
      const stream = (await container.attach({ stream: true, stdout: true, stderr: true, logs: false })) as NodeJS.ReadableStream & {
        destroy?: () => void;
      };
      this.followSource(a, stream);
    } catch {
      // No live output; the stored record completes the log at the exit.
    }
    try {
      await container.start();
    } catch (e) {
      if (statusOf(e) === undefined) throw e;
      let code: number | undefined;
      try {
        code = (await container.inspect()).State.ExitCode;
      } catch {
        // keep the message alone
      }
      a.live?.stream.destroy?.();
      this.failStart(a, startFailureOf(errorMessage(e), code));
      return;
    }
    if (a.phase === 'starting') a.phase = 'running';
  }

  /** Feeds a multiplexed live stream (attach, or a follow of the logs) into the attempt's log. */
  private followSource(a: Attempt, stream: NodeJS.ReadableStream & { destroy?: () => void }): void {
    const out = a.output!;
    const pos: SourcePos = { stdout: 0, stderr: 0 };
    const ended = new Promise<void>((resolve) => {
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', () => resolve());
    });
    this.docker.modem.demuxStream(stream, out.sink(pos, 'stdout'), out.sink(pos, 'stderr'));
    a.live = { pos, stream, ended };
  }

  private failStart(a: Attempt, outcome: AttemptOutcome): void {
    if (outcome.kind === 'start-failed') a.output?.note(`failed to start: ${outcome.message}`);
    a.output?.close();
    removeMounts(a.workDir);
    this.recordExit(a, { attemptId: a.attemptId, outcome, finishedAt: Date.now() });
  }

  // ─── exits ────────────────────────────────────────────────────────────────────────────

  private recordExit(a: Attempt, exit: AttemptExit): void {
    try {
      writeJsonAtomic(exitFileOf(a.workDir, a.attemptId), exit);
    } catch {
      // the work dir is gone (run deleted): the exit is still delivered from memory
    }
    a.exit = exit;
    a.phase = 'exited';
    this.deliverAll(a);
  }

  private deliverAll(a: Attempt): void {
    if (this.closed || !a.exit || a.delivered) return;
    a.delivered = true;
    this.listeners.emit(a.exit);
  }

  private onDie(e: DieEvent): void {
    const a = this.attempts.get(e.attemptId);
    if (!a || a.phase === 'exited') return;
    void this.finish(a, e.exitCode);
  }

  /** Fallback: any running attempt whose container no longer runs has ended; storage check. */
  private async poll(): Promise<void> {
    for (const a of [...this.attempts.values()]) {
      if (this.closed) return;
      if (a.phase !== 'running' || a.finishing) continue;
      a.output?.saveOffsets();
      const container = this.docker.getContainer(a.containerId || a.containerName);
      let info: Docker.ContainerInspectInfo;
      try {
        info = await container.inspect({ size: a.storageBytes > 0 } as Docker.ContainerInspectOptions);
      } catch (e) {
        if (statusOf(e) === 404) void this.finish(a, undefined);
        continue;
      }
      if (hasEnded(info.State)) {
        void this.finish(a, undefined);
        continue;
      }
      const sizeRw = (info as { SizeRw?: number }).SizeRw;
      if (a.storageBytes > 0 && typeof sizeRw === 'number' && sizeRw > a.storageBytes && !a.storageExceeded) {
        a.storageExceeded =
          `was killed for exceeding its ephemeral storage limit: its writable layer holds ${sizeRw} bytes, over the limit of ${a.storageBytes} bytes`;
        this.saveState(a);
        a.output?.note(a.storageExceeded);
        await container.kill({ signal: 'SIGKILL' }).catch(() => {});
      }
    }
  }

  private saveState(a: Attempt): void {
    try {
      const rec: StateRecord = { stopRequested: a.stopRequested, ...(a.storageExceeded ? { storageExceeded: a.storageExceeded } : {}) };
      writeJsonAtomic(stateFileOf(a.workDir, a.attemptId), rec);
    } catch {
      // best effort
    }
  }

  /** The container ended: complete the log, decide the outcome, record and deliver the exit. */
  private finish(a: Attempt, dieCode: number | undefined): Promise<void> {
    if (a.finishing) return a.finishing;
    a.finishing = (async () => {
      await a.started;
      if (a.phase === 'exited') return;
      const container = this.docker.getContainer(a.containerId || a.containerName);
      let info: Docker.ContainerInspectInfo | undefined;
      for (let i = 0; i < 40; i++) {
        try {
          info = await container.inspect();
        } catch (e) {
          if (statusOf(e) === 404) break;
        }
        if (info && hasEnded(info.State)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (this.closed) return;
      if (info && !hasEnded(info.State)) {
        a.finishing = undefined; // a stale event or poll: it still runs
        return;
      }
      if (!info) {
        // Removed by someone else before we saw its end.
        a.output?.note('the container disappeared before its exit status was read');
        a.output?.close();
        this.recordExit(a, { attemptId: a.attemptId, outcome: { kind: 'lost', message: 'its container was removed before its exit status was read' }, finishedAt: Date.now() });
        return;
      }
      // Output: give the live source a moment to drain, then complete from the stored record.
      if (a.live) await Promise.race([a.live.ended, new Promise((r) => setTimeout(r, 2000))]);
      if (a.output) {
        try {
          await completeFromStoredLogs(container, a.output);
        } catch (e) {
          a.output.note(`the stored output of the container could not be read: ${errorMessage(e)}`);
        }
      }
      a.live?.stream.destroy?.();
      const outcome = this.outcomeOf(a, info, dieCode);
      if (outcome.kind === 'oom-killed' && outcome.message) a.output?.note(outcome.message);
      a.output?.close();
      removeMounts(a.workDir);
      const startedAt = timeOf(info.State.StartedAt);
      let finishedAt = timeOf(info.State.FinishedAt) ?? Date.now();
      if (startedAt !== undefined && finishedAt < startedAt) finishedAt = startedAt;
      this.recordExit(a, { attemptId: a.attemptId, outcome, ...(startedAt !== undefined ? { startedAt } : {}), finishedAt });
    })();
    return a.finishing;
  }

  private outcomeOf(a: Attempt, info: Docker.ContainerInspectInfo, dieCode: number | undefined): AttemptOutcome {
    const code = info.State.ExitCode ?? dieCode ?? 0;
    if (a.storageExceeded) return { kind: 'storage-exceeded', message: a.storageExceeded };
    const limit = a.memoryBytes;
    if (info.State.OOMKilled) {
      return { kind: 'oom-killed', message: `was killed by the kernel for exceeding its memory limit of ${limit} bytes (${this.engine})` };
    }
    if (code === 137 && !a.stopRequested && limit > 0 && a.cgroupParent) {
      const peak = peakMemoryOf(a.cgroupParent);
      if (peakReachedLimit(peak, limit)) {
        return {
          kind: 'oom-killed',
          message: `was killed by the kernel for exceeding its memory limit of ${limit} bytes (${this.engine}; peak usage ${peak} bytes)`,
        };
      }
    }
    return outcomeOfExitCode(code);
  }

  // ─── adoption and recovery ───────────────────────────────────────────────────────────

  /**
   * Finds an attempt this driver does not hold yet: an exit record (via the handle's or the
   * given workDir), else its container (by name). Adopts and returns it, or `undefined`.
   */
  private async find(ref: AttemptRef, workDirHint?: string): Promise<Attempt | undefined> {
    const data = parseHandle(ref.handle);
    const workDir = data?.workDir ?? workDirHint;
    const containerName = containerNameOf(ref.attemptId);
    let container: Docker.Container | undefined = this.docker.getContainer(containerName);
    try {
      await container.inspect();
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
      container = undefined;
    }
    if (container) return this.adopt(ref.attemptId, container);
    if (workDir) {
      const exit = readJson<AttemptExit>(exitFileOf(workDir, ref.attemptId));
      if (exit && exit.attemptId === ref.attemptId) {
        return this.holdRecorded(ref.attemptId, exit, {
          containerName,
          containerId: data?.containerId ?? '',
          engine: this.engine,
          workDir,
          logPath: data?.logPath ?? '',
        });
      }
    }
    return undefined;
  }

  private holdRecorded(attemptId: string, exit: AttemptExit, data: ContainerHandleData): Attempt {
    const existing = this.attempts.get(attemptId);
    if (existing) return existing;
    const a: Attempt = {
      attemptId,
      containerName: data.containerName,
      containerId: data.containerId,
      workDir: data.workDir,
      logPath: data.logPath,
      handle: makeHandle(data),
      phase: 'exited',
      started: Promise.resolve(),
      memoryBytes: 0,
      storageBytes: 0,
      stopRequested: false,
      exit,
      delivered: false,
    };
    this.attempts.set(attemptId, a);
    this.deliverAll(a);
    return a;
  }

  /** Takes over a container of this owner found on the engine (after a restart, or a race). */
  private async adopt(attemptId: string, container: Docker.Container): Promise<Attempt> {
    const existing = this.attempts.get(attemptId);
    if (existing) return existing;
    const info = await container.inspect();
    const again = this.attempts.get(attemptId);
    if (again) return again;
    const labels = info.Config.Labels ?? {};
    const workDir = labels[LABEL.workDir] ?? '';
    const logPath = labels[LABEL.logPath] ?? '';
    const containerName = info.Name.replace(/^\//, '');
    const data: ContainerHandleData = { containerName, containerId: info.Id, engine: this.engine, workDir, logPath };
    const recorded = workDir ? readJson<AttemptExit>(exitFileOf(workDir, attemptId)) : undefined;
    if (recorded && recorded.attemptId === attemptId) return this.holdRecorded(attemptId, recorded, data);
    const state = (workDir ? readJson<StateRecord>(stateFileOf(workDir, attemptId)) : undefined) ?? {};
    const a: Attempt = {
      attemptId,
      containerName,
      containerId: info.Id,
      workDir,
      logPath,
      handle: makeHandle(data),
      phase: 'running',
      started: Promise.resolve(),
      memoryBytes: Number(labels[LABEL.memory]) || 0,
      storageBytes: Number(labels[LABEL.storage]) || 0,
      stopRequested: state.stopRequested === true,
      ...(state.storageExceeded ? { storageExceeded: state.storageExceeded } : {}),
      ...(info.HostConfig.CgroupParent ? { cgroupParent: info.HostConfig.CgroupParent } : {}),
      delivered: false,
    };
    this.attempts.set(attemptId, a);
    if (logPath && workDir) a.output = new AttemptOutput(logPath, workDir, attemptId, readOffsets(workDir, attemptId));
    const neverStarted = info.State.Status === 'created' && timeOf(info.State.StartedAt) === undefined;
    if (neverStarted) {
      // Created, never started (the previous driver stopped between create and start): start it.
      try {
        if (a.output) {
          const stream = (await container.attach({ stream: true, stdout: true, stderr: true, logs: false })) as NodeJS.ReadableStream;
          this.followSource(a, stream);
        }
        await container.start();
      } catch (e) {
        if (statusOf(e) === undefined) throw e;
        a.phase = 'starting';
        this.failStart(a, startFailureOf(errorMessage(e), info.State.ExitCode));
      }
      return a;
    }
    if (!hasEnded(info.State)) {
      if (a.output) {
        // Not awaited: Podman 4.3 sends the headers of a log follow only once the container
        // writes something, so awaiting it would block adoption (and the server's start) for as
        // long as a silent instance runs. If it never opens, the stored record completes the log
        // at the exit.
        container
          .logs({ stdout: true, stderr: true, follow: true, abortSignal: this.closing.signal })
          .then((stream) => {
            if (a.phase !== 'exited' && !this.closed) this.followSource(a, stream as unknown as NodeJS.ReadableStream);
            else (stream as unknown as { destroy?: () => void }).destroy?.();
          })
          .catch(() => {
            // the stored record completes the log at the exit
          });
      }
      // It may have ended between inspect and now; the poll and the event catch it either way.
      return a;
    }
    await this.finish(a, undefined);
    return a;
  }

  async recover(ref: AttemptRef): Promise<RecoveredAttempt> {
    this.assertOpen();
    const a = this.attempts.get(ref.attemptId) ?? (await this.find(ref));
    if (!a) return { state: 'vanished' };
    if (a.phase === 'exited' && a.exit) return { state: 'exited', exit: a.exit };
    return { state: 'running' };
  }

  // ─── stop, release, subscribe, close ───────────────────────────────────────────────────

  async stop(ref: AttemptRef, options: { graceMs: number }): Promise<void> {
    this.assertOpen();
    const a = this.attempts.get(ref.attemptId) ?? (await this.find(ref));
    if (!a) return;
    await a.started;
    if (a.phase === 'exited') return;
    if (!a.stopRequested) {
      a.stopRequested = true;
      this.saveState(a);
    }
    const grace = Number.isFinite(options.graceMs) ? Math.max(0, options.graceMs) : 10_000;
    const container = this.docker.getContainer(a.containerId || a.containerName);
    // SIGTERM, then SIGKILL after the grace (whole seconds, rounded up): the engine does both.
    // Not awaited: the request is accepted once sent; the exit arrives through subscribe.
    container.stop({ t: Math.ceil(grace / 1000) }).catch(() => {
      // already stopped (304) or gone (404): the exit is reported anyway
    });
  }

  async release(ref: AttemptRef): Promise<void> {
    const a = this.attempts.get(ref.attemptId);
    const data = parseHandle(ref.handle);
    const workDir = a?.workDir || data?.workDir;
    const name = a?.containerName ?? containerNameOf(ref.attemptId);
    let cgroupParent = a?.cgroupParent;
    try {
      const container = this.docker.getContainer(a?.containerId || name);
      if (!cgroupParent) {
        try {
          cgroupParent = (await container.inspect()).HostConfig.CgroupParent || undefined;
        } catch {
          // gone already
        }
      }
      await container.remove({ force: true, v: true });
    } catch (e) {
      if (statusOf(e) !== 404 && statusOf(e) !== undefined) throw e;
    }
    if (cgroupParent && cgroupParent.startsWith('/cejobs-containers/')) removeCgroupParent(cgroupParent);
    if (workDir) {
      for (const f of [exitFileOf(workDir, ref.attemptId), stateFileOf(workDir, ref.attemptId), offsetsFileOf(workDir, ref.attemptId)]) {
        fs.rmSync(f, { force: true });
      }
      removeMounts(workDir);
    }
    if (a) {
      a.live?.stream.destroy?.();
      a.output?.close();
    }
    this.attempts.delete(ref.attemptId);
  }

  subscribe(listener: ExitListener): () => void {
    return this.listeners.subscribe(listener, heldExits(this.attempts.values()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.listeners.clear();
    this.watcher.close();
    for (const a of this.attempts.values()) {
      a.live?.stream.destroy?.();
      a.output?.close();
    }
    this.attempts.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the container driver is closed');
  }
}
