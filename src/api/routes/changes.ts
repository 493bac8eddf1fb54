/**
 * The change stream (docs/api.md "Change stream"): server-sent events of a project's runs,
 * instances and events (or of one run with `?job_run=`), a `: keep-alive` comment every 15 s.
 * Payloads carry names; clients re-read what they care about. Open streams are bounded (429
 * `too_many_streams` beyond the limit) and everything is cleaned up when the client leaves or
 * the server closes.
 */
import { checkJobRunName } from '../../domain/names.js';
import type { EngineChangeMap } from '../../engine/changes.js';
import type { ApiContext, RouteDef } from '../route.js';
import { StreamWriter } from '../streams.js';

/** One SSE message. `data` is one JSON line (JSON.stringify never emits a newline). */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function changeRoutes(api: ApiContext): RouteDef[] {
  const { engine } = api;
  return [
    {
      method: 'GET',
      path: '/v2/projects/{project_id}/changes',
      operationId: 'streamChanges',
      summary: "Server-sent events of the project's runs, instances and events",
      tag: 'extensions',
      query: [{ name: 'job_run', description: 'Only changes of this job run (it must exist).', type: 'string', maxLength: 53, check: (v) => checkJobRunName(v, 'job_run') }],
      responses: {
        200: { description: 'text/event-stream; each message is `event: run|instance|event` and `data: <ChangeEvent>`.', schema: 'ChangeEvent', mediaType: 'text/event-stream' },
        429: { description: 'Too many open streams.', schema: 'Error' },
      },
      handler: async ({ request, reply, params, query }) => {
        const project = engine.getProject(params.project_id!);
        const only = query.job_run as string | undefined;
        if (only !== undefined) engine.getRun(project.id, only); // 404 for a run that does not exist
        const release = api.streams.acquire();
        const w = new StreamWriter(request, reply);
        const mine = (c: { projectId: string; runName: string }): boolean => c.projectId === project.id && (only === undefined || c.runName === only);
        const send = (event: string, data: unknown): void => void w.write(event === '' ? String(data) : sseMessage(event, data));
        const offs: (() => void)[] = [];
        try {
          w.open('text/event-stream; charset=utf-8');
        } catch (e) {
          release();
          throw e;
        }
        offs.push(
          engine.on('run', (c: EngineChangeMap['run']) => {
            if (!mine(c)) return;
            send('run', { project_id: c.projectId, job_run_name: c.runName, status: c.status, ...(c.deleted ? { deleted: true } : {}) });
          }),
          engine.on('instance', (c: EngineChangeMap['instance']) => {
            if (!mine(c)) return;
            send('instance', { project_id: c.projectId, job_run_name: c.runName, instance_name: c.instanceName, state: c.state });
          }),
          engine.on('event', (c: EngineChangeMap['event']) => {
            if (!mine(c)) return;
            send('event', {
              project_id: c.projectId,
              job_run_name: c.runName,
              ...(c.instanceName === undefined ? {} : { instance_name: c.instanceName }),
              type: c.type,
              reason: c.reason,
              message: c.message,
            });
          }),
        );
        const keepAlive = setInterval(() => send('', ': keep-alive\n\n'), api.keepAliveMs);
        keepAlive.unref();
        const untrack = api.streams.track(() => w.end());
        const cleanup = (): void => {
          clearInterval(keepAlive);
          for (const off of offs) off();
          untrack();
          release();
        };
        if (w.signal.aborted) cleanup();
        else w.signal.addEventListener('abort', cleanup, { once: true });
        send('', ': connected\n\n');
        return reply;
      },
    },
  ];
}
