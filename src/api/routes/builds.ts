/**
 * Builds and build runs (docs/api.md "Builds"): builds are listed, created (201 + ETag), read
 * (+ ETag), updated with a merge patch and a required `If-Match`, deleted (202, with their
 * runs); the source of a local build is uploaded as `application/x-tar` (extension). Build
 * runs are submitted (201, executed at once), listed (`build_name` filters), read, deleted
 * (202, stopping a running one) and their log read (extension).
 */
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { Build, BuildRun } from '../../domain/builds.js';
import { paths, withHref } from '../hrefs.js';
import { ifMatchTag } from '../if-match.js';
import { pageLinks, type PageRequest } from '../pagination.js';
import { PAGE_PARAMS, type ApiContext, type RouteDef } from '../route.js';

/** Largest source upload. */
export const MAX_SOURCE_BYTES = 256 * 1024 * 1024;

const build = (b: Build, request: FastifyRequest): Build & { href: string } => withHref(b, request, paths.build(b.project_id, b.name));
const buildRun = (r: BuildRun, request: FastifyRequest): BuildRun & { href: string } =>
  withHref(r, request, paths.buildRun(r.project_id, r.name));

export function buildRoutes(api: ApiContext): RouteDef[] {
  const { engine } = api;
  return [
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/builds',
      operationId: 'listBuilds',
      summary: 'List builds',
      tag: 'builds',
      query: PAGE_PARAMS,
      responses: { 200: { description: 'A page of builds.', schema: 'BuildList' } },
      handler: async ({ request, params, query }) => {
        const page: PageRequest = { limit: query.limit as number, start: query.start as string | undefined };
        const result = engine.listBuilds(params.project_id!, page);
        return { builds: result.items.map((b) => build(b, request)), ...pageLinks(request, paths.builds(params.project_id!), page, result.next) };
      },
    },
    {
      method: 'POST',
      path: '/v2/projects/{project_id}/builds',
      operationId: 'createBuild',
      summary: 'Create a build',
      tag: 'builds',
      body: { schema: 'BuildPrototype', mediaTypes: ['application/json'], required: true },
      responses: {
        201: { description: 'The build.', schema: 'Build', headers: ['ETag'] },
        409: { description: 'The name is taken.', schema: 'Error' },
        503: { description: 'The server has no builder for its driver.', schema: 'Error' },
      },
      handler: async ({ request, reply, params, body }) => {
        const b = engine.createBuild(params.project_id!, body);
        reply.code(201).header('etag', b.entity_tag);
        return build(b, request);
      },
    },
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/builds/{build_name}',
      operationId: 'getBuild',
      summary: 'Get a build',
      tag: 'builds',
      responses: { 200: { description: 'The build.', schema: 'Build', headers: ['ETag'] } },
      handler: async ({ request, reply, params }) => {
        const b = engine.getBuild(params.project_id!, params.build_name!);
        reply.header('etag', b.entity_tag);
        return build(b, request);
      },
    },
    {
      method: 'PATCH',
      path: '/v2/projects/{project_id}/builds/{build_name}',
      operationId: 'updateBuild',
      summary: 'Update a build with a JSON merge patch (If-Match required)',
      tag: 'builds',
      headers: [{ name: 'If-Match', description: 'The entity_tag of the build (or *).', required: true }],
      body: { schema: 'BuildPatch', mediaTypes: ['application/merge-patch+json', 'application/json'], required: true },
      responses: {
        200: { description: 'The updated build.', schema: 'Build', headers: ['ETag'] },
        412: { description: 'If-Match does not match the entity tag.', schema: 'Error' },
        428: { description: 'If-Match is missing.', schema: 'Error' },
      },
      handler: async ({ request, reply, params, body }) => {
        const tag = ifMatchTag(request.headers['if-match'], () => engine.getBuild(params.project_id!, params.build_name!).entity_tag, 'build');
        const b = engine.updateBuild(params.project_id!, params.build_name!, body, tag);
        reply.header('etag', b.entity_tag);
        return build(b, request);
      },
    },
    {
      method: 'DELETE',
      path: '/v2/projects/{project_id}/builds/{build_name}',
      operationId: 'deleteBuild',
      summary: 'Delete a build and its build runs',
      tag: 'builds',
      responses: { 202: { description: 'Deleted; no body.' } },
      handler: async ({ reply, params }) => {
        engine.deleteBuild(params.project_id!, params.build_name!);
        return reply.code(202).send();
      },
    },
    {
      method: 'PUT',
      path: '/v2/projects/{project_id}/builds/{build_name}/source',
      operationId: 'uploadBuildSource',
      summary: 'Upload the source of a local build as a tar archive (extension)',
      tag: 'extensions',
      body: { schema: 'SourceArchive', mediaTypes: ['application/x-tar'], required: true },
      responses: {
        200: { description: 'Stored; the next build run uses it.', schema: 'SourceUploadResult' },
        400: { description: 'The build is not local, or the archive is larger than 256 MiB.', schema: 'Error' },
      },
      handler: async ({ request, params }) => {
        return engine.uploadBuildSource(params.project_id!, params.build_name!, request.body as Readable, MAX_SOURCE_BYTES);
      },
    },
  ];
}

