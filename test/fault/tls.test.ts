/**
 * TLS: `startServer({tls})` and `ce server --tls-cert FILE --tls-key FILE` serve HTTPS with a
 * self-signed certificate made by openssl; server.json records the https:// URL and the
 * certificate; the CLI trusts it (server.json's tls_cert locally, CEJOBS_CA_FILE with
 * CEJOBS_API) and refuses the server without it; streams work over TLS; NODE_EXTRA_CA_CERTS
 * works for child processes using the global fetch.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { fetchTrusting } from '../../src/shared/tls-fetch.js';
import { ce, readRecord } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-tls-'));
const certFile = path.join(tmp, 'cert.pem');
const keyFile = path.join(tmp, 'key.pem');
const openssl = spawnSync('openssl', ['version']).status === 0;
if (openssl) {
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
}
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function cli(argv: string[], env: Record<string, string | undefined>): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (out += s) },
    env: { CEJOBS_NO_AUTOSTART: '1', PATH: process.env.PATH, ...env },
    isTTY: false,
  });
  return { code, out };
}

describe.skipIf(!openssl)('HTTPS with a self-signed certificate', () => {
  const home = path.join(tmp, 'home');
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ home, driver: 'fake', log: () => {}, tls: { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), certFile } });
  });
  afterAll(async () => s?.close());

  it('serves https:// and records it (with the certificate) in server.json', async () => {
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const record = readRecord(home) as { url: string; tls_cert?: string };
    expect(record.url).toBe(s.url);
    expect(record.tls_cert).toBe(certFile);
    const headers = { authorization: `Bearer ${s.token}` };
    // an untrusted self-signed certificate is refused by the global fetch…
    await expect(fetch(`${s.url}/v2/server`, { headers })).rejects.toThrow();
    // …plain HTTP gets nothing useful…
    await expect(fetch(`${s.url.replace('https:', 'http:')}/v2/server`, { headers }).then((r) => r.status)).rejects.toThrow();
    // …and a fetch that trusts it works, the server says where it is
    const info = (await (await fetchTrusting(fs.readFileSync(certFile))(`${s.url}/v2/server`, { headers })).json()) as { url: string };
    expect(info.url).toBe(s.url);
    // a wrong certificate is not trusted
    const other = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', '/dev/null', '-days', '1', '-subj', '/CN=127.0.0.1'], { encoding: 'utf8' });
    await expect(fetchTrusting(other.stdout)(`${s.url}/v2/server`, { headers })).rejects.toThrow();
  });

  it('the CLI trusts the recorded certificate of the local server, and CEJOBS_CA_FILE with CEJOBS_API', async () => {
    const local = await cli(['project', 'list'], { CEJOBS_HOME: home });
    expect(local.out).toContain('default');
    expect(local.code).toBe(0);
    const remote = { CEJOBS_HOME: path.join(tmp, 'elsewhere'), CEJOBS_API: s.url, CEJOBS_TOKEN: s.token };
    const refused = await cli(['project', 'list'], remote);
    expect(refused.code).toBe(1);
    const trusted = await cli(['project', 'list'], { ...remote, CEJOBS_CA_FILE: certFile });
    expect(trusted.out).toContain('default');
    expect(trusted.code).toBe(0);
    const missing = await cli(['project', 'list'], { ...remote, CEJOBS_CA_FILE: path.join(tmp, 'nope.pem') });
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('CEJOBS_CA_FILE');
  });

  it('streams the change stream over TLS', async () => {
    const ac = new AbortController();
    const res = await fetchTrusting(fs.readFileSync(certFile))(`${s.url}/v2/projects/default/changes`, {
      headers: { authorization: `Bearer ${s.token}` },
      signal: ac.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain(': connected');
    ac.abort();
  });

  it('NODE_EXTRA_CA_CERTS makes the global fetch of a child process trust it', async () => {
    // (async: the server lives in this process, a synchronous spawn would block it)
    const script = `fetch(${JSON.stringify(`${s.url}/v2/server`)}, { headers: { authorization: 'Bearer ${s.token}' } }).then((r) => console.log(r.status), (e) => console.log('error', e.cause?.code))`;
    const run = (env: NodeJS.ProcessEnv): Promise<string> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', () => resolve(out.trim()));
      });
    expect(await run({ ...process.env, NODE_EXTRA_CA_CERTS: certFile })).toBe('200');
    expect(await run({ ...process.env, NODE_EXTRA_CA_CERTS: '' })).toMatch(/^error/);
  });
});

describe.skipIf(!openssl)('ce server start --tls-cert --tls-key (a real background server)', () => {
  const home = path.join(tmp, 'bg');
  afterAll(async () => {
    await ce(home, ['server', 'stop'], { CEJOBS_DRIVER: 'fake' }).catch(() => {});
  });

  it('serves HTTPS, and every ce command of that home trusts it', async () => {
    const bad = await ce(home, ['server', 'start', '--tls-cert', certFile], { CEJOBS_DRIVER: 'fake' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--tls-key');
    const start = await ce(home, ['server', 'start', '--tls-cert', certFile, '--tls-key', keyFile], { CEJOBS_DRIVER: 'fake' });
    expect(start.code, start.stdout + start.stderr).toBe(0);
    expect(start.stdout + start.stderr).toMatch(/Started a cejobs server at https:\/\/127\.0\.0\.1:\d+/);
    expect(readRecord(home).url).toMatch(/^https:/);
    const status = await ce(home, ['server', 'status', '-o', 'json'], { CEJOBS_DRIVER: 'fake' });
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'running', url: readRecord(home).url });
    const list = await ce(home, ['job', 'list'], { CEJOBS_DRIVER: 'fake' });
    expect(list.code, list.stdout + list.stderr).toBe(0);
    const stop = await ce(home, ['server', 'stop'], { CEJOBS_DRIVER: 'fake' });
    expect(stop.code).toBe(0);
  }, 90_000);
});
