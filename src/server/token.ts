/**
 * The bearer token of a state home: 32 random bytes (hex), created at the server's first start
 * in `<home>/token` with mode 0600. A token file that others may read is refused, like ssh
 * refuses a private key with loose permissions.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { tokenFile } from '../shared/state-home.js';

export class UnsafeFileError extends Error {
  constructor(readonly file: string, mode: number) {
    super(
      `${file} is readable or writable by other users (mode ${(mode & 0o777).toString(8)}); ` +
        `it holds a secret. Run 'chmod 600 ${file}' and start again.`,
    );
    this.name = 'UnsafeFileError';
  }
}

/** Throws when `file` is accessible to group or others. */
export function assertPrivate(file: string): void {
  const mode = fs.statSync(file).mode;
  if ((mode & 0o077) !== 0) throw new UnsafeFileError(file, mode);
}

/** Reads the token of `home`, creating it (0600) when there is none. */
export function ensureToken(home: string): string {
  const file = tokenFile(home);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  assertPrivate(file);
  const token = fs.readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9._~+/=-]{16,}$/.test(token)) {
    throw new Error(`${file} does not hold a usable token (at least 16 characters); remove it to get a new one.`);
  }
  return token;
}
