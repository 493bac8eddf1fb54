/**
 * Security: every route (from the OpenAPI document), the change stream and log following need
 * the token (401 with a body that says nothing more); the token and secret.key files must be
 * private and ours; the server binds to loopback by default and warns when bound elsewhere
 * without TLS; commands and arguments never pass through a shell; names cannot leave the state
 * home. TLS is test/fault/tls.test.ts.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { shutdownLauncher } from '../../src/drivers/process/driver.js';
import { StateLayout } from '../../src/engine/layout.js';
import { ensureSecretKey } from '../../src/server/secret-key.js';
import { startServer } from '../../src/server/serve.js';
import { ensureToken, UnsafeFileError } from '../../src/server/token.js';
import { makeApi, SMALL, TOKEN, type ApiHarness } from '../api/harness.js';
import { until } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-security-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the token guards every route', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await makeApi({ driver: { script: () => ({}) } });
    await h.req({ method: 'POST', url: '/v2/projects/default/jobs', json: { name: 'j', run_commands: ['/x'], ...SMALL } });
    await h.req({ method: 'POST', url: '/v2/projects/default/job_runs', json: { job_name: 'j', name: 'r' } });
    await h.tick();
  });
  afterAll(async () => h?.close());

  it('answers 401 with nothing but the unauthorized error on every route of the OpenAPI document, streams included', async () => {
    const doc = (await h.req({ method: 'GET', url: '/v2/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const fill = (p: string): string =>
      p.replace('{project_id}', 'default').replace('{job_name}', 'j').replace('{job_run_name}', 'r').replace(/\{\w+\}/g, 'x');
    const targets: { method: string; url: string }[] = [];
    for (const [p, methods] of Object.entries(doc.paths)) for (const m of Object.keys(methods)) targets.push({ method: m.toUpperCase(), url: fill(p) });
    targets.push({ method: 'GET', url: '/v2/projects/default/changes' });
    targets.push({ method: 'GET', url: '/v2/projects/default/job_runs/r/logs?follow=true' });
    targets.push({ method: 'GET', url: '/v2/no/such/route' });
    expect(targets.length).toBeGreaterThanOrEqual(30);
    const badAuth: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
      { authorization: `Bearer ${TOKEN} ${TOKEN}` },
      { 'x-api-key': TOKEN },
    ];
    for (const t of targets) {
      for (const auth of badAuth) {
        const headers: Record<string, string> = { host: 'api.test', 'content-type': 'application/json', ...(auth ?? {}) };
        const r = await h.app.inject({ method: t.method as 'GET', url: t.url, headers, payload: ['POST', 'PUT', 'PATCH'].includes(t.method) ? '{}' : undefined });
        const what = `${t.method} ${t.url} with ${JSON.stringify(auth)}`;
        expect(r.statusCode, what).toBe(401);
        expect(r.json(), what).toEqual({ errors: [{ code: 'unauthorized', message: 'a valid bearer token is required' }], status_code: 401 });
      }
    }
  });
});

describe('the token and secret.key files', () => {
  const loose = [0o640, 0o604, 0o660, 0o606, 0o620, 0o602, 0o644, 0o666, 0o610, 0o601];
  for (const [name, ensure, file] of [
    ['token', (home: string) => ensureToken(home), 'token'],
    ['secret.key', (home: string) => ensureSecretKey(home, {}), 'secret.key'],
  ] as const) {
    it(`${name}: created 0600, refused with any group or other bit, refused when another user owns it`, () => {
      const home = fs.mkdtempSync(path.join(tmp, 'home-'));
      ensure(home);
      const f = path.join(home, file);
      expect(fs.statSync(f).mode & 0o777).toBe(0o600);
      for (const mode of loose) {
        fs.chmodSync(f, mode);
        expect(() => ensure(home), mode.toString(8)).toThrow(UnsafeFileError);
        expect(() => ensure(home), mode.toString(8)).toThrow(/chmod 600/);
      }
      fs.chmodSync(f, 0o400);
      expect(() => ensure(home)).not.toThrow();
      fs.chmodSync(f, 0o600);
      if (process.getuid?.() === 0) {
        fs.chownSync(f, 65534, 65534);
        expect(() => ensure(home)).toThrow(/owned by uid 65534/);
        fs.chownSync(f, 0, 0);
        expect(() => ensure(home)).not.toThrow();
      }
    });
  }
});

describe('where the server listens', () => {
  it('binds to 127.0.0.1 by default without a warning; warns on another address without TLS', async () => {
    const home = fs.mkdtempSync(path.join(tmp, 'bind-'));
    const lines: string[] = [];
    const s = await startServer({ home, driver: 'fake', log: (l) => lines.push(l) });
    try {
      expect(new URL(s.url).hostname).toBe('127.0.0.1');
      expect(lines.filter((l) => /without TLS/.test(l))).toEqual([]);
    } finally {
      await s.close();
    }
    const s2 = await startServer({ home, host: '0.0.0.0', driver: 'fake', log: (l) => lines.push(l) });
    try {
      expect(lines.filter((l) => /warning: listening on 0\.0\.0\.0 without TLS/.test(l))).toHaveLength(1);
    } finally {
      await s2.close();
    }
  });

  it('warns when the state home is open to other users', async () => {
    const home = fs.mkdtempSync(path.join(tmp, 'open-home-'));
    fs.chmodSync(home, 0o755);
    const lines: string[] = [];
    const s = await startServer({ home, driver: 'fake', log: (l) => lines.push(l) });
    await s.close();
    expect(lines.filter((l) => /warning: the state home .* is open to other users \(mode 755\)/.test(l))).toHaveLength(1);
    fs.chmodSync(home, 0o700);
    const quiet: string[] = [];
    const s2 = await startServer({ home, driver: 'fake', log: (l) => quiet.push(l) });
    await s2.close();
    expect(quiet.filter((l) => /open to other users/.test(l))).toEqual([]);
  });

  it('ce server prints the warning in its output', async () => {
    const home = fs.mkdtempSync(path.join(tmp, 'bind-cli-'));
    let out = '';
    const io = {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (out += s) },
      env: { CEJOBS_HOME: home, CEJOBS_DRIVER: 'fake', PATH: process.env.PATH },
      isTTY: false,
    };
    const running = runCli(['server', '--host', '0.0.0.0', '--driver', 'fake'], io);
    await until('the server to listen', () => out.includes('server listening on'), 20_000, 50);
    process.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(out).toMatch(/warning: listening on 0\.0\.0\.0 without TLS/);
  });
});

describe('no shell between a run and its program', () => {
  const home = fs.mkdtempSync(path.join(tmp, 'noshell-'));
  const marker = path.join(tmp, `pwned-${crypto.randomUUID()}`);
  afterAll(async () => {
    await shutdownLauncher(path.join(home, 'launcher'), { force: true }).catch(() => {});
  });

  it('passes shell syntax in commands and arguments literally (API and CLI)', async () => {
    const s = await startServer({ home, driver: 'process', log: () => {}, process: { idleExitMs: 2000 } });
    try {
      const hostile = [`$(touch ${marker}-1)`, `; touch ${marker}-2`, `\`touch ${marker}-3\``, `&& touch ${marker}-4`, `| touch ${marker}-5`, `'"\\*?~{a,b}`];
      let out = '';
      const code = await runCli(
        ['jobrun', 'submit', '--name', 'lit', '--cmd', '/bin/echo', ...hostile.flatMap((a) => ['--arg', a]), '--cpu', '0.125', '--memory', '0.25G', '--wait', '--wait-timeout', '30'],
        {
          stdout: { write: (x: string) => (out += x) },
          stderr: { write: (x: string) => (out += x) },
          env: { CEJOBS_HOME: home, CEJOBS_NO_AUTOSTART: '1', PATH: process.env.PATH },
          isTTY: false,
        },
      );
      expect(code, out).toBe(0);
      const res = await fetch(`${s.url}/v2/projects/default/job_runs/lit/logs`, { headers: { authorization: `Bearer ${s.token}` } });
      const logs = (await res.json()) as { logs: { records: { text: string }[] }[] };
      expect(logs.logs[0]!.records.map((r) => r.text)).toContain(hostile.join(' '));
      // the program name itself is not parsed either
      const r2 = await fetch(`${s.url}/v2/projects/default/job_runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'lit2', run_commands: [`/bin/true; touch ${marker}-6`], ...SMALL }),
      });
      expect(r2.status).toBe(202);
      await until('lit2 to end', async () => {
        const r = await fetch(`${s.url}/v2/projects/default/job_runs/lit2`, { headers: { authorization: `Bearer ${s.token}` } });
        return ['failed', 'completed'].includes(((await r.json()) as { status: string }).status);
      });
      const run = (await (await fetch(`${s.url}/v2/projects/default/job_runs/lit2`, { headers: { authorization: `Bearer ${s.token}` } })).json()) as {
        status: string;
        status_details: { indices_details: Record<string, { last_failure_reason?: string }> };
      };
      expect(run.status).toBe('failed');
      expect(run.status_details.indices_details['0']!.last_failure_reason).toBe('ExecutableNotFound');
      for (let i = 1; i <= 6; i++) expect(fs.existsSync(`${marker}-${i}`), `${marker}-${i}`).toBe(false);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('names cannot leave the state home', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await makeApi();
  });
  afterAll(async () => h?.close());

  const hostile = ['..', '.', '../x', '..%2F..%2Fetc', 'a/b', '/etc/passwd', 'x\u0000y', '%00', 'a\\b', '.hidden', 'x'.repeat(254), 'Ab', 'a..b/..', ' a'];

  it('refuses hostile names of jobs, runs, config maps, secrets, instances and projects (in bodies and paths)', async () => {
    const projects = new Set<string>();
    for (const name of hostile) {
      for (const [url, body] of [
        ['/v2/projects/default/jobs', { name, run_commands: ['/x'], ...SMALL }],
        ['/v2/projects/default/job_runs', { name, run_commands: ['/x'], ...SMALL }],
        ['/v2/projects/default/config_maps', { name, data: { a: 'b' } }],
        ['/v2/projects/default/secrets', { name, format: 'generic', data: { a: 'b' } }],
        ['/v2/projects', { name }],
      ] as const) {
        const r = await h.req({ method: 'POST', url, json: body });
        if (r.statusCode < 300) {
          // only a name that is valid for its kind may pass (a project name allows more): it must then be harmless
          expect(url, `${name} accepted by ${url}`).toBe('/v2/projects');
          expect(name).not.toMatch(/[/\\\0]|^\.\.?$/);
          projects.add(name);
          continue;
        }
        expect(r.statusCode, `${url} ${JSON.stringify(name)}`).toBe(400);
        expect(['invalid_name', 'invalid_field']).toContain(r.json().errors[0].code);
      }
      for (const p of ['jobs', 'job_runs', 'config_maps', 'secrets']) {
        const r = await h.req({ method: 'GET', url: `/v2/projects/default/${p}/${encodeURIComponent(name)}` });
        expect(r.statusCode, `${p}/${name}`).toBeGreaterThanOrEqual(400);
        expect(r.statusCode, `${p}/${name}`).toBeLessThan(500);
      }
      if (projects.has(name)) continue; // a project of that name exists now
      const r = await h.req({ method: 'GET', url: `/v2/projects/${encodeURIComponent(name)}/jobs` });
      expect(r.statusCode).toBeGreaterThanOrEqual(400);
      expect(r.statusCode).toBeLessThan(500);
    }
  });

  it('lays out every file under the state home, one directory per run, and refuses unsafe segments', () => {
    const layout = new StateLayout('/state/home');
    const run = crypto.randomUUID();
    for (const p of [layout.database, layout.launcherDir, layout.runLogDir(run), layout.logPath(run, 'r-0-0'), layout.runWorkDir(run), layout.workDir(run, 'r-0-0')]) {
      expect(path.relative('/state/home', p).startsWith('..')).toBe(false);
    }
    expect(path.dirname(layout.logPath(run, 'r-0-0'))).toBe(layout.runLogDir(run));
    expect(path.dirname(layout.workDir(run, 'r-0-0'))).toBe(layout.runWorkDir(run));
    for (const bad of ['..', '.', '', '../x', 'a/b', 'x\u0000', 'a\\b']) {
      expect(() => layout.runLogDir(bad), bad).toThrow(/not a safe file name/);
      expect(() => layout.logPath(run, bad), bad).toThrow(/not a safe file name/);
      expect(() => layout.workDir(run, bad), bad).toThrow(/not a safe file name/);
      expect(() => layout.runWorkDir(bad), bad).toThrow(/not a safe file name/);
    }
  });
});
