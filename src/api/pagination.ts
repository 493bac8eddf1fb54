/**
 * Pagination of lists (docs/api.md "Pagination"): `?limit=N` (1–100, default 50) and
 * `?start=<token>`; a list response carries `limit`, `first: {href}` and, when there is more,
 * `next: {href, start}`. Hrefs are absolute. Tokens are opaque to clients (the store's: the
 * base64url of the last name of the page); the API only checks their alphabet and length.
 */
import type { FastifyRequest } from 'fastify';
import { baseUrl } from './hrefs.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;
/** A start token: base64url, at most this long. */
export const START_TOKEN = /^[A-Za-z0-9_-]{1,1024}$/;

/** The page a client asked for (already validated). */
export interface PageRequest {
  limit: number;
  start?: string;
}

/** The pagination fields of a list response. */
export interface PageLinks {
  limit: number;
  first: { href: string };
  next?: { href: string; start: string };
}

/**
 * Pagination fields for a page of `path`. `filters` are the other query parameters to keep in
 * the hrefs (e.g. `job_name`).
 */
export function pageLinks(
  request: FastifyRequest,
  path: string,
  page: PageRequest,
  next: string | undefined,
  filters: Record<string, string | undefined> = {},
): PageLinks {
  const href = (start?: string): string => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v !== undefined) q.set(k, v);
    q.set('limit', String(page.limit));
    if (start !== undefined) q.set('start', start);
    return `${baseUrl(request)}${path}?${q.toString()}`;
  };
  const links: PageLinks = { limit: page.limit, first: { href: href() } };
  if (next !== undefined) links.next = { href: href(next), start: next };
  return links;
}

/**
 * Pages an in-memory list sorted by `key` (for lists the engine returns whole, e.g. projects),
 * with the same token scheme as the store.
 */
export function pageArray<T>(items: readonly T[], key: (item: T) => string, page: PageRequest): { items: T[]; next?: string } {
  const after = page.start === undefined ? undefined : Buffer.from(page.start, 'base64url').toString('utf8');
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((i) => key(i) > after);
  if (rest.length <= page.limit) return { items: rest };
  const out = rest.slice(0, page.limit);
  return { items: out, next: Buffer.from(key(out[out.length - 1]!), 'utf8').toString('base64url') };
}
