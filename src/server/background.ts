/**
 * A server in the background: `ce server start` spawns `ce server` detached (its output to
 * `<home>/server.log`) and returns once it answers; `ce server stop` asks it to shut down
 * (SIGTERM: graceful, instances keep running) and waits; `status` says what runs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { serverFile, serverLogFile, tokenFile, type ServerRecord } from '../shared/state-home.js';
import { fetchTrusting } from '../shared/tls-fetch.js';
import { processAlive } from './lock.js';

/** The fetch for a recorded server: one that trusts its certificate when it serves HTTPS with a recorded one. */
export function fetchFor(record: Pick<ServerRecord, 'url' | 'tls_cert'>, env: NodeJS.ProcessEnv = process.env): typeof fetch {
  if (!record.url.startsWith('https:')) return fetch;
  const caFile = env.CEJOBS_CA_FILE?.trim() || record.tls_cert;
  if (!caFile) return fetch;
  try {
    return fetchTrusting(fs.readFileSync(caFile));
  } catch {
    return fetch;
  }
}

export type ServerState =
  | { state: 'running'; record: ServerRecord; info?: unknown }
  | { state: 'stopped'; reason: string };

export function readServerRecord(home: string): ServerRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(serverFile(home), 'utf8')) as ServerRecord;
  } catch {
    return undefined;
  }
}

/** Asks the recorded server for `/v2/server`; `undefined` when it does not answer. */
async function probe(record: ServerRecord, home: string, timeoutMs = 2000): Promise<unknown> {
  let token = '';
  try {
    token = fs.readFileSync(tokenFile(home), 'utf8').trim();
  } catch {
    return undefined;
  }
  try {
    const res = await fetchFor(record)(`${record.url}/v2/server`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.ok ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}

/** What runs on `home`: a server that answers, or why there is none. */
export async function serverStatus(home: string): Promise<ServerState> {
  const record = readServerRecord(home);
  if (!record) return { state: 'stopped', reason: `no server runs on ${home}` };
  if (!processAlive(record.pid)) return { state: 'stopped', reason: `the server recorded in ${serverFile(home)} (pid ${record.pid}) is gone` };
  const info = await probe(record, home);
  if (info === undefined) return { state: 'stopped', reason: `the server (pid ${record.pid}) does not answer at ${record.url}` };
  return { state: 'running', record, info };
}

export interface BackgroundOptions {
  home: string;
  /** argv that runs `ce server` in the foreground, e.g. [process.execPath, cliMain, 'server']. */
  command: string[];
  /** Extra flags for it (`--host`, `--port`, `--driver`, `--tls-cert`, `--tls-key`). */
  args?: string[];
  /** @default 20000 */
  timeoutMs?: number;
}

/** Starts a background server unless one already answers; resolves with its record. */
export async function startBackground(options: BackgroundOptions): Promise<{ record: ServerRecord; started: boolean }> {
  const { home } = options;
  const current = await serverStatus(home);
  if (current.state === 'running') return { record: current.record, started: false };
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const log = fs.openSync(serverLogFile(home), 'a', 0o600);
  const [cmd, ...cmdArgs] = options.command;
  const child = spawn(cmd!, [...cmdArgs, ...(options.args ?? [])], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, CEJOBS_HOME: home },
  });
  child.unref();
  fs.closeSync(log);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (exited !== null) break;
    const record = readServerRecord(home);
    if (record && record.pid === child.pid && (await probe(record, home, 1000)) !== undefined) {
      return { record, started: true };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = logTail(home);
  if (exited === null) child.kill('SIGTERM');
  throw new Error(
    `the cejobs server did not start${exited !== null ? ` (it exited with code ${exited})` : ' in time'}; ` +
      `its log ${serverLogFile(home)} ends with:\n${tail}`,
  );
}

/** Stops the background server of `home` (graceful); resolves with its pid, or undefined if none ran. */
export async function stopBackground(home: string, timeoutMs = 20_000): Promise<number | undefined> {
  const record = readServerRecord(home);
  if (!record || !processAlive(record.pid)) {
    fs.rmSync(serverFile(home), { force: true });
    return undefined;
  }
  process.kill(record.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (processAlive(record.pid)) {
    if (Date.now() > deadline) {
      throw new Error(`the server (pid ${record.pid}) did not stop within ${timeoutMs / 1000}s; see ${serverLogFile(home)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  fs.rmSync(serverFile(home), { force: true });
  return record.pid;
}

function logTail(home: string, lines = 20): string {
  try {
    return fs.readFileSync(serverLogFile(home), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
