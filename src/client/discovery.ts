/**
 * Finding the server (Node only): `CEJOBS_API` + `CEJOBS_TOKEN` when set, else the running
 * server's `<home>/server.json` (`url`) and `<home>/token` (src/shared/state-home.ts). Each of
 * the two values is taken from the environment when set there, else from the state home, so
 * `CEJOBS_API` alone works with the home's token. Nothing is contacted here.
 */
import fs from 'node:fs/promises';
import { serverFile, tokenFile, type ServerRecord } from '../shared/state-home.js';

/** Where a connection came from, for messages. */
export type UrlSource = 'CEJOBS_API' | 'server.json';
export type TokenSource = 'CEJOBS_TOKEN' | 'token file';

export type ConnectionResult =
  | {
      ok: true;
      baseUrl: string;
      token: string;
      urlFrom: UrlSource;
      tokenFrom: TokenSource;
      /** The content of server.json, when the url came from it. */
      server?: Partial<ServerRecord>;
    }
  | {
      ok: false;
      /** What is missing, e.g. `["<home>/server.json (no server has recorded its address)"]`. */
      missing: string[];
      /** One sentence for users. */
      message: string;
      /** Whatever was found. */
      baseUrl?: string;
      urlFrom?: UrlSource;
      token?: string;
    };

export interface ResolveConnectionOptions {
  /** The state home (`defaultHome(env)` in the CLI). */
  home: string;
  env: Record<string, string | undefined>;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Resolves the server's url and token; never throws for missing or malformed files. */
export async function resolveConnection(options: ResolveConnectionOptions): Promise<ConnectionResult> {
  const { home, env } = options;
  const missing: string[] = [];
  let baseUrl: string | undefined;
  let urlFrom: UrlSource | undefined;
  let server: Partial<ServerRecord> | undefined;
  const envUrl = env.CEJOBS_API?.trim();
  if (envUrl) {
    baseUrl = envUrl;
    urlFrom = 'CEJOBS_API';
  } else {
    const file = serverFile(home);
    const text = await readText(file);
    if (text === undefined) missing.push(`${file} (no server has recorded its address)`);
    else {
      try {
        const record = JSON.parse(text) as Partial<ServerRecord>;
        if (typeof record.url === 'string' && record.url !== '') {
          baseUrl = record.url;
          urlFrom = 'server.json';
          server = record;
        } else missing.push(`the url in ${file}`);
      } catch {
        missing.push(`a valid ${file} (it is not JSON)`);
      }
    }
  }

  let token: string | undefined;
  let tokenFrom: TokenSource | undefined;
  const envToken = env.CEJOBS_TOKEN?.trim();
  if (envToken) {
    token = envToken;
    tokenFrom = 'CEJOBS_TOKEN';
  } else {
    const file = tokenFile(home);
    const text = (await readText(file))?.trim();
    if (text) {
      token = text;
      tokenFrom = 'token file';
    } else missing.push(envUrl ? `CEJOBS_TOKEN (or ${file})` : `${file} (the server creates it at its first start)`);
  }

  if (baseUrl && token && urlFrom && tokenFrom) {
    const result: ConnectionResult = { ok: true, baseUrl, token, urlFrom, tokenFrom };
    if (server) result.server = server;
    return result;
  }
  const result: ConnectionResult = {
    ok: false,
    missing,
    message: `no cejobs server to connect to: missing ${missing.join(' and ')}`,
  };
  if (baseUrl) result.baseUrl = baseUrl;
  if (urlFrom) result.urlFrom = urlFrom;
  if (token) result.token = token;
  return result;
}
