/**
 * Encryption of secret data at rest: AES-256-GCM with a random 12-byte nonce per write and
 * additional authenticated data binding the ciphertext to its project id and secret name, so a
 * sealed value copied to another secret (or project) does not open. Stored as one versioned
 * string `v1:<nonce base64>:<ciphertext + 16-byte tag, base64>`.
 *
 * A failure to open (wrong key, altered bytes, another secret's value) is a `SecretBoxError`:
 * an internal error whose message names the secret, never its content.
 */
import crypto from 'node:crypto';

export const SECRET_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** What a sealed value is bound to. */
export interface SecretBinding {
  projectId: string;
  name: string;
}

/** An internal failure to seal or open a secret (never carries plaintext). */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

function aad(b: SecretBinding): Buffer {
  // length-prefixed, so (project "a:b", name "c") and (project "a", name "b:c") differ
  return Buffer.from(`cejobs-secret/${VERSION}/${b.projectId.length}:${b.projectId}/${b.name.length}:${b.name}`, 'utf8');
}

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== SECRET_KEY_BYTES) {
      throw new SecretBoxError(`a secret key must be exactly ${SECRET_KEY_BYTES} bytes (got ${Buffer.isBuffer(key) ? key.length : typeof key})`);
    }
    this.key = Buffer.from(key);
  }

  /** Encrypts `plaintext` for the secret `binding`; a fresh nonce every call. */
  seal(plaintext: string, binding: SecretBinding): string {
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(binding));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}:${nonce.toString('base64')}:${body.toString('base64')}`;
  }

  /** Decrypts a value sealed for `binding`; throws `SecretBoxError` when it does not open. */
  open(sealed: string, binding: SecretBinding): string {
    const what = `secret '${binding.name}' (project ${binding.projectId})`;
    const parts = sealed.split(':');
    if (parts.length !== 3 || parts[0] !== VERSION) {
      throw new SecretBoxError(`the stored value of ${what} is not in a known format (expected ${VERSION}:<nonce>:<data>)`);
    }
    const nonce = Buffer.from(parts[1]!, 'base64');
    const body = Buffer.from(parts[2]!, 'base64');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
      throw new SecretBoxError(`the stored value of ${what} is truncated or malformed`);
    }
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(binding));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(
        `${what} could not be decrypted: the secret key is not the one it was stored with, or the stored value was altered`,
      );
    }
  }
}
