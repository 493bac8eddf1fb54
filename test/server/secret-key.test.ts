import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureSecretKey, parseSecretKey, secretKeyFile } from '../../src/server/secret-key.js';
import { UnsafeFileError } from '../../src/server/token.js';

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-key-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

describe('the secret key', () => {
  it('is created at the first start as 32 random bytes in base64, mode 0600, and read again after', () => {
    const key = ensureSecretKey(home, {});
    expect(key.length).toBe(32);
    const file = secretKeyFile(home);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64').equals(key)).toBe(true);
    expect(ensureSecretKey(home, {}).equals(key)).toBe(true);
  });

  it('refuses a key file that group or others can read', () => {
    ensureSecretKey(home, {});
    fs.chmodSync(secretKeyFile(home), 0o644);
    expect(() => ensureSecretKey(home, {})).toThrow(UnsafeFileError);
    expect(() => ensureSecretKey(home, {})).toThrow(/chmod 600/);
  });

  it('refuses a key file that does not hold 32 bytes', () => {
    fs.writeFileSync(secretKeyFile(home), `${crypto.randomBytes(16).toString('base64')}\n`, { mode: 0o600 });
    expect(() => ensureSecretKey(home, {})).toThrow(/decodes to 16 bytes/);
  });

  it('takes CEJOBS_SECRET_KEY (base64 of 32 bytes) over the file, and creates no file then', () => {
    const k = crypto.randomBytes(32);
    expect(ensureSecretKey(home, { CEJOBS_SECRET_KEY: k.toString('base64') }).equals(k)).toBe(true);
    expect(fs.existsSync(secretKeyFile(home))).toBe(false);
  });

  it.each([
    ['16 bytes', crypto.randomBytes(16).toString('base64'), /decodes to 16 bytes/],
    ['33 bytes', crypto.randomBytes(33).toString('base64'), /decodes to 33 bytes/],
    ['hex', crypto.randomBytes(32).toString('hex'), /decodes to 48 bytes|not base64/],
    ['not base64', 'not a key!', /not base64/],
  ])('refuses a CEJOBS_SECRET_KEY of %s with a clear message', (_what, value, re) => {
    expect(() => ensureSecretKey(home, { CEJOBS_SECRET_KEY: value })).toThrow(re);
    expect(() => ensureSecretKey(home, { CEJOBS_SECRET_KEY: value })).toThrow(/CEJOBS_SECRET_KEY is not a valid secret key: .*32 bytes in base64/);
  });

  it('parses surrounding whitespace', () => {
    const k = crypto.randomBytes(32);
    expect(parseSecretKey(` ${k.toString('base64')}\n`, 'x').equals(k)).toBe(true);
  });
});

describe('the server and the secret key', () => {
  it('creates the key at the first start, keeps secrets readable across restarts, refuses a loose key file', async () => {
    const { startServer } = await import('../../src/server/serve.js');
    const saved = process.env.CEJOBS_SECRET_KEY;
    delete process.env.CEJOBS_SECRET_KEY;
    try {
      const s1 = await startServer({ home, driver: 'fake', log: () => {} });
      expect(fs.statSync(secretKeyFile(home)).mode & 0o777).toBe(0o600);
      const auth = { authorization: `Bearer ${s1.token}`, 'content-type': 'application/json' };
      const created = await fetch(`${s1.url}/v2/projects/default/secrets`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ name: 'db', data: { PW: 's3cr3t-VALUE-1234' } }),
      });
      expect(created.status).toBe(201);
      await s1.close();

      const s2 = await startServer({ home, driver: 'fake', log: () => {} });
      const got = await fetch(`${s2.url}/v2/projects/default/secrets/db?reveal=true`, { headers: { authorization: `Bearer ${s2.token}` } });
      expect(((await got.json()) as { data: unknown }).data).toEqual({ PW: "s3cr3t-VALUE-1234" });
      await s2.close();

      fs.chmodSync(secretKeyFile(home), 0o644);
      await expect(startServer({ home, driver: 'fake', log: () => {} })).rejects.toThrow(UnsafeFileError);
      fs.chmodSync(secretKeyFile(home), 0o600);
      process.env.CEJOBS_SECRET_KEY = 'c2hvcnQ=';
      await expect(startServer({ home, driver: 'fake', log: () => {} })).rejects.toThrow(/CEJOBS_SECRET_KEY is not a valid secret key/);
      delete process.env.CEJOBS_SECRET_KEY;
      const s3 = await startServer({ home, driver: 'fake', log: () => {} }); // the lock was released by the refusals
      await s3.close();
    } finally {
      if (saved === undefined) delete process.env.CEJOBS_SECRET_KEY;
      else process.env.CEJOBS_SECRET_KEY = saved;
    }
  });
});
