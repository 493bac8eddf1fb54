/**
 * Secrets (docs/api.md "Config maps and secrets"): like config maps, plus `format` (a filter on
 * the list) and `reveal`: every value of `data` reads `REDACTED` unless the request has
 * `?reveal=true` (GET and list). Create and replace answer redacted. Names in paths are checked
 * before the lookup (400 naming `secret_name`).
 */
import type { FastifyRequest } from 'fastify';
import { SECRET_FORMATS, type Secret } from '../../domain/config.js';
import { paths, withHref } from '../hrefs.js';
import { pageLinks, type PageRequest } from '../pagination.js';
import { PAGE_PARAMS, type ApiContext, type QueryParamDef, type RouteDef } from '../route.js';
import { ifMatchTag } from '../if-match.js';

const resource = (s: Secret, request: FastifyRequest): Secret & { href: string } =>
  withHref(s, request, paths.secret(s.project_id, s.name));

const REVEAL: QueryParamDef = {
  name: 'reveal',
  description: 'true to get the values; otherwise every value reads REDACTED.',
  type: 'boolean',
  default: false,
};

const FORMAT: QueryParamDef = {
  name: 'format',
  description: `Only secrets of this format (${SECRET_FORMATS.join(', ')}).`,
  type: 'string',
  maxLength: 32,
  pattern: new RegExp(`^(${SECRET_FORMATS.join('|')})$`),
  rule: `it must be one of ${SECRET_FORMATS.join(', ')}`,
};

const IF_MATCH = { name: 'If-Match', description: 'The entity_tag of the secret (or *).', required: true } as const;

export function secretRoutes(api: ApiContext): RouteDef[] {
  const { engine } = api;
  return [
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/secrets',
      operationId: 'listSecrets',
      summary: 'List secrets (values REDACTED unless reveal=true)',
      tag: 'secrets',
      query: [...PAGE_PARAMS, FORMAT, REVEAL],
      responses: { 200: { description: 'A page of secrets.', schema: 'SecretList' } },
      handler: async ({ request, params, query }) => {
        const page: PageRequest = { limit: query.limit as number, start: query.start as string | undefined };
        const format = query.format as string | undefined;
        const result = engine.listSecrets(params.project_id!, { ...page, format, reveal: query.reveal === true });
        const filters: Record<string, string | undefined> = { format };
        if (query.reveal === true) filters.reveal = 'true';
        return {
          secrets: result.items.map((s) => resource(s, request)),
          ...pageLinks(request, paths.secrets(params.project_id!), page, result.next, filters),
        };
      },
    },
    {
      method: 'POST',
      path: '/v2/projects/{project_id}/secrets',
      operationId: 'createSecret',
      summary: 'Create a secret (the answer is redacted)',
      tag: 'secrets',
      body: { schema: 'SecretPrototype', mediaTypes: ['application/json'], required: true },
      responses: {
        201: { description: 'The secret, values REDACTED.', schema: 'Secret', headers: ['ETag'] },
        409: { description: 'The name is taken.', schema: 'Error' },
        503: { description: 'No secret key is configured (secrets_unavailable).', schema: 'Error' },
      },
      handler: async ({ request, reply, params, body }) => {
        const s = engine.createSecret(params.project_id!, body);
        reply.code(201).header('etag', s.entity_tag);
        return resource(s, request);
      },
    },
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/secrets/{secret_name}',
      operationId: 'getSecret',
      summary: 'Get a secret (values REDACTED unless reveal=true)',
      tag: 'secrets',
      query: [REVEAL],
      responses: { 200: { description: 'The secret.', schema: 'Secret', headers: ['ETag'] } },
      handler: async ({ request, reply, params, query }) => {
        const s = engine.getSecret(params.project_id!, params.secret_name!, { reveal: query.reveal === true });
        reply.header('etag', s.entity_tag);
        return resource(s, request);
      },
    },
    {
      method: 'PUT',
      path: '/v2/projects/{project_id}/secrets/{secret_name}',
      operationId: 'replaceSecret',
      summary: 'Replace the data of a secret (If-Match required; the format cannot change)',
      tag: 'secrets',
      headers: [IF_MATCH],
      body: { schema: 'SecretReplace', mediaTypes: ['application/json'], required: true },
      responses: {
        200: { description: 'The secret, values REDACTED.', schema: 'Secret', headers: ['ETag'] },
        412: { description: 'If-Match does not match the entity tag.', schema: 'Error' },
        428: { description: 'If-Match is missing.', schema: 'Error' },
      },
      handler: async ({ request, reply, params, body }) => {
        const tag = ifMatchTag(
          request.headers['if-match'],
          () => engine.getSecret(params.project_id!, params.secret_name!).entity_tag,
          'secret',
        );
        const s = engine.replaceSecret(params.project_id!, params.secret_name!, body, tag);
        reply.header('etag', s.entity_tag);
        return resource(s, request);
      },
    },
    {
      method: 'DELETE',
      path: '/v2/projects/{project_id}/secrets/{secret_name}',
      operationId: 'deleteSecret',
      summary: 'Delete a secret',
      tag: 'secrets',
      responses: { 202: { description: 'Deleted; no body.' } },
      handler: async ({ reply, params }) => {
        engine.deleteSecret(params.project_id!, params.secret_name!);
        return reply.code(202).send();
      },
    },
  ];
}
