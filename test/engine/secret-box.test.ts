import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, SecretBoxError } from '../../src/engine/secret-box.js';

const key = crypto.randomBytes(32);
const at = { projectId: '4e49b3e0-27a8-48d2-a784-c7ee48bb863b', name: 'db-secret' };
const PLAIN = '{"password":"s3cr3t-VALUE-1234"}';

function flip(sealed: string, part: 1 | 2, byte: number): string {
  const parts = sealed.split(':');
  const buf = Buffer.from(parts[part]!, 'base64');
  buf[byte % buf.length]! ^= 0x01;
  parts[part] = buf.toString('base64');
  return parts.join(':');
}

describe('SecretBox', () => {
  it('round-trips, with a versioned format and a fresh nonce per write', () => {
    const box = new SecretBox(key);
    const a = box.seal(PLAIN, at);
    const b = box.seal(PLAIN, at);
    expect(a).toMatch(/^v1:[A-Za-z0-9+/=]{16}:[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a.split(':')[1]).not.toBe(b.split(':')[1]);
    expect(a).not.toContain('s3cr3t');
    expect(box.open(a, at)).toBe(PLAIN);
    expect(box.open(b, at)).toBe(PLAIN);
    expect(new SecretBox(Buffer.from(key)).open(a, at)).toBe(PLAIN);
    expect(box.open(box.seal('', at), at)).toBe('');
  });

  it('fails when any byte of the nonce, ciphertext or tag is flipped', () => {
    const box = new SecretBox(key);
    const sealed = box.seal(PLAIN, at);
    const bodyLength = Buffer.from(sealed.split(':')[2]!, 'base64').length;
    for (const [part, byte] of [[1, 0], [1, 11], [2, 0], [2, 5], [2, bodyLength - 1], [2, bodyLength - 16]] as const) {
      expect(() => box.open(flip(sealed, part, byte), at)).toThrow(SecretBoxError);
    }
  });

  it('is bound to its project and name (AAD), and to its key', () => {
    const box = new SecretBox(key);
    const sealed = box.seal(PLAIN, at);
    expect(() => box.open(sealed, { ...at, name: 'other' })).toThrow(SecretBoxError);
    expect(() => box.open(sealed, { ...at, projectId: crypto.randomUUID() })).toThrow(SecretBoxError);
    expect(() => new SecretBox(crypto.randomBytes(32)).open(sealed, at)).toThrow(/could not be decrypted/);
    // no ambiguity between project and name
    const s2 = box.seal(PLAIN, { projectId: 'a:b', name: 'c' });
    expect(() => box.open(s2, { projectId: 'a', name: 'b:c' })).toThrow(SecretBoxError);
  });

  it('refuses malformed stored values and bad keys with messages that carry no plaintext', () => {
    const box = new SecretBox(key);
    for (const bad of ['', 'v2:AAAA:AAAA', 'v1:abc', 'v1:AAAA:AAAA', `v1:${Buffer.alloc(12).toString('base64')}:AAAA`]) {
      expect(() => box.open(bad, at)).toThrow(SecretBoxError);
    }
    try {
      new SecretBox(crypto.randomBytes(32)).open(box.seal(PLAIN, at), at);
    } catch (e) {
      expect((e as Error).message).toContain("secret 'db-secret'");
      expect((e as Error).message).not.toContain('s3cr3t');
    }
    expect(() => new SecretBox(crypto.randomBytes(16))).toThrow(/exactly 32 bytes/);
  });
});
