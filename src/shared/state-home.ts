/**
 * Where a state home keeps what clients need to find its server: shared by the server (which
 * writes these files) and the CLI (which reads them), so neither imports the other.
 *
 *     <home>/token        the bearer token (mode 0600), created at the server's first start
 *     <home>/server.json  the running server: {url, pid, version, driver, started_at, home}
 *     <home>/server.log   the background server's output
 */
import os from 'node:os';
import path from 'node:path';

/** `CEJOBS_HOME`, or `~/.cejobs`. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CEJOBS_HOME && env.CEJOBS_HOME.trim() !== '' ? path.resolve(env.CEJOBS_HOME) : path.join(os.homedir(), '.cejobs');
}

export const tokenFile = (home: string): string => path.join(home, 'token');
export const serverFile = (home: string): string => path.join(home, 'server.json');
export const serverLogFile = (home: string): string => path.join(home, 'server.log');

/** What `server.json` holds about the running server. */
export interface ServerRecord {
  url: string;
  pid: number;
  version: string;
  driver: string;
  started_at: string;
  home: string;
  /** With TLS: the certificate file the server was started with (clients trust it as a CA when it is self-signed). */
  tls_cert?: string;
}
