/**
 * Serving of the console's static files by the API server (src/api/console.ts): public files,
 * content types, caching, SPA fallback, path traversal refused, the page shown without a build,
 * and the API still behind the token. No browser needed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installConsole, resolveConsoleFile } from '../../src/api/console.js';
import { makeApi, type ApiHarness } from '../api/harness.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-console-static-'));
const root = path.join(dir, 'console');
const outside = path.join(dir, 'outside.txt');

beforeAll(() => {
  fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>console</title><div id="root"></div>');
  fs.writeFileSync(path.join(root, 'assets/index-AbC123.js'), 'console.log(1)');
  fs.writeFileSync(path.join(root, 'assets/index-AbC123.css'), 'body{}');
  fs.writeFileSync(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  fs.writeFileSync(outside, 'root:x:0:0:secret');
  fs.symlinkSync(outside, path.join(root, 'assets/link.js'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function app(consoleDir = root) {
  const a = Fastify();
  installConsole(a, { dir: consoleDir });
  a.addHook('onRequest', async (_req, reply) => reply.code(401).send({ api: true })); // stands in for auth
  a.get('/v2/server', async () => ({ ok: true }));
  await a.ready();
  return a;
}

describe('console static files', () => {
  it('serves index.html, hashed assets and other files with content types and caching headers', async () => {
    const a = await app();
    const index = await a.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.body).toContain('<div id="root">');
    const js = await a.inject({ method: 'GET', url: '/assets/index-AbC123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const css = await a.inject({ method: 'GET', url: '/assets/index-AbC123.css?v=1' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const svg = await a.inject({ method: 'GET', url: '/favicon.svg' });
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache');
    const head = await a.inject({ method: 'HEAD', url: '/' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    await a.close();
  });

  it('answers client routes with index.html (SPA fallback) and missing files with 404', async () => {
    const a = await app();
    for (const url of ['/jobs', '/jobs/x', '/runs/hello-abc12?x=1', '/configmaps']) {
      const r = await a.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(r.headers['cache-control'], url).toBe('no-cache');
      expect(r.body, url).toContain('<div id="root">');
    }
    for (const url of ['/assets/missing-123.js', '/assets/nothing', '/robots.txt']) {
      expect((await a.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    await a.close();
  });

  it('refuses path traversal, encoded or not, and symlinks out of the directory', async () => {
    const a = await app();
    for (const url of [
      '/..%2f..%2fetc/passwd',
      '/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '/assets/..%2f..%2foutside.txt',
      '/%2e%2e/outside.txt',
      '/assets/%2e%2e%2f%2e%2e%2foutside.txt',
      '/assets/..%5c..%5coutside.txt',
      '/index.html%00.js',
      '/%zz',
      '/assets/link.js',
    ]) {
      const r = await a.inject({ method: 'GET', url });
      expect([400, 404], url).toContain(r.statusCode);
      expect(r.body, url).not.toContain('root:');
      expect(r.body, url).not.toContain('<div id="root">');
    }
    // dot segments and backslashes the URL parser resolves first never leave the directory either
    for (const url of ['/../../etc/passwd', '/..\\..\\etc\\passwd', '/assets/../../outside.txt']) {
      const r = await a.inject({ method: 'GET', url });
      expect(r.body, url).not.toContain('root:');
    }
    expect(resolveConsoleFile(root, '/..%2f..%2fetc/passwd')).toEqual({ status: 400 });
    await a.close();
  });

  it('leaves /v2 and other methods to the API (auth still applies)', async () => {
    const a = await app();
    expect((await a.inject({ method: 'GET', url: '/v2/server' })).json()).toEqual({ api: true });
    expect((await a.inject({ method: 'GET', url: '/v2' })).json()).toEqual({ api: true });
    expect((await a.inject({ method: 'POST', url: '/jobs' })).json()).toEqual({ api: true });
    await a.close();
  });

  it('without a build, every page says to run npm run build', async () => {
    const a = await app(path.join(dir, 'not-built'));
    for (const url of ['/', '/jobs/x']) {
      const r = await a.inject({ method: 'GET', url });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.body).toContain('npm run build');
    }
    await a.close();
  });
});

describe('console in the API app', () => {
  let h: ApiHarness;
  afterEach(async () => h?.close());

  it('serves the console without a token and keeps every /v2 route behind it', async () => {
    h = await makeApi();
    const page = await h.app.inject({ method: 'GET', url: '/jobs/x' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const api = await h.app.inject({ method: 'GET', url: '/v2/projects' });
    expect(api.statusCode).toBe(401);
    const traversal = await h.app.inject({ method: 'GET', url: '/..%2f..%2fetc/passwd' });
    expect([400, 404]).toContain(traversal.statusCode);
    expect(traversal.body).not.toContain('root:');
  });
});
