/**
 * Client of the launcher (used by the process driver).
 *
 * `LauncherClient.connect` connects to `<dir>/launcher.sock`; when nothing answers it spawns the
 * launcher detached (own session, stdio to `<dir>/launcher.log`, unref'ed) and waits for the
 * socket. It performs the version handshake, replacing an idle launcher of another protocol
 * version. When the connection drops it reconnects by itself (spawning a new launcher if
 * needed); requests pending at that moment reject with a clear error, new ones wait for the
 * reconnection.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AttemptExit } from '../drivers/driver.js';
import {
  sendMessage,
  LineDecoder,
  LOG_FILE,
  PROTOCOL_VERSION,
  SOCKET_FILE,
  type HelloResult,
  type Reply,
  type Request,
  type RequestType,
  type ResultOf,
  type ServerMessage,
} from './protocol.js';

export interface LauncherOptions {
  /** The launcher's state directory. */
  dir: string;
  /** Passed to a launcher this client spawns (an already running one keeps its settings). */
  idleExitMs?: number;
  limitMode?: 'auto' | 'rss-watch';
  cgroupRoot?: string;
  cgroupParent?: string;
  /** Period of the launcher's limit checks. */
  watchMs?: number;
  /** `off` makes a spawned launcher report mounts as not available. */
  mountMode?: 'auto' | 'off';
  /** `node` makes a spawned launcher start instances with Node's spawn, never the native addon. */
  spawnMode?: 'auto' | 'node';
  /** How long to wait for a spawned launcher's socket. @default 10000 */
  startTimeoutMs?: number;
  /** Name in the launcher's log. */
  clientName?: string;
  /** Spawn a launcher when none answers. @default true */
  spawn?: boolean;
}

export class LauncherError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LauncherError';
  }
}

/** How to run the launcher from here: TypeScript sources (tsx) or the built JavaScript. */
export function launcherCommand(): { command: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    return { command: process.execPath, args: ['--import', pathToFileURL(tsx).href, path.join(path.dirname(here), 'main.ts')] };
  }
  return { command: process.execPath, args: [path.join(path.dirname(here), 'main.js')] };
}

function launcherArgs(o: LauncherOptions): string[] {
  const args = ['--dir', path.resolve(o.dir)];
  if (o.idleExitMs !== undefined) args.push('--idle-exit-ms', String(o.idleExitMs));
  if (o.limitMode) args.push('--limit-mode', o.limitMode);
  if (o.cgroupRoot) args.push('--cgroup-root', o.cgroupRoot);
  if (o.cgroupParent) args.push('--cgroup-parent', o.cgroupParent);
  if (o.watchMs) args.push('--watch-ms', String(o.watchMs));
  if (o.mountMode) args.push('--mount-mode', o.mountMode);
  if (o.spawnMode) args.push('--spawn-mode', o.spawnMode);
  return args;
}

/** Starts a launcher for `options.dir`, detached from this process. */
export function spawnLauncher(options: LauncherOptions): void {
  fs.mkdirSync(options.dir, { recursive: true });
  const { command, args } = launcherCommand();
  const logFd = fs.openSync(path.join(options.dir, LOG_FILE), 'a');
  try {
    const child = spawn(command, [...args, ...launcherArgs(options)], {
      cwd: options.dir,
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: process.env,
    });
    child.on('error', () => {});
    child.unref();
  } finally {
    fs.closeSync(logFd);
  }
}

