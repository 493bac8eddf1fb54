/**
 * The launcher's wire protocol: newline-delimited JSON over the Unix socket
 * `<launcher dir>/launcher.sock`. One JSON object per line, UTF-8, in both directions.
 *
 * - A client sends **requests** `{ id, type, ... }`; `id` is a client-chosen integer.
 * - The launcher answers each request with exactly one **reply** `{ id, ok: true, result }` or
 *   `{ id, ok: false, error: { code, message } }`, echoing the request's `id`. Replies may come
 *   out of order.
 * - The launcher also pushes **events** `{ event, ... }` (no `id`) to every client that has
 *   completed `hello`. Today the only event is `exit`.
 *
 * The first request of a connection must be `hello`; the launcher refuses other requests before
 * it (error code `NoHello`). Right after replying to `hello` the launcher pushes an `exit` event
 * for every exit it still holds (not yet released), so a reconnecting client sees exits that
 * happened while it was away (at-least-once delivery).
 *
 * Bump `PROTOCOL_VERSION` on any incompatible change; a client meeting a launcher of another
 * version asks it to shut down when it runs nothing (and fails clearly otherwise).
 */
import type { AttemptExit, InstanceSpec, LimitSupport } from '../drivers/driver.js';
import type { Socket } from 'node:net';

export const PROTOCOL_VERSION = 1;

/** File names inside the launcher directory. */
export const SOCKET_FILE = 'launcher.sock';
export const PID_FILE = 'launcher.pid';
export const LOG_FILE = 'launcher.log';

/** How the launcher enforces limits on this host. */
export type LimitMode = 'cgroup-v1' | 'cgroup-v2' | 'rss-watch';

