/**
 * Absolute URLs of resources, built from the request's protocol and `Host` (docs/api.md:
 * "Hrefs are absolute, built from the request's Host"). A `Host` that is not a plain
 * `host[:port]` is not echoed back: `localhost` stands in for it.
 */
import type { FastifyRequest } from 'fastify';

const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** `http://host:port` of the request (no trailing slash). */
export function baseUrl(request: FastifyRequest): string {
  const host = request.headers.host;
  const safe = typeof host === 'string' && host.length <= 255 && HOST.test(host) ? host : 'localhost';
  return `${request.protocol}://${safe}`;
}

const seg = (s: string): string => encodeURIComponent(s);

/** Paths (relative to the base URL) of the API's resources. */
export const paths = {
  projects: (): string => '/v2/projects',
  project: (projectId: string): string => `/v2/projects/${seg(projectId)}`,
  jobs: (projectId: string): string => `/v2/projects/${seg(projectId)}/jobs`,
  job: (projectId: string, name: string): string => `/v2/projects/${seg(projectId)}/jobs/${seg(name)}`,
  runs: (projectId: string): string => `/v2/projects/${seg(projectId)}/job_runs`,
  run: (projectId: string, name: string): string => `/v2/projects/${seg(projectId)}/job_runs/${seg(name)}`,
  configMaps: (projectId: string): string => `/v2/projects/${seg(projectId)}/config_maps`,
  configMap: (projectId: string, name: string): string => `/v2/projects/${seg(projectId)}/config_maps/${seg(name)}`,
  secrets: (projectId: string): string => `/v2/projects/${seg(projectId)}/secrets`,
  secret: (projectId: string, name: string): string => `/v2/projects/${seg(projectId)}/secrets/${seg(name)}`,
  builds: (projectId: string): string => `/v2/projects/${seg(projectId)}/builds`,
  build: (projectId: string, name: string): string => `/v2/projects/${seg(projectId)}/builds/${seg(name)}`,
  buildRuns: (projectId: string): string => `/v2/projects/${seg(projectId)}/build_runs`,
  buildRun: (projectId: string, name: string): string => `/v2/projects/${seg(projectId)}/build_runs/${seg(name)}`,
};

/** Adds `href` (absolute) to a resource. */
export function withHref<T extends object>(resource: T, request: FastifyRequest, path: string): T & { href: string } {
  return { ...resource, href: `${baseUrl(request)}${path}` };
}
