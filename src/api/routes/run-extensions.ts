/**
 * Extensions on a job run (docs/api.md "Extensions"): its instances, its events, its logs
 * (JSON, or followed as NDJSON until the run finishes or is deleted) and restart.
 */
import { CejobsError } from '../../domain/errors.js';
import type { Engine } from '../../engine/engine.js';
import type { TaggedRecord } from '../../engine/run-logs.js';
import { INSTANCE_PARAM, type ApiContext, type RouteDef } from '../route.js';
import { StreamWriter } from '../streams.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** Throws 404 naming `instance` when the run has no instance of that name. */
function requireInstance(engine: Engine, project: string, run: string, instance: string | undefined): void {
  if (instance === undefined) return;
  if (!engine.listInstances(project, run).some((i) => i.name === instance)) {
    const message = `instance: instance '${instance}' was not found in job run '${run}'.`;
    throw new CejobsError('not_found', message, [{ code: 'not_found', field: 'instance', message }]);
  }
}

export function runExtensionRoutes(api: ApiContext): RouteDef[] {
  const { engine } = api;
  const base = '/v2/projects/{project_id}/job_runs/{job_run_name}';
  return [
    {
      method: 'GET',
      path: `${base}/instances`,
      operationId: 'listJobRunInstances',
      summary: "A run's instances (all retries), by index then retry",
      tag: 'extensions',
      responses: { 200: { description: 'The instances.', schema: 'InstanceList' } },
      handler: async ({ params }) => ({ instances: engine.listInstances(params.project_id!, params.job_run_name!) }),
    },
    {
      method: 'GET',
      path: `${base}/events`,
      operationId: 'listJobRunEvents',
      summary: "A run's events (or one instance's), oldest first",
      tag: 'extensions',
      query: [INSTANCE_PARAM],
      responses: { 200: { description: 'The events.', schema: 'EventList' } },
      handler: async ({ params, query }) => {
        const instance = query.instance as string | undefined;
        requireInstance(engine, params.project_id!, params.job_run_name!, instance);
        return { events: engine.listEvents(params.project_id!, params.job_run_name!, instance) };
      },
    },
    {
      method: 'GET',
      path: `${base}/logs`,
      operationId: 'getJobRunLogs',
      summary: "A run's logs; with follow=true an NDJSON stream until the run is finished or deleted",
      tag: 'extensions',
      query: [
        INSTANCE_PARAM,
        { name: 'tail', description: 'Only the last N records of each instance (absent: all).', type: 'integer', minimum: 0 },
        { name: 'follow', description: 'Stream records as they are written (application/x-ndjson).', type: 'boolean', default: false },
      ],
      responses: {
        200: { description: 'The logs (JSON), or with follow=true one LogLine per line (NDJSON).', schema: 'Logs' },
        429: { description: 'Too many open streams (follow=true).', schema: 'Error' },
      },
      handler: async ({ request, reply, params, query }) => {
        const project = params.project_id!;
        const run = params.job_run_name!;
        const instance = query.instance as string | undefined;
        const tail = query.tail as number | undefined;
        if (query.follow !== true) {
          const logs = await engine.readLogs(project, run, { instance, tail });
          return {
            logs: logs.map((l) => ({
              instance: l.instance,
              container: l.container,
              records: l.records.map((r) => ({ time: iso(r.time), stream: r.stream, text: r.text })),
            })),
          };
        }
        requireInstance(engine, project, run, instance);
        const release = api.streams.acquire();
        try {
          const w = new StreamWriter(request, reply);
          const records = engine.followLogs(project, run, { instance, tail, signal: w.signal });
          w.open('application/x-ndjson; charset=utf-8');
          const untrack = api.streams.track(() => w.end());
          void pump(w, records, api, request.id).finally(() => {
            untrack();
            release();
          });
          return reply;
        } catch (e) {
          release();
          throw e;
        }
      },
    },
    {
      method: 'POST',
      path: `${base}/restart`,
      operationId: 'restartJobRun',
      summary: 'Restart the running instances of a run (or the one named)',
      tag: 'extensions',
      body: { schema: 'RestartRequest', mediaTypes: ['application/json'], required: false },
      responses: { 202: { description: 'The instances that were restarted.', schema: 'RestartResult' } },
      handler: async ({ reply, params, body }) => {
        const b = body ?? {};
        const unknown = Object.keys(b).filter((k) => k !== 'instance');
        if (unknown.length) {
          throw CejobsError.fromIssues(
            unknown.map((k) => ({ code: 'unknown_field' as const, field: k, message: `${k.slice(0, 80)} is not a field of a restart request; allowed: instance` })),
          );
        }
        if (b.instance !== undefined && (typeof b.instance !== 'string' || !INSTANCE_PARAM.pattern!.test(b.instance) || b.instance.length > 80)) {
          throw new CejobsError('invalid_field', 'instance is not valid: it must be an instance name (<job run>-<index>-<retry>)', [
            { code: 'invalid_field', field: 'instance', message: 'instance is not valid: it must be an instance name (<job run>-<index>-<retry>)' },
          ]);
        }
        const restarted = engine.restartRun(params.project_id!, params.job_run_name!, b.instance as string | undefined);
        reply.code(202);
        return { restarted };
      },
    },
  ];
}

/** Writes followed records as NDJSON lines until the run ends, the client leaves or the server closes. */
async function pump(w: StreamWriter, records: AsyncGenerator<TaggedRecord>, api: ApiContext, trace: string): Promise<void> {
  try {
    for await (const { instance, container, record } of records) {
      const line = JSON.stringify({ instance, container, time: iso(record.time), stream: record.stream, text: record.text });
      if (!(await w.write(`${line}\n`))) break;
    }
  } catch (e) {
    // headers are sent: the client sees the stream end early; the detail goes to the log
    api.onInternalError(e, trace);
  } finally {
    await records.return(undefined).catch(() => {});
    w.end();
  }
}
