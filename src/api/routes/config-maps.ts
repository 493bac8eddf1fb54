/**
 * Config maps (docs/api.md "Config maps and secrets"): list, create (201 + ETag), get (+ ETag),
 * replace with PUT and a required `If-Match` (428 without, 412 when stale, `*` for any), delete
 * (202). Names in paths are checked before the lookup (400 naming `config_map_name`).
 */
import type { FastifyRequest } from 'fastify';
import type { ConfigMap } from '../../domain/config.js';
import { paths, withHref } from '../hrefs.js';
import { pageLinks, type PageRequest } from '../pagination.js';
import { PAGE_PARAMS, type ApiContext, type RouteDef } from '../route.js';
import { ifMatchTag } from '../if-match.js';

const resource = (c: ConfigMap, request: FastifyRequest): ConfigMap & { href: string } =>
  withHref(c, request, paths.configMap(c.project_id, c.name));

const IF_MATCH = { name: 'If-Match', description: 'The entity_tag of the config map (or *).', required: true } as const;

export function configMapRoutes(api: ApiContext): RouteDef[] {
  const { engine } = api;
  return [
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/config_maps',
      operationId: 'listConfigMaps',
      summary: 'List config maps',
      tag: 'config maps',
      query: PAGE_PARAMS,
      responses: { 200: { description: 'A page of config maps.', schema: 'ConfigMapList' } },
      handler: async ({ request, params, query }) => {
        const page: PageRequest = { limit: query.limit as number, start: query.start as string | undefined };
        const result = engine.listConfigMaps(params.project_id!, page);
        return {
          config_maps: result.items.map((c) => resource(c, request)),
          ...pageLinks(request, paths.configMaps(params.project_id!), page, result.next),
        };
      },
    },
    {
      method: 'POST',
      path: '/v2/projects/{project_id}/config_maps',
      operationId: 'createConfigMap',
      summary: 'Create a config map',
      tag: 'config maps',
      body: { schema: 'ConfigMapPrototype', mediaTypes: ['application/json'], required: true },
      responses: {
        201: { description: 'The config map.', schema: 'ConfigMap', headers: ['ETag'] },
        409: { description: 'The name is taken.', schema: 'Error' },
      },
      handler: async ({ request, reply, params, body }) => {
        const c = engine.createConfigMap(params.project_id!, body);
        reply.code(201).header('etag', c.entity_tag);
        return resource(c, request);
      },
    },
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/config_maps/{config_map_name}',
      operationId: 'getConfigMap',
      summary: 'Get a config map',
      tag: 'config maps',
      responses: { 200: { description: 'The config map.', schema: 'ConfigMap', headers: ['ETag'] } },
      handler: async ({ request, reply, params }) => {
        const c = engine.getConfigMap(params.project_id!, params.config_map_name!);
        reply.header('etag', c.entity_tag);
        return resource(c, request);
      },
    },
    {
      method: 'PUT',
      path: '/v2/projects/{project_id}/config_maps/{config_map_name}',
      operationId: 'replaceConfigMap',
      summary: 'Replace the data of a config map (If-Match required)',
      tag: 'config maps',
      headers: [IF_MATCH],
      body: { schema: 'ConfigMapReplace', mediaTypes: ['application/json'], required: true },
      responses: {
        200: { description: 'The config map with its new data.', schema: 'ConfigMap', headers: ['ETag'] },
        412: { description: 'If-Match does not match the entity tag.', schema: 'Error' },
        428: { description: 'If-Match is missing.', schema: 'Error' },
      },
      handler: async ({ request, reply, params, body }) => {
        const tag = ifMatchTag(
          request.headers['if-match'],
          () => engine.getConfigMap(params.project_id!, params.config_map_name!).entity_tag,
          'config map',
        );
        const c = engine.replaceConfigMap(params.project_id!, params.config_map_name!, body, tag);
        reply.header('etag', c.entity_tag);
        return resource(c, request);
      },
    },
    {
      method: 'DELETE',
      path: '/v2/projects/{project_id}/config_maps/{config_map_name}',
      operationId: 'deleteConfigMap',
      summary: 'Delete a config map',
      tag: 'config maps',
      responses: { 202: { description: 'Deleted; no body.' } },
      handler: async ({ reply, params }) => {
        engine.deleteConfigMap(params.project_id!, params.config_map_name!);
        return reply.code(202).send();
      },
    },
  ];
}
