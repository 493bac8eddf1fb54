/**
 * The launcher: a small detached process that owns the host processes of one state directory,
 * so instances outlive the server and their exits are kept while it is down.
 *
 *     node <launcher main> --dir <dir> [--idle-exit-ms N] [--limit-mode auto|rss-watch]
 *                                      [--cgroup-root PATH] [--cgroup-parent NAME] [--watch-ms N]
 *                                      [--mount-mode auto|off]
 *
 * Environment equivalents: CEJOBS_LAUNCHER_IDLE_MS, CEJOBS_LAUNCHER_LIMIT_MODE,
 * CEJOBS_CGROUP_ROOT, CEJOBS_CGROUP_PARENT, CEJOBS_LAUNCHER_WATCH_MS,
 * CEJOBS_LAUNCHER_MOUNT_MODE (flags win).
 *
 * Files in `<dir>`: `launcher.sock` (the protocol of `protocol.ts`), `launcher.pid`,
 * `launcher.log` (its own diagnostics), `journal` (the attempts it holds, see `records.ts`).
 *
 * It exits by itself when it holds no attempt (running or unreleased exit) and no client has
 * been connected for the idle time (default 60 s).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { detectLimits } from './cgroups.js';
import { nodeStarter, processStarter } from './child.js';
import { detectMounts } from './mounts.js';
import {
  encodeMessage,
  sendMessage,
  LineDecoder,
  LOG_FILE,
  PID_FILE,
  PROTOCOL_VERSION,
  SOCKET_FILE,
  type HelloResult,
  type Request,
} from './protocol.js';
import { Supervisor, SupervisorError } from './supervisor.js';

interface Args {
  dir: string;
  idleExitMs: number;
  limitMode: 'auto' | 'rss-watch';
  cgroupRoot?: string;
  cgroupParent?: string;
  watchMs?: number;
  mountMode: 'auto' | 'off';
  spawnMode: 'auto' | 'node';
  /** `off`: the native starter's pipes are read by Node instead of the native log pump. */
  logPump: 'auto' | 'off';
}

function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else flags.set(a.slice(2), argv[++i] ?? '');
  }
  const env = process.env;
  const dir = flags.get('dir');
  if (!dir) throw new Error(
      'usage: launcher --dir <dir> [--idle-exit-ms N] [--limit-mode auto|rss-watch] [--cgroup-root PATH] [--cgroup-parent NAME] [--watch-ms N] [--mount-mode auto|off] [--spawn-mode auto|node] [--log-pump auto|off]',
    );
  const idle = Number(flags.get('idle-exit-ms') ?? env.CEJOBS_LAUNCHER_IDLE_MS ?? 60_000);
  const mode = flags.get('limit-mode') ?? env.CEJOBS_LAUNCHER_LIMIT_MODE ?? 'auto';
  if (mode !== 'auto' && mode !== 'rss-watch') throw new Error(`--limit-mode must be auto or rss-watch, got ${mode}`);
  const watch = flags.get('watch-ms') ?? env.CEJOBS_LAUNCHER_WATCH_MS;
  const mountMode = flags.get('mount-mode') ?? env.CEJOBS_LAUNCHER_MOUNT_MODE ?? 'auto';
  if (mountMode !== 'auto' && mountMode !== 'off') throw new Error(`--mount-mode must be auto or off, got ${mountMode}`);
  const spawnMode = flags.get('spawn-mode') ?? (env.CEJOBS_NATIVE_SPAWN === 'off' ? 'node' : 'auto');
  if (spawnMode !== 'auto' && spawnMode !== 'node') throw new Error(`--spawn-mode must be auto or node, got ${spawnMode}`);
  const logPump = flags.get('log-pump') ?? (env.CEJOBS_LOG_PUMP === 'off' ? 'off' : 'auto');
  if (logPump !== 'auto' && logPump !== 'off') throw new Error(`--log-pump must be auto or off, got ${logPump}`);
  const args: Args = {
    dir: path.resolve(dir),
    logPump,
    idleExitMs: Number.isFinite(idle) && idle >= 0 ? idle : 60_000,
    limitMode: mode,
    mountMode,
    spawnMode,
  };
  const root = flags.get('cgroup-root') ?? env.CEJOBS_CGROUP_ROOT;
  const parent = flags.get('cgroup-parent') ?? env.CEJOBS_CGROUP_PARENT;
  if (root) args.cgroupRoot = root;
  if (parent) args.cgroupParent = parent;
  if (watch && Number(watch) > 0) args.watchMs = Number(watch);
  return args;
}

