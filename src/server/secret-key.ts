/**
 * The key that seals secrets at rest (AES-256-GCM, engine/secret-box.ts): 32 bytes, from
 * `CEJOBS_SECRET_KEY` (base64 of exactly 32 bytes) or from `<home>/secret.key` (base64, created
 * at the first start with 32 random bytes and mode 0600). A key file that others may read is
 * refused, like the token. Losing the key makes every stored secret unreadable (they must be
 * created again); changing it likewise.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SECRET_KEY_BYTES } from '../engine/secret-box.js';
import { assertPrivate } from './token.js';

/** Name of the key file in a state home. */
export const SECRET_KEY_FILE = 'secret.key';
/** Environment variable that overrides the key file. */
export const SECRET_KEY_ENV = 'CEJOBS_SECRET_KEY';

export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

export function secretKeyFile(home: string): string {
  return path.join(home, SECRET_KEY_FILE);
}

/** Decodes a base64 key of exactly 32 bytes; `where` names its source for the message. */
export function parseSecretKey(text: string, where: string): Buffer {
  const s = text.trim();
  const rule = `it must be ${SECRET_KEY_BYTES} bytes in base64 (e.g. the output of 'openssl rand -base64 ${SECRET_KEY_BYTES}')`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new SecretKeyError(`${where} is not a valid secret key: it is not base64; ${rule}`);
  }
  const key = Buffer.from(s, 'base64');
  if (key.length !== SECRET_KEY_BYTES) {
    throw new SecretKeyError(`${where} is not a valid secret key: it decodes to ${key.length} bytes; ${rule}`);
  }
  return key;
}

/**
 * The secret key of a state home: `env.CEJOBS_SECRET_KEY` when set (the file is then neither
 * read nor created), else `<home>/secret.key`, created (0600) when missing. Throws
 * `SecretKeyError` for a malformed key and `UnsafeFileError` for a file others can read.
 */
export function ensureSecretKey(home: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env[SECRET_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return parseSecretKey(fromEnv, SECRET_KEY_ENV);
  const file = secretKeyFile(home);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${crypto.randomBytes(SECRET_KEY_BYTES).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  assertPrivate(file);
  return parseSecretKey(fs.readFileSync(file, 'utf8'), file);
}
