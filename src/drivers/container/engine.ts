/**
 * The engine client: finds a Docker-compatible API (Podman's or Docker's), tells which engine
 * answers, and builds the dockerode client.
 *
 * Detection order (`detectContainerEngine`): `DOCKER_HOST` (`unix://…` only), `CONTAINER_HOST`
 * (`unix://…`), then the standard sockets `/var/run/docker.sock`, `/run/podman/podman.sock`,
 * `$XDG_RUNTIME_DIR/podman/podman.sock`. A socket counts when `GET /_ping` answers `OK`;
 * `GET /version` then tells Podman (a component named "Podman Engine") from Docker.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Docker from 'dockerode';

export type EngineKind = 'podman' | 'docker';

export interface EngineInfo {
  engine: EngineKind;
  /** e.g. `4.3.1` (Podman) or `20.10.24` (Docker). */
  version: string;
  /** API version the engine reports (Docker's `ApiVersion`, Podman's compat API version). */
  apiVersion: string;
}

/** A raw GET on a unix socket (no client library), with a timeout. */
export function socketGet(socketPath: string, urlPath: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${socketPath} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Which engine answers on `socketPath`, or `undefined` when nothing usable answers. */
export async function probeSocket(socketPath: string, timeoutMs = 2000): Promise<EngineInfo | undefined> {
  try {
    if (!fs.statSync(socketPath).isSocket()) return undefined;
    const ping = await socketGet(socketPath, '/_ping', timeoutMs);
    if (ping.status !== 200) return undefined;
    const v = await socketGet(socketPath, '/version', timeoutMs);
    if (v.status !== 200) return undefined;
    return parseVersion(JSON.parse(v.body) as VersionBody);
  } catch {
    return undefined;
  }
}

interface VersionBody {
  Version?: string;
  ApiVersion?: string;
  Components?: { Name?: string; Version?: string }[];
}

export function parseVersion(body: VersionBody): EngineInfo {
  const podman = (body.Components ?? []).find((c) => /podman/i.test(c.Name ?? ''));
  return {
    engine: podman ? 'podman' : 'docker',
    version: podman?.Version ?? body.Version ?? 'unknown',
    apiVersion: body.ApiVersion ?? 'unknown',
  };
}

function unixPathOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  if (url.startsWith('unix://')) return url.slice('unix://'.length);
  return undefined;
}

/** The socket candidates for `env`, in detection order, without duplicates. */
export function candidateSockets(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  const add = (p: string | undefined) => {
    if (p && !out.includes(p)) out.push(p);
  };
  add(unixPathOf(env.DOCKER_HOST));
  add(unixPathOf(env.CONTAINER_HOST));
  add('/var/run/docker.sock');
  add('/run/podman/podman.sock');
  if (env.XDG_RUNTIME_DIR) add(path.join(env.XDG_RUNTIME_DIR, 'podman', 'podman.sock'));
  return out;
}

/**
 * Finds a container engine: the first candidate socket (see the file comment) that answers
 * `/_ping`. `undefined` when none does.
 */
export async function detectContainerEngine(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ socketPath: string; engine: 'podman' | 'docker' } | undefined> {
  for (const socketPath of candidateSockets(env)) {
    const info = await probeSocket(socketPath);
    if (info) return { socketPath, engine: info.engine };
  }
  return undefined;
}

export interface EngineConnection {
  docker: Docker;
  info: EngineInfo;
  /** `unix://<path>` or the `host` option, for messages. */
  where: string;
  /** The socket path when local (bind mounts and cgroups are then on this host). */
  socketPath?: string;
}

/** Connects to the engine of `socketPath` or `host` (`tcp://h:p`, `http://h:p`), or a detected one. */
export async function connectEngine(options: { socketPath?: string; host?: string; engine?: EngineKind | 'auto' }): Promise<EngineConnection> {
  let docker: Docker;
  let where: string;
  let socketPath: string | undefined;
  if (options.host && !options.host.startsWith('unix://')) {
    const u = new URL(options.host.replace(/^tcp:/, 'http:'));
    docker = new Docker({ host: u.hostname, port: Number(u.port || 2375), protocol: u.protocol === 'https:' ? 'https' : 'http' });
    where = options.host;
  } else {
    socketPath = options.socketPath ?? unixPathOf(options.host);
    if (!socketPath) {
      const found = await detectContainerEngine();
      if (!found) {
        throw new Error(
          `no container engine found: tried ${candidateSockets(process.env).join(', ')} (set DOCKER_HOST=unix://… or start "podman system service")`,
        );
      }
      socketPath = found.socketPath;
    }
    docker = new Docker({ socketPath });
    where = `unix://${socketPath}`;
  }
  let body: VersionBody;
  try {
    body = (await docker.version()) as unknown as VersionBody;
  } catch (e) {
    throw new Error(`the container engine at ${where} does not answer: ${errorMessage(e)}`);
  }
  const info = parseVersion(body);
  if (options.engine && options.engine !== 'auto' && options.engine !== info.engine) {
    throw new Error(`the container engine at ${where} is ${info.engine} ${info.version}, not ${options.engine}`);
  }
  return { docker, info, where, ...(socketPath ? { socketPath } : {}) };
}

/** The engine's own message of a dockerode error (its JSON `message`), else the error text. */
export function errorMessage(e: unknown): string {
  const err = e as { json?: { message?: string } | null; message?: string; reason?: string };
  const fromJson = err?.json && typeof err.json === 'object' ? err.json.message : undefined;
  return (fromJson ?? err?.message ?? String(e)).trim();
}

/** HTTP status of a dockerode error, if any. */
export function statusOf(e: unknown): number | undefined {
  const s = (e as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}