/** True when a launcher answers `hello` on the socket. */
function someoneAnswers(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(sock);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), 2000);
    s.once('error', () => {
      clearTimeout(timer);
      done(false);
    });
    s.once('connect', () => s.write(encodeMessage({ id: 1, type: 'hello', version: PROTOCOL_VERSION, client: 'probe' })));
    s.once('data', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.dir, { recursive: true });
  const logFd = fs.openSync(path.join(args.dir, LOG_FILE), 'a');
  const log = (line: string) => {
    try {
      fs.writeSync(logFd, `${new Date().toISOString()} [${process.pid}] ${line}\n`);
    } catch {
      // nowhere to log
    }
  };
  const sockPath = path.join(args.dir, SOCKET_FILE);
  const pidPath = path.join(args.dir, PID_FILE);

  // Bind on a private path, then link it to the well-known name: link() fails when the name
  // exists, so two launchers can never both own the socket.
  const tmpSock = path.join(args.dir, `launcher.${process.pid}.sock`);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    try {
      fs.rmSync(tmpSock, { force: true });
    } catch {
      // not there
    }
    server.listen(tmpSock, () => resolve());
  });
  const cleanupTmp = () => {
    try {
      fs.unlinkSync(tmpSock);
    } catch {
      // gone
    }
  };
  for (let attempt = 0; ; attempt++) {
    try {
      fs.linkSync(tmpSock, sockPath);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) {
        log(`cannot take ${sockPath}: ${(e as Error).message}`);
        server.close();
        cleanupTmp();
        process.exit(1);
      }
      if (await someoneAnswers(sockPath)) {
        log('another launcher already answers on this directory; exiting');
        server.close();
        cleanupTmp();
        process.exit(0);
      }
      log('removing a stale socket file');
      try {
        fs.unlinkSync(sockPath);
      } catch {
        // someone else removed it
      }
    }
  }
  cleanupTmp(); // the listening socket stays reachable through launcher.sock
  const myIno = fs.statSync(sockPath).ino;
  fs.writeFileSync(pidPath, `${process.pid}\n`);

  const limits = detectLimits({
    requested: args.limitMode,
    ...(args.cgroupRoot ? { root: args.cgroupRoot } : {}),
    ...(args.cgroupParent ? { parent: args.cgroupParent } : {}),
    log,
  });
  const mounts = detectMounts({ requested: args.mountMode, probeDir: args.dir, log });
  const supervisor = new Supervisor({
    dir: args.dir, limits, mounts, log, ...(args.watchMs ? { watchIntervalMs: args.watchMs } : {}),
    starter: args.spawnMode === 'node' ? nodeStarter('--spawn-mode node') : processStarter({ logPump: args.logPump === 'auto' }),
  });
  supervisor.recoverFromDisk();
  log(`launcher started (protocol ${PROTOCOL_VERSION}, limits ${limits.mode}${limits.reason ? `: ${limits.reason}` : ''}, mounts ${mounts.support.how}, spawn ${supervisor.capabilities().spawn?.how}, idle exit ${args.idleExitMs} ms, ${supervisor.runningCount()} adopted, ${supervisor.unreleasedCount()} exits held)`);

  const clients = new Set<net.Socket>();
  const greeted = new WeakSet<net.Socket>();
  let lastActivity = Date.now();
  let exiting = false;

  const send = sendMessage;

  supervisor.on('exit', (exit) => {
    for (const c of clients) if (greeted.has(c)) send(c, { event: 'exit', exit });
  });

  const shutdown = async (reason: string, code = 0) => {
    if (exiting) return;
    exiting = true;
    log(`exiting: ${reason}`);
    supervisor.close();
    await supervisor.cleanupCgroups();
    for (const c of clients) c.end();
    server.close();
    try {
      if (fs.statSync(sockPath).ino === myIno) fs.unlinkSync(sockPath);
    } catch {
      // gone
    }
    try {
      if (fs.readFileSync(pidPath, 'utf8').trim() === String(process.pid)) fs.unlinkSync(pidPath);
    } catch {
      // gone
    }
    setTimeout(() => process.exit(code), 50).unref();
  };

  const handle = async (sock: net.Socket, req: Request): Promise<unknown> => {
    if (req.type !== 'hello' && !greeted.has(sock)) {
      throw new SupervisorError('NoHello', 'the first request must be hello');
    }
    switch (req.type) {
      case 'hello': {
        const result: HelloResult = {
          version: PROTOCOL_VERSION,
          pid: process.pid,
          capabilities: supervisor.capabilities(),
          running: supervisor.runningCount(),
          unreleased: supervisor.unreleasedCount(),
        };
        if (req.client !== 'probe') log(`client connected: ${req.client ?? 'unnamed'} (protocol ${req.version})`);
        return result;
      }
      case 'start':
        return supervisor.start(req.spec);
      case 'stop':
        return supervisor.stop(req.attemptId, req.graceMs);
      case 'status':
        return supervisor.status(req.attemptId);
      case 'release':
        return { released: await supervisor.release(req.attemptId) };
      case 'list':
        return supervisor.list();
      case 'shutdown': {
        if (supervisor.runningCount() > 0 && !req.force) {
          throw new SupervisorError('Busy', `${supervisor.runningCount()} attempts are running; stop them or use force`);
        }
        const killed = req.force ? await supervisor.killAll() : 0;
        setImmediate(() => void shutdown(`shutdown requested${req.force ? ' (force)' : ''}`));
        return { killed };
      }
      default:
        throw new SupervisorError('BadRequest', `unknown request type ${JSON.stringify((req as { type?: unknown }).type)}`);
    }
  };

  server.on('connection', (sock) => {
    clients.add(sock);
    lastActivity = Date.now();
    const decoder = new LineDecoder(
      (msg) => {
        const req = msg as Request;
        const id = typeof req?.id === 'number' ? req.id : 0;
        handle(sock, req).then(
          (result) => {
            send(sock, { id, ok: true, result });
            if (req.type === 'hello' && !greeted.has(sock)) {
              greeted.add(sock);
              for (const exit of supervisor.heldExits()) send(sock, { event: 'exit', exit });
            }
          },
          (e: unknown) => {
            const code = e instanceof SupervisorError ? e.code : 'Internal';
            if (!(e instanceof SupervisorError)) log(`request ${req?.type} failed: ${(e as Error)?.stack ?? String(e)}`);
            send(sock, { id, ok: false, error: { code, message: (e as Error)?.message ?? String(e) } });
          },
        );
      },
      (err) => {
        log(`dropping a client: ${err.message}`);
        sock.destroy();
      },
    );
    sock.on('data', (chunk) => decoder.push(chunk));
    sock.on('error', () => {});
    sock.on('close', () => {
      clients.delete(sock);
      lastActivity = Date.now();
    });
  });

  // Idle exit, and giving up the directory if another launcher took the socket name.
  const idleTimer = setInterval(() => {
    const busy = supervisor.runningCount() + supervisor.unreleasedCount() > 0;
    if (!busy) {
      let mine = true;
      try {
        mine = fs.statSync(sockPath).ino === myIno;
      } catch {
        mine = false;
      }
      if (!mine) return void shutdown('the socket now belongs to another launcher');
    }
    if (busy || clients.size > 0) {
      lastActivity = Date.now();
      return;
    }
    if (Date.now() - lastActivity >= args.idleExitMs) void shutdown(`idle for ${args.idleExitMs} ms`);
  }, Math.max(50, Math.min(1000, Math.floor(args.idleExitMs / 4))));
  idleTimer.unref();

  process.on('SIGTERM', () => {
    if (supervisor.runningCount() === 0) void shutdown('SIGTERM');
    else log(`SIGTERM ignored: ${supervisor.runningCount()} attempts are running (use shutdown with force)`);
  });
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {});
  process.on('SIGPIPE', () => {});
  process.on('uncaughtException', (e) => log(`uncaught: ${e.stack ?? String(e)}`));
  process.on('unhandledRejection', (e) => log(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
}

main().catch((e: unknown) => {
  process.stderr.write(`cejobs launcher: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