export function buildRunRoutes(api: ApiContext): RouteDef[] {
  const { engine } = api;
  return [
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/build_runs',
      operationId: 'listBuildRuns',
      summary: 'List build runs',
      tag: 'build runs',
      query: [
        ...PAGE_PARAMS,
        {
          name: 'build_name',
          description: 'Only the runs of this build.',
          type: 'string',
          maxLength: 63,
          pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
          rule: 'it must be a build name (1-63 of [a-z0-9-], alphanumeric at both ends)',
        },
      ],
      responses: { 200: { description: 'A page of build runs.', schema: 'BuildRunList' } },
      handler: async ({ request, params, query }) => {
        const page: PageRequest = { limit: query.limit as number, start: query.start as string | undefined };
        const buildName = query.build_name as string | undefined;
        const result = engine.listBuildRuns(params.project_id!, { ...page, ...(buildName ? { buildName } : {}) });
        return {
          build_runs: result.items.map((r) => buildRun(r, request)),
          ...pageLinks(request, paths.buildRuns(params.project_id!), page, result.next),
        };
      },
    },
    {
      method: 'POST',
      path: '/v2/projects/{project_id}/build_runs',
      operationId: 'createBuildRun',
      summary: 'Submit a build run',
      tag: 'build runs',
      body: { schema: 'BuildRunPrototype', mediaTypes: ['application/json'], required: true },
      responses: {
        201: { description: 'The build run (pending; it runs at once).', schema: 'BuildRun' },
        409: { description: 'The name is taken.', schema: 'Error' },
        503: { description: 'The server has no builder for its driver.', schema: 'Error' },
      },
      handler: async ({ request, reply, params, body }) => {
        const r = engine.submitBuildRun(params.project_id!, body);
        reply.code(201);
        return buildRun(r, request);
      },
    },
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/build_runs/{build_run_name}',
      operationId: 'getBuildRun',
      summary: 'Get a build run',
      tag: 'build runs',
      responses: { 200: { description: 'The build run.', schema: 'BuildRun' } },
      handler: async ({ request, params }) => buildRun(engine.getBuildRun(params.project_id!, params.build_run_name!), request),
    },
    {
      method: 'DELETE',
      path: '/v2/projects/{project_id}/build_runs/{build_run_name}',
      operationId: 'deleteBuildRun',
      summary: 'Delete a build run (stopping it when it runs)',
      tag: 'build runs',
      responses: { 202: { description: 'Deleted; no body.' } },
      handler: async ({ reply, params }) => {
        engine.deleteBuildRun(params.project_id!, params.build_run_name!);
        return reply.code(202).send();
      },
    },
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/build_runs/{build_run_name}/logs',
      operationId: 'getBuildRunLogs',
      summary: 'The log of a build run (extension)',
      tag: 'extensions',
      query: [{ name: 'tail', description: 'Only the last n lines.', type: 'integer', minimum: 1, maximum: 100000 }],
      responses: { 200: { description: 'The log lines.', schema: 'BuildRunLog' } },
      handler: async ({ params, query }) => ({
        lines: await engine.readBuildRunLog(params.project_id!, params.build_run_name!, query.tail as number | undefined),
      }),
    },
  ];
}