function tryConnect(sockPath: string): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const s = net.connect(sockPath);
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', () => {
      s.destroy();
      resolve(null);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pending {
  type: RequestType;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class LauncherClient extends EventEmitter<{ exit: [AttemptExit]; reconnect: [HelloResult]; disconnect: [] }> {
  readonly sockPath: string;
  private socket: net.Socket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private connecting: Promise<void> | null = null;
  private closed = false;
  /** The last hello reply. */
  hello!: HelloResult;

  private constructor(private readonly options: LauncherOptions) {
    super();
    this.sockPath = path.join(path.resolve(options.dir), SOCKET_FILE);
  }

  /** Connects (spawning the launcher when needed) and shakes hands. */
  static async connect(options: LauncherOptions): Promise<LauncherClient> {
    const client = new LauncherClient(options);
    await client.ensureConnected();
    return client;
  }

  /** Connects a socket to a running launcher, or spawns one and waits for it. */
  private async openSocket(): Promise<net.Socket> {
    const existing = await tryConnect(this.sockPath);
    if (existing) return existing;
    if (this.options.spawn === false) {
      throw new LauncherError('NoLauncher', `no launcher answers on ${this.sockPath}`);
    }
    spawnLauncher(this.options);
    const timeout = this.options.startTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeout;
    let delay = 10;
    while (Date.now() < deadline) {
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
      const s = await tryConnect(this.sockPath);
      if (s) return s;
    }
    let tail = '';
    try {
      tail = fs.readFileSync(path.join(this.options.dir, LOG_FILE), 'utf8').split('\n').slice(-8).join('\n');
    } catch {
      // no log
    }
    throw new LauncherError(
      'LauncherDidNotStart',
      `the launcher did not come up on ${this.sockPath} within ${timeout} ms; see ${path.join(this.options.dir, LOG_FILE)}${tail ? `:\n${tail}` : ''}`,
    );
  }

  private ensureConnected(): Promise<void> {
    if (this.socket) return Promise.resolve();
    if (this.closed) return Promise.reject(new LauncherError('Closed', 'the launcher client is closed'));
    if (!this.connecting) {
      this.connecting = this.doConnect().finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    for (let round = 0; ; round++) {
      const sock = await this.openSocket();
      this.attach(sock);
      const hello = await this.send('hello', {
        version: PROTOCOL_VERSION,
        client: this.options.clientName ?? `process-driver pid ${process.pid}`,
      });
      if (hello.version === PROTOCOL_VERSION) {
        this.hello = hello;
        return;
      }
      if (hello.running + hello.unreleased > 0 || round > 0) {
        this.detach(sock);
        throw new LauncherError(
          'VersionMismatch',
          `the launcher on ${this.sockPath} (pid ${hello.pid}) speaks protocol ${hello.version}, this client ${PROTOCOL_VERSION}, and it still holds ${hello.running} running attempts and ${hello.unreleased} unreleased exits; let them finish and release them with the matching version first`,
        );
      }
      // An idle launcher of another version: replace it.
      await this.send('shutdown', {}).catch(() => undefined);
      this.detach(sock);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && fs.existsSync(this.sockPath)) await sleep(20);
    }
  }

  private attach(sock: net.Socket): void {
    this.socket = sock;
    const decoder = new LineDecoder(
      (m) => this.onMessage(m as ServerMessage),
      () => sock.destroy(),
    );
    sock.on('data', (chunk) => decoder.push(chunk));
    sock.on('error', () => {});
    sock.on('close', () => this.onClose(sock));
  }

  private detach(sock: net.Socket): void {
    sock.removeAllListeners('close');
    sock.destroy();
    if (this.socket === sock) this.socket = null;
    this.rejectPending('the connection was closed');
  }

  private rejectPending(why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new LauncherError('ConnectionLost', `launcher request ${p.type} failed: ${why} (${this.sockPath}) before the launcher answered`));
    }
  }

  private onClose(sock: net.Socket): void {
    if (this.socket !== sock) return;
    this.socket = null;
    this.rejectPending('the connection to the launcher was lost');
    if (this.closed) return;
    this.emit('disconnect');
    // Reconnect in the background; the launcher may have been restarted.
    const retry = async (attempt: number): Promise<void> => {
      if (this.closed || this.socket) return;
      try {
        await this.ensureConnected();
        this.emit('reconnect', this.hello);
      } catch {
        if (!this.closed) setTimeout(() => void retry(attempt + 1), Math.min(5000, 100 * 2 ** attempt)).unref();
      }
    };
    setTimeout(() => void retry(0), 10).unref();
  }

  private onMessage(m: ServerMessage): void {
    if ('event' in m) {
      if (m.event === 'exit') this.emit('exit', m.exit);
      return;
    }
    const reply = m as Reply;
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new LauncherError(reply.error.code, `launcher: ${reply.error.message}`));
  }

  /** Sends a request on the current socket (no reconnection). */
  private send<T extends RequestType>(type: T, body: Omit<Extract<Request, { type: T }>, 'id' | 'type'>): Promise<ResultOf[T]> {
    const sock = this.socket;
    if (!sock) return Promise.reject(new LauncherError('ConnectionLost', `not connected to the launcher (${this.sockPath})`));
    const id = this.nextId++;
    return new Promise<ResultOf[T]>((resolve, reject) => {
      this.pending.set(id, { type, resolve: resolve as (v: unknown) => void, reject });
      sendMessage(sock, { ...body, id, type });
    });
  }

  /** Sends a request, reconnecting first when the connection is down. */
  async request<T extends Exclude<RequestType, 'hello'>>(
    type: T,
    body: Omit<Extract<Request, { type: T }>, 'id' | 'type'>,
  ): Promise<ResultOf[T]> {
    await this.ensureConnected();
    return this.send(type, body);
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  /** Disconnects; never stops the launcher or its attempts. */
  async close(): Promise<void> {
    this.closed = true;
    const sock = this.socket;
    this.socket = null;
    this.rejectPending('the client was closed');
    if (sock) {
      await new Promise<void>((resolve) => {
        sock.once('close', () => resolve());
        sock.end();
        setTimeout(() => {
          sock.destroy();
          resolve();
        }, 1000).unref();
      });
    }
  }
}

/**
 * Asks the launcher of `dir` to exit (with `force`, killing every attempt first). Resolves when
 * it is gone; does nothing when none runs.
 */
export async function shutdownLauncher(dir: string, options: { force?: boolean } = {}): Promise<void> {
  let client: LauncherClient;
  try {
    client = await LauncherClient.connect({ dir, spawn: false, clientName: 'shutdown' });
  } catch (e) {
    if (e instanceof LauncherError && e.code === 'NoLauncher') return;
    throw e;
  }
  const pid = client.hello.pid;
  try {
    await client.request('shutdown', { force: options.force ?? false });
  } finally {
    await client.close();
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(20);
  }
  throw new LauncherError('ShutdownTimeout', `the launcher (pid ${pid}) did not exit within 10 s`);
}
