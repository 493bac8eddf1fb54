/**
 * The OpenAPI 3.1 document of the API, built from the same route table that `app.ts`
 * registers (so the two cannot drift): every route's method, path, path and query parameters,
 * documented headers, request body (schema and media types) and responses, plus the error
 * responses every route can give (400, 401, 404 where there is a path parameter, 500) and the
 * component schemas of schemas.ts.
 */
import { PATH_PARAMS, VERSION_PARAM, pathParamNames, type QueryParamDef, type RouteDef } from './route.js';
import { SCHEMAS } from './schemas.js';

/** The OpenAPI document (a plain JSON object). */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  security: Record<string, string[]>[];
  tags: { name: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

const schemaRef = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

function queryParameter(q: QueryParamDef): Record<string, unknown> {
  const schema: Record<string, unknown> = { type: q.type };
  if (q.minimum !== undefined) schema.minimum = q.minimum;
  if (q.maximum !== undefined) schema.maximum = q.maximum;
  if (q.maxLength !== undefined) schema.maxLength = q.maxLength;
  if (q.pattern) schema.pattern = q.pattern.source;
  if (q.default !== undefined) schema.default = q.default;
  return { name: q.name, in: 'query', required: false, description: q.description, schema };
}

function operation(route: RouteDef): Record<string, unknown> {
  const names = pathParamNames(route.path);
  const parameters: Record<string, unknown>[] = [
    ...names.map((n) => ({ name: n, in: 'path', required: true, description: PATH_PARAMS[n]?.description ?? n, schema: { type: 'string' } })),
    ...[VERSION_PARAM, ...(route.query ?? [])].map(queryParameter),
    ...(route.headers ?? []).map((h) => ({ name: h.name, in: 'header', required: h.required, description: h.description, schema: { type: 'string' } })),
  ];
  const responses: Record<string, unknown> = {};
  for (const [code, r] of Object.entries(route.responses)) {
    const out: Record<string, unknown> = { description: r.description };
    if (r.schema) {
      const media = r.schema === 'Error' ? 'application/json' : (r.mediaType ?? 'application/json');
      out.content = { [media]: { schema: schemaRef(r.schema) } };
      if (r.schema === 'Logs') out.content = { 'application/json': { schema: schemaRef('Logs') }, 'application/x-ndjson': { schema: schemaRef('LogLine') } };
    }
    if (r.headers?.length) out.headers = Object.fromEntries(r.headers.map((h) => [h, { schema: { type: 'string' } }]));
    responses[code] = out;
  }
  const error = (description: string): Record<string, unknown> => ({ description, content: { 'application/json': { schema: schemaRef('Error') } } });
  responses['400'] ??= error('Bad input; each error names the field or parameter (target.name).');
  responses['401'] ??= error('Missing or wrong bearer token.');
  if (names.length) responses['404'] ??= error('The project, job, run, instance, config map or secret does not exist.');
  if (route.body) {
    responses['413'] ??= error('The body is larger than 1 MiB.');
    responses['415'] ??= error(`Content-Type is not ${route.body.mediaTypes.join(' or ')}.`);
  }
  responses['500'] ??= error('A bug; the body carries only a trace id.');
  const op: Record<string, unknown> = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    parameters,
    responses,
  };
  if (route.body) {
    op.requestBody = {
      required: route.body.required,
      content: Object.fromEntries(route.body.mediaTypes.map((m) => [m, { schema: schemaRef(route.body!.schema) }])),
    };
  }
  return op;
}

/** Builds the document for a route table. */
export function buildOpenApiDocument(routes: readonly RouteDef[], version: string): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const r of routes) (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r);
  return {
    openapi: '3.1.0',
    info: {
      title: 'cejobs',
      version,
      description:
        'Self-hosted IBM Cloud Code Engine jobs: the Code Engine API v2 for projects, jobs, job runs, config maps and secrets, plus extensions ' +
        '(instances, events, logs, restart, a change stream, server info). See docs/api.md.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The token in <state home>/token (`ce server token`).' } },
    },
  };
}
