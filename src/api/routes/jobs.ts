/**
 * Jobs (docs/api.md "Jobs"): list, create (201 + ETag), get (+ ETag), merge-patch with a
 * required `If-Match` (428 without, 412 when stale), delete (202, `?orphan_job_runs=true`).
 * GET and list items carry the extension `last_job_run`.
 */
import { ifMatchTag } from '../if-match.js';
import type { FastifyRequest } from 'fastify';
import type { Engine } from '../../engine/engine.js';
import type { Job } from '../../domain/types.js';
import { paths, withHref } from '../hrefs.js';
import { pageLinks, type PageRequest } from '../pagination.js';
import { PAGE_PARAMS, type ApiContext, type RouteDef } from '../route.js';

type JobResource = Job & { href: string; last_job_run?: { name: string; created_at: string } };

function jobResource(engine: Engine, job: Job, request: FastifyRequest, withLastRun: boolean): JobResource {
  const out: JobResource = withHref(job, request, paths.job(job.project_id, job.name));
  if (withLastRun) {
    const last = engine.lastRunOf(job.project_id, job.name);
    if (last) out.last_job_run = last;
  }
  return out;
}

export function jobRoutes(api: ApiContext): RouteDef[] {
  const { engine } = api;
  return [
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/jobs',
      operationId: 'listJobs',
      summary: 'List jobs',
      tag: 'jobs',
      query: PAGE_PARAMS,
      responses: { 200: { description: 'A page of jobs.', schema: 'JobList' } },
      handler: async ({ request, params, query }) => {
        const page: PageRequest = { limit: query.limit as number, start: query.start as string | undefined };
        const result = engine.listJobs(params.project_id!, page);
        return {
          jobs: result.items.map((j) => jobResource(engine, j, request, true)),
          ...pageLinks(request, paths.jobs(params.project_id!), page, result.next),
        };
      },
    },
    {
      method: 'POST',
      path: '/v2/projects/{project_id}/jobs',
      operationId: 'createJob',
      summary: 'Create a job',
      tag: 'jobs',
      body: { schema: 'JobPrototype', mediaTypes: ['application/json'], required: true },
      responses: {
        201: { description: 'The job, defaults filled in.', schema: 'Job', headers: ['ETag'] },
        409: { description: 'The name is taken.', schema: 'Error' },
      },
      handler: async ({ request, reply, params, body }) => {
        const job = engine.createJob(params.project_id!, body);
        reply.code(201).header('etag', job.entity_tag);
        return jobResource(engine, job, request, false);
      },
    },
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/jobs/{job_name}',
      operationId: 'getJob',
      summary: 'Get a job',
      tag: 'jobs',
      responses: { 200: { description: 'The job.', schema: 'Job', headers: ['ETag'] } },
      handler: async ({ request, reply, params }) => {
        const job = engine.getJob(params.project_id!, params.job_name!);
        reply.header('etag', job.entity_tag);
        return jobResource(engine, job, request, true);
      },
    },
    {
      method: 'PATCH',
      path: '/v2/projects/{project_id}/jobs/{job_name}',
      operationId: 'updateJob',
      summary: 'Update a job with a JSON merge patch (If-Match required)',
      tag: 'jobs',
      headers: [{ name: 'If-Match', description: 'The entity_tag of the job (or *).', required: true }],
      body: { schema: 'JobPatch', mediaTypes: ['application/merge-patch+json', 'application/json'], required: true },
      responses: {
        200: { description: 'The updated job.', schema: 'Job', headers: ['ETag'] },
        412: { description: 'If-Match does not match the entity tag.', schema: 'Error' },
        428: { description: 'If-Match is missing.', schema: 'Error' },
      },
      handler: async ({ request, reply, params, body }) => {
        const tag = ifMatchTag(request.headers['if-match'], () => engine.getJob(params.project_id!, params.job_name!).entity_tag);
        const job = engine.updateJob(params.project_id!, params.job_name!, body, tag);
        reply.header('etag', job.entity_tag);
        return jobResource(engine, job, request, false);
      },
    },
    {
      method: 'DELETE',
      path: '/v2/projects/{project_id}/jobs/{job_name}',
      operationId: 'deleteJob',
      summary: 'Delete a job and (unless orphan_job_runs=true) its runs',
      tag: 'jobs',
      query: [{ name: 'orphan_job_runs', description: 'Keep the job\'s runs (extension).', type: 'boolean', default: false }],
      responses: { 202: { description: 'Deletion started; no body.' } },
      handler: async ({ reply, params, query }) => {
        engine.deleteJob(params.project_id!, params.job_name!, { orphanRuns: query.orphan_job_runs === true });
        return reply.code(202).send();
      },
    },
  ];
}
