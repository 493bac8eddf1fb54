/**
 * A tiny HTTP server on 127.0.0.1:0 for client and CLI tests: every request is recorded and
 * answered by a handler that returns a canned response, optionally as chunks written with a
 * pause between them (to split NDJSON/SSE records across chunk boundaries).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
}

export interface CannedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** JSON-serialised unless a string. */
  body?: unknown;
  /** Written one by one with `chunkDelayMs` between them, then the response ends (unless `keepOpen`). */
  chunks?: (string | Uint8Array)[];
  chunkDelayMs?: number;
  keepOpen?: boolean;
}

export type Handler = (req: RecordedRequest) => CannedResponse | Promise<CannedResponse>;

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeServer(handler: Handler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://x');
        let body: unknown;
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          body = raw;
        }
        const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, rawBody: raw };
        requests.push(rec);
        let canned: CannedResponse;
        try {
          canned = await handler(rec);
        } catch (e) {
          canned = { status: 500, body: { errors: [{ code: 'test_handler', message: String(e) }] } };
        }
        const headers: Record<string, string> = { ...(canned.headers ?? {}) };
        if (canned.chunks) {
          res.writeHead(canned.status ?? 200, headers);
          open.add(res);
          res.on('close', () => open.delete(res));
          for (const c of canned.chunks) {
            if (res.destroyed) return;
            res.write(c);
            await new Promise((r) => setTimeout(r, canned.chunkDelayMs ?? 5));
          }
          if (!canned.keepOpen) res.end();
          return;
        }
        let payload = '';
        if (canned.body !== undefined) {
          payload = typeof canned.body === 'string' ? canned.body : JSON.stringify(canned.body);
          headers['content-type'] ??= typeof canned.body === 'string' ? 'text/plain' : 'application/json';
        }
        res.writeHead(canned.status ?? 200, headers);
        res.end(payload);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const apiError = (status: number, code: string, message: string, target?: string): CannedResponse => ({
  status,
  body: {
    errors: [{ code, message, ...(target ? { target: { type: 'field', name: target } } : {}) }],
    status_code: status,
    trace: 'trace-1',
  },
});
