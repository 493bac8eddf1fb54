/**
 * The bearer token of a state home: 32 random bytes (hex), created at the server's first start
 * in `<home>/token` with mode 0600. A token file that others may read is refused, like ssh
 * refuses a private key with loose permissions.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { tokenFile } from '../shared/state-home.js';

export class UnsafeFileError extends Error {
  constructor(readonly file: string, mode: number, message?: string) {
    super(
      message ??
        `${file} is readable or writable by other users (mode ${(mode & 0o777).toString(8)}); ` +
          `it holds a secret. Run 'chmod 600 ${file}' and start again.`,
    );
    this.name = 'UnsafeFileError';
  }
}

/** Throws when `file` is accessible to group or others. */
export function assertPrivate(file: string): void {
  const st = fs.statSync(file);
  if ((st.mode & 0o077) !== 0) throw new UnsafeFileError(file, st.mode);
  // a file someone else owns may have been planted (a token they know, a key they chose)
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new UnsafeFileError(file, st.mode, `${file} is owned by uid ${st.uid}, not by this user (uid ${uid}); it holds a secret and must be yours. Remove it (a new one is created) or 'chown' it, and start again.`);
  }
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
