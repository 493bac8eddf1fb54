import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HomeLockedError } from '../../src/server/lock.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';

const homes: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});
const newHome = () => {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-serve-'));
  homes.push(h);
  return h;
};

describe('startServer', () => {
  it('listens on a free port, records itself, answers with the token only, and cleans up on close', async () => {
    const home = newHome();
    const s = await startServer({ home, driver: 'fake', log: () => {} });
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const record = JSON.parse(fs.readFileSync(path.join(home, 'server.json'), 'utf8'));
    expect(record).toMatchObject({ url: s.url, pid: process.pid, driver: 'fake', home });
    expect(fs.statSync(path.join(home, 'server.json')).mode & 0o777).toBe(0o600);

    const anonymous = await fetch(`${s.url}/v2/server`);
    expect(anonymous.status).toBe(401);
    const info = await fetch(`${s.url}/v2/server`, { headers: { authorization: `Bearer ${s.token}` } });
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ url: s.url, driver: 'fake', pid: process.pid, state_home: home });

    await s.close();
    expect(fs.existsSync(path.join(home, 'server.json'))).toBe(false);
    expect(fs.existsSync(path.join(home, 'server.lock'))).toBe(false);
    await expect(fetch(`${s.url}/v2/server`)).rejects.toThrow();
  });

  it('refuses a second server on the same state home, and allows two homes side by side', async () => {
    const home = newHome();
    servers.push(await startServer({ home, driver: 'fake', log: () => {} }));
    await expect(startServer({ home, driver: 'fake', log: () => {} })).rejects.toThrow(HomeLockedError);
    const other = await startServer({ home: newHome(), driver: 'fake', log: () => {} });
    servers.push(other);
    expect(other.url).not.toBe(servers[0]!.url);
  });

  it('keeps the data of the state home across restarts', async () => {
    const home = newHome();
    let s = await startServer({ home, driver: 'fake', log: () => {} });
    const auth = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' };
    const created = await fetch(`${s.url}/v2/projects/default/jobs`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'kept', run_commands: ['true'] }),
    });
    expect(created.status).toBe(201);
    await s.close();
    s = await startServer({ home, driver: 'fake', log: () => {} });
    servers.push(s);
    const got = await fetch(`${s.url}/v2/projects/default/jobs/kept`, { headers: auth });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { name: string }).name).toBe('kept');
  });
});
