/**
 * Bearer-token authentication of every route (docs/api.md "Authentication").
 *
 * The check runs in an `onRequest` hook, before the body is read. Tokens are compared as
 * SHA-256 digests with `crypto.timingSafeEqual` (equal-length buffers whatever the input), so
 * the time taken does not depend on how much of a guess is right. A missing or wrong token is
 * answered with exactly the body below and `WWW-Authenticate: Bearer`, nothing else.
 */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/** The body of every 401 (no trace, no detail). */
export const UNAUTHORIZED_BODY = {
  errors: [{ code: 'unauthorized', message: 'a valid bearer token is required' }],
  status_code: 401,
} as const;

const digest = (s: string): Buffer => crypto.createHash('sha256').update(s, 'utf8').digest();

/**
 * True when `given` equals the token whose digest is `expectedDigest`, in time that does not
 * depend on the contents (both sides are 32-byte digests). `given` may be anything a header holds.
 */
export function tokenMatches(given: string | undefined, expectedDigest: Buffer): boolean {
  const ok = crypto.timingSafeEqual(digest(given ?? ''), expectedDigest);
  return ok && given !== undefined && given.length > 0;
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if any. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
  return m?.[1];
}

/** Installs the hook: every request needs `Authorization: Bearer <token>`. */
export function installAuth(app: FastifyInstance, token: string): void {
  if (token.length === 0) throw new Error('the API token must not be empty');
  const expected = digest(token);
  app.addHook('onRequest', async (request, reply) => {
    if (tokenMatches(bearerToken(request.headers.authorization), expected)) return;
    return reply.code(401).header('www-authenticate', 'Bearer').type('application/json; charset=utf-8').send(UNAUTHORIZED_BODY);
  });
}