export interface LauncherCapabilities {
  /** The mode actually in use. */
  mode: LimitMode;
  limits: { cpu: LimitSupport; memory: LimitSupport; ephemeralStorage: LimitSupport };
  /** True when the launcher runs as root (so `runAsUser` ≠ 0 can be honoured). */
  canSwitchUser: boolean;
  /**
   * Whether `spec.mounts` can be honoured: `{ enforced: true, how: 'mount-namespace' }` or
   * `{ enforced: false, how: 'not available: <reason>' }`. Absent from launchers that predate
   * mounts (the client then reports mounts as not available).
   */
  mounts?: LimitSupport;
  /**
   * How main processes are started: `native` (vfork + exec by native/spawn.c, cgroups joined
   * before exec) or `node` (child_process.spawn with a shell wrapper joining the cgroups).
   * Absent from launchers that predate it.
   */
  spawn?: { kind: 'native' | 'node'; how: string };
  /**
   * True when `spec.cwd` is honoured (the working directory of a source build's snapshot).
   * Absent from launchers that predate it: the client then wraps the command in a `cd`.
   */
  cwd?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/** Version handshake; must be the first request of a connection. */
export interface HelloRequest {
  id: number;
  type: 'hello';
  /** The client's `PROTOCOL_VERSION`. */
  version: number;
  /** Free text for the launcher's log (e.g. `process-driver pid 1234`). */
  client?: string;
}
export interface HelloResult {
  /** The launcher's `PROTOCOL_VERSION`; the client compares it with its own. */
  version: number;
  pid: number;
  capabilities: LauncherCapabilities;
  /** Attempts the launcher holds: running ones and exits not yet released. */
  running: number;
  unreleased: number;
}

/**
 * Starts one attempt. Idempotent per `spec.attemptId`: a known id returns its current state and
 * never starts a second copy. Workload failures (missing executable, …) are not errors: the
 * attempt is reported `exited` with a `start-failed` outcome, and an `exit` event follows.
 */
export interface StartRequest {
  id: number;
  type: 'start';
  spec: InstanceSpec;
}
export interface StartResult {
  attemptId: string;
  /** `false` when the id was already known and nothing was started. */
  created: boolean;
  state: AttemptState;
  /** 0 when the workload never ran. */
  pid: number;
  pgid: number;
  /** Epoch ms when the workload was spawned (or the start failed). */
  startedAt: number;
  launcherPid: number;
}

/**
 * SIGTERM to everything the attempt runs (its process group and every member of its cgroups),
 * then SIGKILL after `graceMs`. Resolves at once; the exit arrives as an `exit` event. Stopping
 * an unknown or already-ended attempt succeeds with `found: false` / the exited state.
 */
export interface StopRequest {
  id: number;
  type: 'stop';
  attemptId: string;
  graceMs: number;
}
export interface StopResult {
  found: boolean;
  state?: AttemptState;
}

/** The state of one attempt. */
export interface StatusRequest {
  id: number;
  type: 'status';
  attemptId: string;
}
export type AttemptState =
  | { state: 'running' }
  | { state: 'exited'; exit: AttemptExit }
  /** The launcher knows nothing of this id (never started, or released). */
  | { state: 'unknown' };
export type StatusResult = AttemptState;

/**
 * The client has durably recorded the exit: forget the attempt (memory, exit record file,
 * cgroup directories, scratch directory). Releasing a running attempt is refused
 * (`code: 'Running'`); releasing an unknown one succeeds.
 */
export interface ReleaseRequest {
  id: number;
  type: 'release';
  attemptId: string;
}
export interface ReleaseResult {
  released: boolean;
}

/** Every attempt the launcher holds. */
export interface ListRequest {
  id: number;
  type: 'list';
}
export interface ListResult {
  attempts: Array<{ attemptId: string; pid: number; pgid: number; startedAt: number } & AttemptState>;
}

/**
 * Asks the launcher to exit. Refused (`code: 'Busy'`) while an attempt runs, unless `force`,
 * which SIGKILLs every attempt first (used by tests and uninstall). Unreleased exits stay on
 * disk as exit records either way.
 */
export interface ShutdownRequest {
  id: number;
  type: 'shutdown';
  force?: boolean;
}
export interface ShutdownResult {
  killed: number;
}

export type Request =
  | HelloRequest
  | StartRequest
  | StopRequest
  | StatusRequest
  | ReleaseRequest
  | ListRequest
  | ShutdownRequest;

export type RequestType = Request['type'];

/** The result type of each request type. */
export interface ResultOf {
  hello: HelloResult;
  start: StartResult;
  stop: StopResult;
  status: StatusResult;
  release: ReleaseResult;
  list: ListResult;
  shutdown: ShutdownResult;
}

// ---------------------------------------------------------------------------------------------
// Replies and events
// ---------------------------------------------------------------------------------------------

export interface ReplyOk {
  id: number;
  ok: true;
  result: unknown;
}
export interface ReplyError {
  id: number;
  ok: false;
  error: { code: string; message: string };
}
export type Reply = ReplyOk | ReplyError;

/** Pushed when an attempt ends, and again to every newly connected client until released. */
export interface ExitEvent {
  event: 'exit';
  exit: AttemptExit;
}
export type LauncherEvent = ExitEvent;

export type ServerMessage = Reply | LauncherEvent;

// ---------------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------------

/** Encodes one message as a line. */
export function encodeMessage(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * Writes a message on a socket. The messages written during one turn of the event loop leave
 * together (corked until `setImmediate`): a fan-out of hundreds of instances then costs a few
 * system calls per turn instead of one per start, exit and release.
 */
export function sendMessage(sock: Socket, message: unknown): void {
  if (sock.destroyed) return;
  if (sock.writableCorked === 0) {
    sock.cork();
    setImmediate(() => sock.uncork());
  }
  sock.write(encodeMessage(message));
}

/** Longest line accepted (a start request with a big env is still far below). */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * Splits a byte stream into JSON messages. Calls `onMessage` for each complete line and
 * `onError` for a malformed or oversized one (the caller usually drops the connection).
 */
export class LineDecoder {
  private buffer = '';
  constructor(
    private readonly onMessage: (message: unknown) => void,
    private readonly onError: (error: Error) => void,
  ) {}

  push(chunk: Buffer | string): void {
    this.buffer += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        // Not the parser's message: it quotes the input, which may hold secret contents.
        this.onError(new Error(`malformed message: a line of ${Buffer.byteLength(line)} bytes is not valid JSON`));
        continue;
      }
      this.onMessage(parsed);
    }
    if (this.buffer.length > MAX_MESSAGE_BYTES) {
      this.buffer = '';
      this.onError(new Error(`message longer than ${MAX_MESSAGE_BYTES} bytes`));
    }
  }
}
