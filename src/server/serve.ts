/**
 * The cejobs server: one process per state home that owns the engine and serves the REST API.
 * `startServer` composes everything (lock, token, engine with its driver, API app), listens,
 * records itself in `<home>/server.json` and returns a handle whose `close()` shuts down
 * gracefully: connections are closed, the engine detaches, and running instances keep running
 * for the next start to re-adopt.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildApp } from '../api/app.js';
import { chooseDriver, type DriverName } from '../drivers/registry.js';
import type { Engine } from '../engine/engine.js';
import type { EngineSettingsInput } from '../engine/settings.js';
import { serverFile, type ServerRecord } from '../shared/state-home.js';
import { VERSION } from '../shared/version.js';
import { openLocalEngine, type LocalEngineOptions } from './local.js';
import { lockHome } from './lock.js';
import { ensureSecretKey } from './secret-key.js';
import { ensureToken } from './token.js';

export interface ServerOptions {
  home: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks any free port. @default 0 */
  port?: number;
  /** `auto` picks `container` when a Docker/Podman socket answers, else `process` (see `chooseDriver`). @default 'auto' */
  driver?: DriverName | 'auto';
  settings?: EngineSettingsInput;
  process?: LocalEngineOptions['process'];
  container?: LocalEngineOptions['container'];
  kubernetes?: LocalEngineOptions['kubernetes'];
  /** Where the server's own messages go. @default console.error */
  log?: (line: string) => void;
  /**
   * Serve HTTPS: the certificate and key (PEM contents). `certFile`, when given, is recorded in
   * `server.json` (`tls_cert`) so local clients can trust a self-signed certificate.
   */
  tls?: { cert: string | Buffer; key: string | Buffer; certFile?: string };
}

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

export interface RunningServer {
  url: string;
  token: string;
  home: string;
  engine: Engine;
  close(): Promise<void>;
}

const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host);

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const home = path.resolve(options.home);
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string) => console.error(line));
  if (!isLoopback(host) && !options.tls) {
    log(
      `warning: listening on ${host} without TLS: other machines can reach the API, and the bearer token, ` +
        `secrets and logs travel in clear text; use --tls-cert/--tls-key, or bind to 127.0.0.1 (see docs/security.md)`,
    );
  }
  const release = lockHome(home);
  const homeMode = fs.statSync(home).mode & 0o777;
  if ((homeMode & 0o077) !== 0) {
    log(
      `warning: the state home ${home} is open to other users (mode ${homeMode.toString(8)}): they can read instance logs ` +
        `and the database (config maps; secrets stay encrypted); run 'chmod 700 ${home}' (see docs/security.md)`,
    );
  }
  let engine: Engine | undefined;
  try {
    const token = ensureToken(home);
    const secretKey = ensureSecretKey(home, process.env);
    engine = await openLocalEngine({
      home,
      secretKey,
      driver: options.driver === undefined || options.driver === 'auto' ? (await chooseDriver(process.env)).name : options.driver,
      settings: options.settings,
      process: options.process,
      container: options.container,
      kubernetes: options.kubernetes,
      warn: (message, error) => log(`warning: ${message}${error instanceof Error ? `: ${error.message}` : ''}`),
    });
    const startedAt = new Date().toISOString();
    let url = '';
    const opened = engine;
    const app = await buildApp({
      ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
      engine: opened,
      token,
      server: () => ({
        version: VERSION,
        driver: opened.driver.name,
        capabilities: opened.driver.capabilities,
        pid: process.pid,
        state_home: home,
        started_at: startedAt,
        url,
      }),
    });
    await app.listen({ host, port: options.port ?? 0 });
    url = `${options.tls ? 'https' : 'http'}://${urlHost(host)}:${(app.server.address() as AddressInfo).port}`;
    opened.setApiBaseUrl(url);
    const record: ServerRecord = { url, pid: process.pid, version: VERSION, driver: opened.driver.name, started_at: startedAt, home };
    if (options.tls?.certFile) record.tls_cert = path.resolve(options.tls.certFile);
    const tmp = `${serverFile(home)}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, serverFile(home));
    let closing: Promise<void> | undefined;
    return {
      url,
      token,
      home,
      engine: opened,
      close: () =>
        (closing ??= (async () => {
          const done = app.close();
          app.server.closeAllConnections(); // change streams and log follows would hold it open
          await done;
          await opened.close();
          try {
            const current = JSON.parse(fs.readFileSync(serverFile(home), 'utf8')) as ServerRecord;
            if (current.pid === process.pid) fs.rmSync(serverFile(home), { force: true });
          } catch {
            // no record left to remove
          }
          release();
        })()),
    };
  } catch (e) {
    await engine?.close().catch(() => {});
    release();
    throw e;
  }
}
