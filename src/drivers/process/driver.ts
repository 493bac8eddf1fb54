/**
 * The `process` driver: instances are host processes, owned by the launcher (`src/launcher/`)
 * so they outlive the server. This driver is a thin client of it.
 */
import os from 'node:os';
import { LauncherClient, LauncherError, shutdownLauncher as shutdownLauncherOf } from '../../launcher/client.js';
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
import { ExitListeners } from '../exit-listeners.js';
import { makeHandle } from './handle.js';

export interface ProcessDriverOptions {
  /** State directory of the launcher (socket, pid, log, attempt index). */
  launcherDir: string;
  /** What the engine admits against. @default the host's cores × 1000 and total memory */
  capacity?: { cpuMillis: number; memoryBytes: number };
  /** Given to a launcher this driver spawns: `rss-watch` never uses cgroups. @default 'auto' */
  limitMode?: 'auto' | 'rss-watch';
  /** Given to a launcher this driver spawns: idle time before it exits. @default 60000 */
  idleExitMs?: number;
  /** Given to a launcher this driver spawns: cgroup mount root and parent group name. */
  cgroupRoot?: string;
  cgroupParent?: string;
  /** Given to a launcher this driver spawns: period of its RSS / scratch-size checks (ms). */
  watchMs?: number;
  /** Given to a launcher this driver spawns: `off` never mounts config maps or secrets. @default 'auto' */
  mountMode?: 'auto' | 'off';
  /** Given to a launcher this driver spawns: `node` never uses the native spawn addon. @default 'auto' */
  spawnMode?: 'auto' | 'node';
}

export async function createProcessDriver(options: ProcessDriverOptions): Promise<Driver> {
  const client = await LauncherClient.connect({
    dir: options.launcherDir,
    ...(options.limitMode ? { limitMode: options.limitMode } : {}),
    ...(options.idleExitMs !== undefined ? { idleExitMs: options.idleExitMs } : {}),
    ...(options.cgroupRoot ? { cgroupRoot: options.cgroupRoot } : {}),
    ...(options.cgroupParent ? { cgroupParent: options.cgroupParent } : {}),
    ...(options.watchMs ? { watchMs: options.watchMs } : {}),
    ...(options.mountMode ? { mountMode: options.mountMode } : {}),
    ...(options.spawnMode ? { spawnMode: options.spawnMode } : {}),
    clientName: `process-driver pid ${process.pid}`,
  });
  return new ProcessDriver(client, options);
}

/** Stops the launcher of `launcherDir` (with `force`, killing its attempts). For tests and uninstall. */
export function shutdownLauncher(launcherDir: string, options: { force?: boolean } = {}): Promise<void> {
  return shutdownLauncherOf(launcherDir, options);
}

/** Tries of a start whose launcher connection dropped before the reply (a launcher that keeps dying on it fails it). */
const START_TRIES = 3;

class ProcessDriver implements Driver {
  readonly name = 'process';
  readonly capabilities: DriverCapabilities;
  private readonly listeners = new ExitListeners();
  /** Exits seen and not released: replayed to every new subscriber. */
  private readonly exits = new Map<string, AttemptExit>();

  constructor(
    private readonly client: LauncherClient,
    options: ProcessDriverOptions,
  ) {
    const caps = client.hello.capabilities;
    this.capabilities = {
      limits: caps.limits,
      capacity: options.capacity ?? { cpuMillis: os.availableParallelism() * 1000, memoryBytes: os.totalmem() },
      mounts: caps.mounts
        ? { ...caps.mounts }
        : { enforced: false, how: 'not available: the running launcher predates mounts (restart it)' },
      requiresCommand: true,
      runsImages: false,
    };
    client.on('exit', (exit) => {
      if (this.exits.has(exit.attemptId)) return; // already delivered by this driver
      this.exits.set(exit.attemptId, exit);
      this.listeners.emit(exit);
    });
  }

  async start(spec: InstanceSpec): Promise<AttemptHandle> {
    // A launcher that died with the request in flight may have started the attempt (and
    // journaled it) or not: asking the next launcher again is safe, because a start is
    // idempotent per attempt id — it returns the attempt it knows, running or ended, or starts
    // it. Failing the start instead would use a retry and could run the instance twice.
    for (let tries = 1; ; tries++) {
      try {
        const r = await this.client.request('start', { spec: this.client.hello.capabilities.cwd ? spec : withCdWrapper(spec) });
        return makeHandle({ pid: r.pid, pgid: r.pgid, startedAt: r.startedAt, launcherPid: r.launcherPid });
      } catch (e) {
        if (!(e instanceof LauncherError && e.code === 'ConnectionLost') || tries >= START_TRIES) throw e;
      }
    }
  }

  async stop(ref: AttemptRef, options: { graceMs: number }): Promise<void> {
    await this.client.request('stop', { attemptId: ref.attemptId, graceMs: options.graceMs });
  }

  async recover(ref: AttemptRef): Promise<RecoveredAttempt> {
    const s = await this.client.request('status', { attemptId: ref.attemptId });
    if (s.state === 'running') return { state: 'running' };
    if (s.state === 'exited') return { state: 'exited', exit: s.exit };
    return { state: 'vanished' };
  }

  async release(ref: AttemptRef): Promise<void> {
    await this.client.request('release', { attemptId: ref.attemptId });
    this.exits.delete(ref.attemptId);
  }

  subscribe(listener: ExitListener): () => void {
    return this.listeners.subscribe(listener, [...this.exits.values()]);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.client.close();
  }
}

/**
 * For a launcher that predates `spec.cwd` (still running from an older cejobs): the same
 * command started through `sh -c 'cd -- "$0" && exec "$@"' <cwd> <command...>`.
 */
export function withCdWrapper(spec: InstanceSpec): InstanceSpec {
  if (spec.cwd === undefined) return spec;
  const { cwd, ...rest } = spec;
  return { ...rest, command: ['/bin/sh', '-c', 'cd -- "$0" && exec "$@"', cwd, ...spec.command] };
}
