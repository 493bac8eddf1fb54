/**
 * How the supervisor starts the main process of an attempt: `ProcessStarter` hides whether it
 * comes from the native addon (`native/spawn.c`: vfork + cgroup join + exec, ~10× less CPU
 * than forking the launcher) or from Node's `child_process.spawn` (the fallback, and the path
 * for attempts with mounts, whose wrapper needs a shell).
 *
 * Contract of a `StartedChild`: `pid` is a session and process group leader (setsid); stdin is
 * /dev/null; stdout and stderr are pipes that `captureOutput` (called once, right after the
 * start) writes into the attempt's log (`output-capture.ts`); `onExit` fires exactly once with the exit
 * code or the signal, after which the pid is reaped. Start failures throw a `StartError`
 * naming the step (`cgroup`, `exec`, ...) and nothing is left running.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { LogWriter } from '../logs/writer.js';
import { joinWrapper } from './cgroups.js';
import { procStartTime } from './records.js';
import { LogPump, streamCapture, type LogPumpAddon, type OutputCapture } from './output-capture.js';

export type ExitListener = (code: number | null, signal: NodeJS.Signals | null) => void;

export interface StartedChild {
  pid: number;
  /**
   * Field 22 of `/proc/<pid>/stat` (its start time in clock ticks since boot), which tells it
   * from a later process that reuses the pid; null when it had already ended.
   */
  procStart: string | null;
  /** Starts writing stdout and stderr into `writer`; partial lines wait at most `flushMs`. */
  captureOutput(writer: LogWriter, flushMs: number): OutputCapture;
  onExit(listener: ExitListener): void;
}

export interface StartRequest {
  /** Absolute path of the program. */
  program: string;
  /** argv, `argv[0]` included. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** `cgroup.procs` files the child joins before it execs. */
  cgroupProcs: string[];
  /** Directories created where missing, in order, before the program starts (its scratch). */
  makeDirs: string[];
  user: { uid: number; gid: number } | null;
}

export class StartError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ProcessStarter {
  /** `native` or `node`, with why when not native (for logs and capabilities). */
  readonly kind: 'native' | 'node';
  readonly why: string;
  start(req: StartRequest): Promise<StartedChild>;
  /** Reaps what ended (a safety net besides SIGCHLD; cheap). */
  sweep(): void;
  /** Sends `signal` to `pid` (a negative pid: its process group); false when nothing had it. Never throws. */
  signal(pid: number, signal: NodeJS.Signals): boolean;
}

interface NativeAddon extends LogPumpAddon {
  spawn(file: string, argv: string[], envp: string[], cwd: string, procs: string[], uid: number, gid: number, makeDirs: string[]): Promise<{ pid: number; stdout: number; stderr: number; procStart: string | null }>;
  reap(pids: number[]): [number, 0 | 1, number][];
  /** 0, or kill(2)'s errno. */
  signal(pid: number, signo: number): number;
}

/** The addon built by `native/build.mjs`, or why it cannot be used. */
export function loadNativeAddon(): { addon: NativeAddon } | { why: string } {
  // src/launcher and dist/launcher are both two levels below the package root.
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build', 'cejobs_spawn.node');
  try {
    return { addon: createRequire(import.meta.url)(file) as NativeAddon };
  } catch (e) {
    return { why: `the native spawn addon is not available (${(e as Error).message.split('\n')[0]}); run npm run build` };
  }
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

function pipeReader(fd: number): Readable {
  return new net.Socket({ fd, readable: true, writable: false });
}

/** An exit, delivered once to every listener, also to those added after it happened. */
class ExitOnce {
  private result: [number | null, NodeJS.Signals | null] | null = null;
  private readonly listeners: ExitListener[] = [];

  listen(l: ExitListener): void {
    if (this.result) l(...this.result);
    else this.listeners.push(l);
  }

  settle(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.result) return;
    this.result = [code, signal];
    for (const l of this.listeners.splice(0)) l(code, signal);
  }
}

class NativeStarter implements ProcessStarter {
  readonly kind = 'native';
  readonly why = 'vfork + exec (native/spawn.c)';
  private readonly live = new Map<number, ExitOnce>();
  // The log pump thread, started with the first capture; null when it could not start.
  private pump: LogPump | null | undefined;

  constructor(
    private readonly addon: NativeAddon,
    private readonly usePump: boolean,
  ) {
    // Listening from the start: a SIGCHLD that arrives while nobody listens is lost.
    process.on('SIGCHLD', () => this.sweep());
  }

