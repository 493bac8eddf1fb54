/**
 * Server info (`GET /v2/server`) and this API's OpenAPI document (`GET /v2/openapi.json`).
 */
import type { ApiContext, RouteDef } from '../route.js';

export function serverRoutes(api: ApiContext, openapi: () => unknown): RouteDef[] {
  return [
    {
      method: 'GET',
      path: '/v2/server',
      operationId: 'getServer',
      summary: 'What this server is: version, driver and its capabilities, pid, state home, start time, url',
      tag: 'server',
      responses: { 200: { description: 'Server info.', schema: 'ServerInfo' } },
      handler: async () => api.server(),
    },
    {
      method: 'GET',
      path: '/v2/openapi.json',
      operationId: 'getOpenApi',
      summary: "This API's OpenAPI 3.1 document",
      tag: 'server',
      responses: { 200: { description: 'The OpenAPI document.', schema: 'OpenApiDocument' } },
      handler: async () => openapi(),
    },
  ];
}
