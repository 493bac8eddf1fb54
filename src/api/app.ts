/**
 * The REST API of cejobs (docs/api.md) as a Fastify instance over an `Engine`.
 *
 * `buildApp` registers every route of one table (`routeTable`), which is also what the OpenAPI
 * document (`GET /v2/openapi.json`) is built from. It never listens: tests use `app.inject`,
 * the server module calls `app.listen`. Closing the app ends open streams; it does not close
 * the engine.
 *
 * Pipeline of a request: auth (`onRequest`, 401) → body parsing (JSON and merge-patch JSON
 * only, ≤ 1 MiB; else 415 / 413 / 400 `invalid_json`) → the route's checks of path and query
 * parameters and of the body's media type and shape (400 naming the parameter, 415) → the
 * handler (the engine validates resource bodies) → errors through one handler (errors.ts).
 * Unknown paths are 404 `route_not_found`; a known path with another method is 405 with `Allow`.
 */
import crypto from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { VERSION } from '../shared/version.js';
import { installAuth } from './auth.js';
import { installConsole } from './console.js';
import { ApiError, installErrorHandler, internalErrorSummary, sendError } from './errors.js';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.js';
import { checkBody, checkPathParams, checkQuery, fastifyPath, pathMatcher, type ApiContext, type RouteDef } from './route.js';
import { changeRoutes } from './routes/changes.js';
import { configMapRoutes } from './routes/config-maps.js';
import { jobRunRoutes } from './routes/job-runs.js';
import { jobRoutes } from './routes/jobs.js';
import { projectRoutes } from './routes/projects.js';
import { runExtensionRoutes } from './routes/run-extensions.js';
import { buildRoutes, buildRunRoutes } from './routes/builds.js';
import { secretRoutes } from './routes/secrets.js';
import { serverRoutes } from './routes/server.js';
import { StreamLimiter } from './streams.js';
import type { ApiDeps } from './types.js';
import { firstDuplicateKey } from './json.js';

export type { ApiDeps, ServerInfo } from './types.js';
export type { RouteDef } from './route.js';
export type { OpenApiDocument } from './openapi.js';

/** Largest request body. */
export const BODY_LIMIT = 1024 * 1024;
/** Default bound on open streams (change streams and log follows). */
export const DEFAULT_MAX_STREAMS = 100;
/** Default interval of change-stream keep-alive comments. */
export const DEFAULT_KEEP_ALIVE_MS = 15_000;

const registry = new WeakMap<FastifyInstance, readonly { method: string; url: string }[]>();

/**
 * The routes Fastify actually registered on an app from `buildApp` (method and Fastify URL,
 * e.g. `/v2/projects/:project_id`), as seen by its `onRoute` hook; a test compares them with
 * the OpenAPI document's paths.
 */
export function registeredRoutes(app: FastifyInstance): readonly { method: string; url: string }[] {
  return registry.get(app) ?? [];
}

/** Every route of the API, in documentation order (the single source of registration and OpenAPI). */
export function routeTable(api: ApiContext): RouteDef[] {
  let doc: OpenApiDocument | undefined;
  const routes: RouteDef[] = [
    ...projectRoutes(api),
    ...jobRoutes(api),
    ...jobRunRoutes(api),
    ...configMapRoutes(api),
    ...secretRoutes(api),
    ...buildRoutes(api),
    ...buildRunRoutes(api),
    ...runExtensionRoutes(api),
    ...changeRoutes(api),
    ...serverRoutes(api, () => (doc ??= buildOpenApiDocument(routes, VERSION))),
  ];
  return routes;
}

/** Builds the app (routes, auth, errors); see the module comment. */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const logger = deps.logger ?? false;
  const onInternalError =
    deps.onInternalError ??
    ((error: unknown, trace: string) => {
      if (!logger) console.error(`[cejobs api] internal error (trace ${trace}): ${internalErrorSummary(error)}`);
    });
  const streams = new StreamLimiter(deps.limits?.maxStreams ?? DEFAULT_MAX_STREAMS);
  const api: ApiContext = {
    engine: deps.engine,
    server: deps.server,
    streams,
    keepAliveMs: deps.limits?.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
    onInternalError,
  };
  const app = Fastify({
    ...(deps.https ? { https: { cert: deps.https.cert, key: deps.https.key } } : {}),
    logger,
    bodyLimit: BODY_LIMIT,
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: 1024 },
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
    frameworkErrors: (error, request, reply) => sendError(request, reply, error, onInternalError),
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'string' }, (_request, text, done) => {
    const s = typeof text === 'string' ? text : text.toString('utf8');
    if (s.trim() === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(s, (key, value: unknown) => {
        if (key === '__proto__') throw new SyntaxError('__proto__ is not allowed');
        return value;
      });
    } catch {
      return done(new ApiError('invalid_json', 'the request body is not valid JSON', { field: 'body' }), undefined);
    }
    const duplicate = firstDuplicateKey(s);
    if (duplicate !== undefined) {
      const shown = JSON.stringify(duplicate.length > 80 ? `${duplicate.slice(0, 80)}…` : duplicate);
      return done(new ApiError('invalid_json', `the request body is not valid JSON: the key ${shown} appears twice in one object`, { field: 'body' }), undefined);
    }
    done(null, parsed);
  });

  // Source uploads stay a stream (the engine enforces their own size limit).
  app.addContentTypeParser('application/x-tar', (_request, payload, done) => done(null, payload));

  installConsole(app); // the web console's public static files, outside /v2 (console.ts)
  installAuth(app, deps.token);
  installErrorHandler(app, onInternalError);

  const registered: { method: string; url: string }[] = [];
  app.addHook('onRoute', (opts) => {
    for (const method of [opts.method].flat()) registered.push({ method, url: opts.url });
  });
  registry.set(app, registered);

  const routes = routeTable(api);
  for (const def of routes) {
    app.route({
      method: def.method,
      url: fastifyPath(def.path),
      handler: async (request, reply) => {
        const params = checkPathParams(def.path, request.params);
        const query = checkQuery(def.query ?? [], request.query);
        const body = def.body ? checkBody(def.body, request) : undefined;
        return def.handler({ request, reply, params, query, body });
      },
    });
  }

  const matchers = routes.map((r) => ({ method: r.method, re: pathMatcher(r.path) }));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(matchers.filter((m) => m.re.test(path)).map((m) => m.method))];
    const error = allowed.length
      ? new ApiError('method_not_allowed', `${request.method} is not allowed on ${path.slice(0, 200)}; allowed: ${allowed.join(', ')}`, {
          headers: { allow: allowed.join(', ') },
        })
      : new ApiError('route_not_found', `no route ${request.method} ${path.slice(0, 200)}; see GET /v2/openapi.json`);
    return sendError(request, reply, error, onInternalError);
  });

  app.addHook('onClose', async () => streams.closeAll());
  return app;
}