  async start(req: StartRequest): Promise<StartedChild> {
    const envp = Object.entries(req.env).map(([k, v]) => `${k}=${v}`);
    let r: { pid: number; stdout: number; stderr: number; procStart: string | null };
    try {
      r = await this.addon.spawn(req.program, req.argv, envp, req.cwd, req.cgroupProcs, req.user?.uid ?? -1, req.user?.gid ?? -1, req.makeDirs);
    } catch (e) {
      const err = e as Error & { step?: string };
      throw new StartError(err.step ?? 'spawn', err.step === 'cgroup' ? `cannot join its cgroups: ${err.message}` : err.message);
    }
    const exit = new ExitOnce();
    this.live.set(r.pid, exit);
    // An exit whose SIGCHLD was handled before the pid was in `live` is picked up here.
    setImmediate(() => this.sweep());
    return {
      pid: r.pid,
      procStart: r.procStart,
      captureOutput: (writer, flushMs) => {
        const pump = this.logPump();
        return pump ? pump.capture(r.stdout, r.stderr, writer, flushMs) : streamCapture(pipeReader(r.stdout), pipeReader(r.stderr), writer, flushMs);
      },
      onExit: (l) => exit.listen(l),
    };
  }

  private logPump(): LogPump | null {
    if (this.pump === undefined) {
      try {
        this.pump = this.usePump ? new LogPump(this.addon) : null;
      } catch {
        this.pump = null; // its thread did not start: Node reads the pipes
      }
    }
    return this.pump;
  }

  sweep(): void {
    if (this.live.size === 0) return;
    for (const [pid, kind, value] of this.addon.reap([...this.live.keys()])) {
      const exit = this.live.get(pid);
      this.live.delete(pid);
      exit?.settle(kind === 0 ? value : null, kind === 1 ? (SIGNAL_NAMES.get(value) ?? 'SIGKILL') : null);
    }
  }

  signal(pid: number, signal: NodeJS.Signals): boolean {
    const signo = os.constants.signals[signal];
    return signo === undefined ? signalQuiet(pid, signal) : this.addon.signal(pid, signo) === 0;
  }
}

class NodeStarter implements ProcessStarter {
  readonly kind = 'node';
  constructor(readonly why: string) {}

  async start(req: StartRequest): Promise<StartedChild> {
    try {
      // As the native child does: each in turn, an existing one is fine, parents are not made.
      for (const d of req.makeDirs) {
        try {
          fs.mkdirSync(d);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
    } catch (e) {
      throw new StartError('chdir', `cannot create ${(e as NodeJS.ErrnoException).path ?? 'its directory'}: ${(e as Error).message}`);
    }
    // Without the addon, a fixed shell wrapper joins the cgroups, then execs the program.
    const argv = req.cgroupProcs.length > 0 ? [...joinWrapper(req.cgroupProcs), req.program, ...req.argv.slice(1)] : [req.program, ...req.argv.slice(1)];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: req.cwd,
      env: req.env,
      detached: true, // setsid(): own session and process group, pgid = pid
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(req.cgroupProcs.length > 0 ? {} : { argv0: req.argv[0] }),
      ...(req.user ?? {}),
    });
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (e) => resolve(e));
    });
    if (spawned || child.pid === undefined) {
      child.stdout?.destroy();
      child.stderr?.destroy();
      throw new StartError('exec', `spawn failed: ${spawned?.message ?? 'no pid'}`);
    }
    const exit = new ExitOnce();
    child.once('exit', (code, signal) => exit.settle(code, signal));
    return {
      pid: child.pid,
      procStart: procStartTime(child.pid),
      captureOutput: (writer, flushMs) => streamCapture(child.stdout!, child.stderr!, writer, flushMs),
      onExit: (l) => exit.listen(l),
    };
  }

  sweep(): void {}

  signal(pid: number, signal: NodeJS.Signals): boolean {
    return signalQuiet(pid, signal);
  }
}

function signalQuiet(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The native starter when the addon loads, Node's otherwise. `logPump: false` keeps the
 * native start but reads the pipes on the JavaScript thread.
 */
export function processStarter(options: { logPump?: boolean } = {}): ProcessStarter {
  const loaded = loadNativeAddon();
  return 'addon' in loaded ? new NativeStarter(loaded.addon, options.logPump ?? true) : new NodeStarter(loaded.why);
}

/** Node's starter, always (attempts whose wrapper needs it, or when asked). */
export function nodeStarter(why = 'requested'): ProcessStarter {
  return new NodeStarter(why);
}
