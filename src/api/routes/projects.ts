/**
 * Projects (docs/api.md "Projects"): list, create (202), get by id or name, delete (202).
 * The engine takes only a name; the rest of the body (`tags`, `resource_group_id`) is checked
 * for type here and ignored.
 */
import { CejobsError, type FieldIssue } from '../../domain/errors.js';
import type { Project } from '../../domain/types.js';
import type { FastifyRequest } from 'fastify';
import { paths, withHref } from '../hrefs.js';
import { pageArray, pageLinks, type PageRequest } from '../pagination.js';
import { PAGE_PARAMS, type ApiContext, type RouteDef } from '../route.js';

const PROJECT_FIELDS = ['name', 'tags', 'resource_group_id'];

/** A project as the API shows it (with `href`). */
export function projectResource(p: Project, request: FastifyRequest): Project & { href: string } {
  return withHref(p, request, paths.project(p.id));
}

function checkProjectBody(body: Record<string, unknown>): string {
  const issues: FieldIssue[] = [];
  for (const k of Object.keys(body)) {
    if (!PROJECT_FIELDS.includes(k)) {
      issues.push({ code: 'unknown_field', field: k, message: `${k.slice(0, 80)} is not a field of a project; allowed: ${PROJECT_FIELDS.join(', ')}` });
    }
  }
  if (body.name === undefined) issues.push({ code: 'missing_field', field: 'name', message: 'name is missing: a project needs a name' });
  const tags = body.tags;
  if (tags !== undefined && (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))) {
    issues.push({ code: 'invalid_field', field: 'tags', message: 'tags is not valid: it must be a list of strings' });
  }
  if (body.resource_group_id !== undefined && typeof body.resource_group_id !== 'string') {
    issues.push({ code: 'invalid_field', field: 'resource_group_id', message: 'resource_group_id is not valid: it must be a string' });
  }
  if (issues.length) throw CejobsError.fromIssues(issues);
  return body.name as string; // the engine checks the name (type and rule)
}

export function projectRoutes(api: ApiContext): RouteDef[] {
  const { engine } = api;
  return [
    {
      method: 'GET',
      path: '/v2/projects',
      operationId: 'listProjects',
      summary: 'List projects',
      tag: 'projects',
      query: PAGE_PARAMS,
      responses: { 200: { description: 'A page of projects.', schema: 'ProjectList' } },
      handler: async ({ request, query }) => {
        const page: PageRequest = { limit: query.limit as number, start: query.start as string | undefined };
        const { items, next } = pageArray(engine.listProjects(), (p) => p.name, page);
        return { projects: items.map((p) => projectResource(p, request)), ...pageLinks(request, paths.projects(), page, next) };
      },
    },
    {
      method: 'POST',
      path: '/v2/projects',
      operationId: 'createProject',
      summary: 'Create a project',
      tag: 'projects',
      body: { schema: 'ProjectPrototype', mediaTypes: ['application/json'], required: true },
      responses: { 202: { description: 'The project.', schema: 'Project' }, 409: { description: 'The name is taken.', schema: 'Error' } },
      handler: async ({ request, reply, body }) => {
        const project = engine.createProject(checkProjectBody(body!));
        reply.code(202);
        return projectResource(project, request);
      },
    },
    {
      method: 'GET',
      path: '/v2/projects/{project_id}',
      operationId: 'getProject',
      summary: 'Get a project (by id or name)',
      tag: 'projects',
      responses: { 200: { description: 'The project.', schema: 'Project' } },
      handler: async ({ request, params }) => projectResource(engine.getProject(params.project_id!), request),
    },
    {
      method: 'DELETE',
      path: '/v2/projects/{project_id}',
      operationId: 'deleteProject',
      summary: 'Delete a project with its jobs and runs (instances are stopped)',
      tag: 'projects',
      responses: { 202: { description: 'Deletion started; no body.' } },
      handler: async ({ reply, params }) => {
        engine.deleteProject(params.project_id!);
        return reply.code(202).send();
      },
    },
  ];
}
