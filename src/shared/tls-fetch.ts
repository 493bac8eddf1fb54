/**
 * A `fetch` that trusts extra CA certificates (e.g. the self-signed certificate of a server
 * started with `--tls-cert`), for Node 20 without extra packages. Node's global fetch (undici)
 * reads `NODE_EXTRA_CA_CERTS` only when the process starts, and its `Agent` (where
 * `connect.ca` would go) is not importable without the `undici` package; so HTTPS requests go
 * through `node:https` with `ca` (the system's roots plus the given certificates) and come back
 * as a standard `Response` whose body streams (NDJSON logs and the change stream work).
 * Other URLs go to the global fetch.
 */
import https from 'node:https';
import { Readable } from 'node:stream';
import tls from 'node:tls';

export function fetchTrusting(ca: string | Buffer): typeof fetch {
  const agent = new https.Agent({ ca: [...tls.rootCertificates, ca.toString()], keepAlive: false });
  const f = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.protocol !== 'https:') return fetch(input, init);
    return new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
      const req = https.request(url, { method: init?.method ?? 'GET', headers, agent, signal: init?.signal ?? undefined }, (res) => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (Array.isArray(v)) for (const x of v) out.append(k, x);
          else if (v !== undefined) out.set(k, v);
        }
        const status = res.statusCode ?? 0;
        const empty = status === 204 || status === 304 || init?.method === 'HEAD';
        if (empty) res.resume();
        resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? '', headers: out }));
      });
      req.on('error', (e) => reject(new TypeError('fetch failed', { cause: e })));
      const body = init?.body;
      if (body === undefined || body === null) req.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else reject(new TypeError('fetchTrusting: only string and byte bodies are supported'));
    });
  };
  return f as typeof fetch;
}
