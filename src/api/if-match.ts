/** `If-Match` of the resources with entity tags (jobs, config maps, secrets). */
import { ApiError } from './errors.js';

/**
 * The tag to hand the engine for an `If-Match` header (as Node gives it; a missing or repeated
 * header is `precondition_required`): `*` when any value is `*`; the value
 * without quotes (and without `W/`) when there is one; with a list, the current tag when the
 * list holds it (else the first, which the engine refuses with 412).
 */
export function ifMatchTag(raw: string | string[] | undefined, current: () => string, what = 'job'): string {
  const header = typeof raw === 'string' ? raw : undefined;
  if (header === undefined || header.trim() === '') {
    throw new ApiError('precondition_required', `If-Match is required: send the entity_tag of the ${what} (from GET) or *`, { field: 'If-Match' });
  }
  const tags = header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'))
    .filter((t) => t.length > 0);
  if (tags.includes('*')) return '*';
  if (tags.length === 0) throw ApiError.invalidParam('If-Match', `If-Match is empty: send the entity_tag of the ${what} or *`);
  if (tags.length === 1) return tags[0]!;
  const cur = current();
  return tags.includes(cur) ? cur : tags[0]!;
}
