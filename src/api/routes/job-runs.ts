/**
 * Job runs (docs/api.md "Job runs"): list (`job_name` filter), submit (202; from a job with
 * overrides, or standalone), get, delete (202: instances are stopped, then the run is purged).
 */
import type { FastifyRequest } from 'fastify';
import { checkJobName } from '../../domain/names.js';
import type { JobRun } from '../../domain/types.js';
import { paths, withHref } from '../hrefs.js';
import { pageLinks, type PageRequest } from '../pagination.js';
import { PAGE_PARAMS, type ApiContext, type RouteDef } from '../route.js';

/** A run as the API shows it (with `href`). */
export function runResource(run: JobRun, request: FastifyRequest): JobRun & { href: string } {
  return withHref(run, request, paths.run(run.project_id, run.name));
}

export function jobRunRoutes(api: ApiContext): RouteDef[] {
  const { engine } = api;
  return [
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/job_runs',
      operationId: 'listJobRuns',
      summary: 'List job runs',
      tag: 'job runs',
      query: [
        { name: 'job_name', description: 'Only runs of this job.', type: 'string', maxLength: 63, check: (v) => checkJobName(v, 'job_name') },
        ...PAGE_PARAMS,
      ],
      responses: { 200: { description: 'A page of job runs.', schema: 'JobRunList' } },
      handler: async ({ request, params, query }) => {
        const page: PageRequest = { limit: query.limit as number, start: query.start as string | undefined };
        const jobName = query.job_name as string | undefined;
        const result = engine.listRuns(params.project_id!, { ...page, ...(jobName === undefined ? {} : { jobName }) });
        return {
          job_runs: result.items.map((r) => runResource(r, request)),
          ...pageLinks(request, paths.runs(params.project_id!), page, result.next, { job_name: jobName }),
        };
      },
    },
    {
      method: 'POST',
      path: '/v2/projects/{project_id}/job_runs',
      operationId: 'createJobRun',
      summary: 'Submit a job run (from job_name, or standalone)',
      tag: 'job runs',
      body: { schema: 'JobRunPrototype', mediaTypes: ['application/json'], required: true },
      responses: {
        202: { description: 'The run as created (pending).', schema: 'JobRun' },
        409: { description: 'The run name is taken.', schema: 'Error' },
      },
      handler: async ({ request, reply, params, body }) => {
        const run = engine.submitRun(params.project_id!, body);
        reply.code(202);
        return runResource(run, request);
      },
    },
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/job_runs/{job_run_name}',
      operationId: 'getJobRun',
      summary: 'Get a job run',
      tag: 'job runs',
      responses: { 200: { description: 'The run.', schema: 'JobRun' } },
      handler: async ({ request, params }) => runResource(engine.getRun(params.project_id!, params.job_run_name!), request),
    },
    {
      method: 'DELETE',
      path: '/v2/projects/{project_id}/job_runs/{job_run_name}',
      operationId: 'deleteJobRun',
      summary: 'Delete a job run (its instances are stopped)',
      tag: 'job runs',
      responses: { 202: { description: 'Deletion started; no body.' } },
      handler: async ({ reply, params }) => {
        engine.deleteRun(params.project_id!, params.job_run_name!);
        return reply.code(202).send();
      },
    },
  ];
}
