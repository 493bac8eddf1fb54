/**
 * The web console's static files (docs/console.md): the Vite build in `dist/console/`, served by
 * the API server at `/` with its assets under `/assets/`.
 *
 * Serving happens in an `onRequest` hook installed before the auth hook, so the files are public
 * (they hold no data; every data call of the console goes to `/v2` with the bearer token) and no
 * route is registered (the API's route table and OpenAPI document stay exactly the API). Only
 * `GET`/`HEAD` of paths outside `/v2` are answered here; everything else falls through to auth
 * and the API.
 *
 * - Hashed assets (`/assets/*`) are cached for a year (`immutable`); `index.html` and other
 *   files are `no-cache`. Content types come from the extension.
 * - Client routes (`/jobs/x`: no extension, not under `/assets/`) get `index.html` (SPA fallback);
 *   a missing file with an extension is 404.
 * - The decoded path must stay inside the directory: `..` segments, backslashes, NUL bytes and
 *   bad percent-encodings are refused with 400, and the resolved file is checked again (also
 *   through symlinks) before it is read.
 * - Without a build (`index.html` missing) every page is a short HTML note to run `npm run build`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Content-Security-Policy of the console's pages: only its own scripts, styles and API. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cejobs console</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>cejobs console</h1>
<p>The web console is not built. Run <code>npm run build</code> (it bundles the console into
<code>dist/console/</code>), then reload this page. The REST API at <code>/v2</code> works without it.</p>
</body></html>
`;

/** Where the built console is: next to the compiled server (`dist/console`), or `dist/console` from the sources. */
export function defaultConsoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../console'), path.resolve(here, '../../dist/console')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html'))) ?? candidates[candidates.length - 1]!;
}

/** True for request paths the console answers (GET/HEAD outside the API). */
export function isConsolePath(urlPath: string): boolean {
  return urlPath !== '/v2' && !urlPath.startsWith('/v2/');
}

type Resolved = { status: 400 | 404 } | { file: string; fallback: boolean };

/** Maps a raw URL path to a file inside `root` (see the module comment); pure apart from `fs`. */
export function resolveConsoleFile(root: string, rawPath: string): Resolved {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { status: 400 };
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return { status: 400 };
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.')) return { status: 400 };
  const rel = segments.join('/');
  const base = path.resolve(root);
  const candidate = path.resolve(base, rel === '' ? 'index.html' : rel);
  if (candidate !== base && !candidate.startsWith(base + path.sep)) return { status: 400 };
  const last = segments[segments.length - 1] ?? '';
  try {
    const real = fs.realpathSync(candidate);
    const realBase = fs.realpathSync(base);
    if (!real.startsWith(realBase + path.sep)) return { status: 404 };
    if (fs.statSync(real).isFile()) return { file: real, fallback: false };
  } catch {
    // not there: maybe a client route
  }
  if (segments[0] === 'assets' || last.includes('.')) return { status: 404 };
  return { file: path.join(base, 'index.html'), fallback: true };
}

function sendText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .send(text);
}

/**
 * Installs the console's hook on `app`. Call it before the auth hook. `dir` is the built console
 * (default: `defaultConsoleDir()`).
 */
export function installConsole(app: FastifyInstance, options: { dir?: string } = {}): void {
  const root = options.dir ?? defaultConsoleDir();
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    const rawPath = request.url.split('?')[0] ?? '/';
    if (!isConsolePath(rawPath)) return;
    const head = request.method === 'HEAD';
    if (!fs.existsSync(path.join(root, 'index.html'))) {
      reply
        .code(200)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff');
      return reply.send(head ? undefined : NOT_BUILT_PAGE);
    }
    const resolved = resolveConsoleFile(root, rawPath);
    if ('status' in resolved) return sendText(reply, resolved.status, resolved.status === 400 ? 'bad path\n' : 'not found\n');
    let body: Buffer;
    try {
      body = await fs.promises.readFile(resolved.file);
    } catch {
      return sendText(reply, 404, 'not found\n');
    }
    const ext = path.extname(resolved.file).toLowerCase();
    const hashed = !resolved.fallback && rawPath.startsWith('/assets/');
    reply
      .code(200)
      .header('content-type', TYPES[ext] ?? 'application/octet-stream')
      .header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    if (ext === '.html') reply.header('content-security-policy', CONSOLE_CSP).header('x-frame-options', 'DENY');
    if (head) return reply.header('content-length', String(body.length)).send();
    return reply.send(body);
  });
}
