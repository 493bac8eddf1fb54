import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HomeLockedError, lockHome } from '../../src/server/lock.js';
import { UnsafeFileError, ensureToken } from '../../src/server/token.js';

const homes: string[] = [];
const newHome = () => {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-server-'));
  homes.push(h);
  return h;
};
afterEach(() => {
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

describe('the token of a state home', () => {
  it('is created once with mode 0600 and read back the same', () => {
    const home = newHome();
    const a = ensureToken(home);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.statSync(path.join(home, 'token')).mode & 0o777).toBe(0o600);
    expect(ensureToken(home)).toBe(a);
  });

  it('is refused when other users may read it, with the command that fixes it', () => {
    const home = newHome();
    ensureToken(home);
    fs.chmodSync(path.join(home, 'token'), 0o644);
    expect(() => ensureToken(home)).toThrow(UnsafeFileError);
    expect(() => ensureToken(home)).toThrow(/chmod 600/);
  });

  it('is refused when the file holds no usable token', () => {
    const home = newHome();
    fs.writeFileSync(path.join(home, 'token'), 'x\n', { mode: 0o600 });
    expect(() => ensureToken(home)).toThrow(/does not hold a usable token/);
  });
});

describe('the lock of a state home', () => {
  it('lets one server own a home and refuses a second while the first lives', () => {
    const home = newHome();
    // a live process other than us holds the lock
    const holder = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.ppid))']);
    expect(holder.status).toBe(0);
    fs.writeFileSync(path.join(home, 'server.lock'), String(process.ppid));
    expect(() => lockHome(home)).toThrow(HomeLockedError);
    expect(() => lockHome(home)).toThrow(/already runs on/);
  });

  it('takes over a stale lock whose process is gone, and releases it', () => {
    const home = newHome();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.writeFileSync(path.join(home, 'server.lock'), gone);
    const release = lockHome(home);
    expect(fs.readFileSync(path.join(home, 'server.lock'), 'utf8')).toBe(String(process.pid));
    release();
    expect(fs.existsSync(path.join(home, 'server.lock'))).toBe(false);
  });
});
