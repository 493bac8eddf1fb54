import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/client/discovery.js';

const homes: string[] = [];
function home(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-disc-'));
  homes.push(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}
afterEach(() => {
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

describe('resolveConnection', () => {
  it('uses CEJOBS_API and CEJOBS_TOKEN when set', async () => {
    const r = await resolveConnection({ home: home(), env: { CEJOBS_API: 'http://h:1', CEJOBS_TOKEN: 't' } });
    expect(r).toMatchObject({ ok: true, baseUrl: 'http://h:1', token: 't', urlFrom: 'CEJOBS_API', tokenFrom: 'CEJOBS_TOKEN' });
  });

  it("uses the home's server.json and token", async () => {
    const h = home({ 'server.json': JSON.stringify({ url: 'http://127.0.0.1:9', pid: 1 }), token: 'secret\n' });
    const r = await resolveConnection({ home: h, env: {} });
    expect(r).toMatchObject({ ok: true, baseUrl: 'http://127.0.0.1:9', token: 'secret', urlFrom: 'server.json', tokenFrom: 'token file' });
  });

  it('combines CEJOBS_API with the token file', async () => {
    const r = await resolveConnection({ home: home({ token: 'x' }), env: { CEJOBS_API: 'http://h:2' } });
    expect(r).toMatchObject({ ok: true, baseUrl: 'http://h:2', token: 'x' });
  });

  it('reports what is missing', async () => {
    const h = home();
    const r = await resolveConnection({ home: h, env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.missing).toHaveLength(2);
    expect(r.missing[0]).toContain(path.join(h, 'server.json'));
    expect(r.missing[1]).toContain(path.join(h, 'token'));
    expect(r.message).toMatch(/no cejobs server/);
  });

  it('reports a malformed server.json and a missing token with CEJOBS_API', async () => {
    const r1 = await resolveConnection({ home: home({ 'server.json': '{nope', token: 't' }), env: {} });
    expect(r1.ok).toBe(false);
    if (!r1.ok) expect(r1.missing[0]).toMatch(/not JSON/);
    const r2 = await resolveConnection({ home: home(), env: { CEJOBS_API: 'http://h' } });
    expect(r2.ok).toBe(false);
    if (!r2.ok) {
      expect(r2.missing[0]).toMatch(/CEJOBS_TOKEN/);
      expect(r2.baseUrl).toBe('http://h');
    }
  });
});
