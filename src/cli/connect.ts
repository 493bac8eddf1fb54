/**
 * Connecting the CLI to a server: `resolveConnection` (CEJOBS_API/CEJOBS_TOKEN, else the state
 * home's server.json and token), a probe of `GET /v2/server`, and — when no server answers and
 * the address did not come from CEJOBS_API — starting a local one in the background with
 * `ce server start` (a child process running this CLI's entry), then connecting again.
 * `CEJOBS_NO_AUTOSTART=1` turns the auto-start off.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CejobsClient } from '../client/client.js';
import { ApiError } from '../client/errors.js';
import { resolveConnection } from '../client/discovery.js';
import { fetchTrusting } from '../shared/tls-fetch.js';
import { CliFailure } from './errors.js';

export interface ConnectOptions {
  home: string;
  env: Record<string, string | undefined>;
  /** Starts a background server for `home` and resolves once it answers (default: spawn `ce server start`). */
  startServer?: (home: string, env: Record<string, string | undefined>) => Promise<void>;
  /** Told before a server is started (e.g. to print a notice on stderr). */
  onAutoStart?: () => void;
  /** fetch for the client (tests). */
  fetch?: typeof fetch;
}

/** This CLI's entry file (main.ts under tsx, main.js from dist). */
export function cliEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), `main${path.extname(here)}`);
}

/** Runs `ce server start` for `home` in a child process; rejects with its output if it fails. */
export async function spawnServerStart(home: string, env: Record<string, string | undefined>): Promise<void> {
  const entry = cliEntry();
  const execArgv = entry.endsWith('.ts') ? process.execArgv : [];
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  childEnv.CEJOBS_HOME = home;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, entry, 'server', 'start'], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new CliFailure(`'ce server start' did not finish within 60 seconds.\n${output.trim()}`));
    }, 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CliFailure(`could not run 'ce server start': ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new CliFailure(`could not start a local cejobs server ('ce server start' exited with ${code}).\n${output.trim()}`));
    });
  });
}

/**
 * For an https:// server: a fetch that also trusts `CEJOBS_CA_FILE` (PEM), else the certificate
 * the local server recorded in server.json (a self-signed one is its own CA). Undefined = the
 * global fetch (system roots, and NODE_EXTRA_CA_CERTS when it was set at process start).
 */
function trustingFetch(baseUrl: string, env: Record<string, string | undefined>, tlsCert?: string): typeof fetch | undefined {
  if (!baseUrl.startsWith('https:')) return undefined;
  const caFile = env.CEJOBS_CA_FILE?.trim() || tlsCert;
  if (!caFile) return undefined;
  try {
    return fetchTrusting(fs.readFileSync(caFile));
  } catch (e) {
    throw new CliFailure(`cannot read the CA certificate ${caFile}${env.CEJOBS_CA_FILE?.trim() ? ' (CEJOBS_CA_FILE)' : ' (server.json tls_cert)'}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** True when the server answers `GET /v2/server` within 3 s; throws for a rejected token. */
async function answers(client: CejobsClient): Promise<boolean> {
  try {
    await client.serverInfo({ signal: AbortSignal.timeout(3000) });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status !== 0) {
      if (e.status === 401) {
        throw new CliFailure(
          `the cejobs server at ${client.baseUrl} refused the token. Use the token of that server ('ce server token', or CEJOBS_TOKEN).`,
        );
      }
      return true; // it answered; let the command see the error
    }
    return false;
  }
}

/** A client connected to a server that answers, starting a local one when allowed and needed. */
export async function connect(options: ConnectOptions): Promise<CejobsClient> {
  const { home, env } = options;
  const make = (baseUrl: string, token: string, tlsCert?: string): CejobsClient => {
    const f = options.fetch ?? trustingFetch(baseUrl, env, tlsCert);
    return new CejobsClient(f ? { baseUrl, token, fetch: f } : { baseUrl, token });
  };

  const first = await resolveConnection({ home, env });
  if (first.ok) {
    const client = make(first.baseUrl, first.token, first.server?.tls_cert);
    if (await answers(client)) return client;
  }
  if (env.CEJOBS_API?.trim()) {
    if (!first.ok) throw new CliFailure(first.message);
    throw new CliFailure(`the cejobs server at ${first.baseUrl} (CEJOBS_API) does not answer.`);
  }
  const noAuto = env.CEJOBS_NO_AUTOSTART;
  if (noAuto && noAuto !== '0' && noAuto.toLowerCase() !== 'false') {
    throw new CliFailure(
      first.ok
        ? `the cejobs server at ${first.baseUrl} does not answer. Start one with 'ce server'.`
        : `${first.message}. Start a server with 'ce server'.`,
    );
  }
  options.onAutoStart?.();
  await (options.startServer ?? spawnServerStart)(home, env);
  const second = await resolveConnection({ home, env });
  if (!second.ok) throw new CliFailure(`a local server was started but ${second.message}.`);
  const client = make(second.baseUrl, second.token, second.ok ? second.server?.tls_cert : undefined);
  if (await answers(client)) return client;
  throw new CliFailure(`a local server was started but does not answer at ${second.baseUrl}. See ${path.join(home, 'server.log')}.`);
}
