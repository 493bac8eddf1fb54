/**
 * One run, live: status and counters, the index grid, instances, events and logs; actions
 * "Rerun failed indices" (lib/rerun.ts), "Restart" (running instances) and "Delete". Each part
 * re-reads only on change messages about this run, coalesced (lib/use-live.ts).
 */
import { useMemo, useState } from 'react';
import { isApiError, type ApiJobRun } from '../../../src/client/index.js';
import { useApp } from '../lib/app-context.js';
import { duration, localTime } from '../lib/format.js';
import { failedIndices, originalArraySize, rerunFailedPrototype } from '../lib/rerun.js';
import { navigate, paths } from '../lib/router.js';
import { useLive } from '../lib/use-live.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { Empty } from './Empty.js';
import { ErrorBanner } from './ErrorBanner.js';
import { EventsList } from './EventsList.js';
import { IndexGrid } from './IndexGrid.js';
import { InstancesTable } from './InstancesTable.js';
import { Link } from './Link.js';
import { LogsPanel } from './LogsPanel.js';
import { StatusBadge } from './StatusBadge.js';

function Counters(props: { run: ApiJobRun }) {
  const d = props.run.status_details;
  const items: [string, number | string][] = [
    ['Requested', d.requested],
    ['Pending', d.pending],
    ['Running', d.running],
    ['Succeeded', d.succeeded],
    ['Failed', d.failed],
    ['Unknown', d.unknown],
  ];
  return (
    <dl className="counters">
      {items.map(([k, v]) => (
        <div key={k} className={`counter c-${k.toLowerCase()}`}>
          <dt>{k}</dt>
          <dd data-testid={`counter-${k.toLowerCase()}`}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function RunPage(props: { name: string }) {
  const { client, project } = useApp();
  const about = (m: { data: { job_run_name: string } }) => m.data.job_run_name === props.name;
  const run = useLive(() => client.getJobRun(project, props.name), [client, project, props.name], { concerns: about, delayMs: 250 });
  const big = (run.data?.status_details.requested ?? 0) > 200;
  const instances = useLive(
    async () => (await client.listInstances(project, props.name)).sort((a, b) => a.index - b.index || a.retry - b.retry),
    [client, project, props.name],
    { concerns: (m) => m.event === 'instance' && about(m), delayMs: big ? 1500 : 400 },
  );
  const events = useLive(() => client.listEvents(project, props.name), [client, project, props.name], {
    concerns: (m) => m.event === 'event' && about(m),
    delayMs: big ? 1500 : 500,
  });
  const [selected, setSelected] = useState<number | null>(null);
  const [logInstance, setLogInstance] = useState('');
  const [confirm, setConfirm] = useState<'delete' | 'restart' | null>(null);
  const [actionError, setActionError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const shownInstances = useMemo(
    () => (instances.data ?? []).filter((i) => selected === null || i.index === selected),
    [instances.data, selected],
  );

  if (isApiError(run.error) && run.error.status === 404) {
    return (
      <Empty title={`Job run ${props.name} not found`}>
        <p>It may have been deleted. {run.error.message}</p>
        <Link to={paths.runs()}>Back to the runs</Link>
      </Empty>
    );
  }
  const r = run.data;
  const failed = r ? failedIndices(r) : '';
  const active = r ? r.status === 'pending' || r.status === 'running' : false;

  const rerun = async () => {
    if (!r) return;
    setBusy(true);
    setActionError(undefined);
    try {
      const created = await client.submitJobRun(project, rerunFailedPrototype(r));
      navigate(paths.run(created.name));
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <p className="crumbs">
        <Link to={paths.runs()}>Job runs</Link> / <span>{props.name}</span>
      </p>
      <div className="page-head">
        <h1>
          {props.name} {r ? <StatusBadge status={r.status} /> : null}
        </h1>
        <div className="buttons">
          <button
            type="button"
            className="primary"
            disabled={!r || !failed || busy}
            onClick={rerun}
            title={failed ? `a new run of indices ${failed} with JOB_ARRAY_SIZE ${r ? originalArraySize(r) : ''}` : 'no failed indices'}
          >
            Rerun failed indices
          </button>
          <button type="button" disabled={!r || r.status_details.running === 0} onClick={() => setConfirm('restart')}>
            Restart
          </button>
          <button type="button" className="danger" disabled={!r} onClick={() => setConfirm('delete')}>
            Delete
          </button>
        </div>
      </div>
      <ErrorBanner error={run.error} />
      <ErrorBanner error={actionError} title="The action failed" />
      {r ? (
        <>
          <dl className="facts">
            <div>
              <dt>Job</dt>
              <dd>{r.job_name ? <Link to={paths.job(r.job_name)}>{r.job_name}</Link> : 'standalone'}</dd>
            </div>
            <div>
              <dt>Mode</dt>
              <dd>{r.run_mode}</dd>
            </div>
            <div>
              <dt>Array indices</dt>
              <dd className="mono">{r.scale_array_spec}</dd>
            </div>
            <div>
              <dt>JOB_ARRAY_SIZE</dt>
              <dd>{originalArraySize(r)}</dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd>{localTime(r.status_details.start_time)}</dd>
            </div>
            <div>
              <dt>Duration</dt>
              <dd>{duration(r.status_details.start_time, r.status_details.completion_time)}</dd>
            </div>
            {failed ? (
              <div>
                <dt>Failed indices</dt>
                <dd className="mono">{failed}</dd>
              </div>
            ) : null}
          </dl>
          <Counters run={r} />
          <section aria-labelledby="grid-title" className="panel">
            <h2 id="grid-title">Indices</h2>
            <IndexGrid details={r.status_details.indices_details} selected={selected} onSelect={setSelected} />
          </section>
        </>
      ) : run.loading ? (
        <p className="muted">Loading…</p>
      ) : null}
      <section aria-labelledby="inst-title" className="panel">
        <h2 id="inst-title">
          Instances {selected !== null ? <span className="muted small">(index {selected} — </span> : null}
          {selected !== null ? (
            <button type="button" className="link small" onClick={() => setSelected(null)}>
              show all
            </button>
          ) : null}
          {selected !== null ? <span className="muted small">)</span> : null}
        </h2>
        <ErrorBanner error={instances.error} />
        {instances.data ? (
          shownInstances.length ? (
            <InstancesTable
              instances={shownInstances}
              onLogs={(n) => {
                setLogInstance(n);
                document.getElementById('logs-title')?.scrollIntoView({ behavior: 'smooth' });
              }}
              onRestart={async (n) => {
                try {
                  await client.restartJobRun(project, props.name, { instance: n });
                } catch (e) {
                  setActionError(e);
                }
              }}
            />
          ) : (
            <p className="muted">No instances yet.</p>
          )
        ) : null}
      </section>
      <section aria-labelledby="logs-title" className="panel">
        <h2 id="logs-title">Logs</h2>
        <LogsPanel
          run={props.name}
          instances={(instances.data ?? []).filter((i) => selected === null || i.index === selected).map((i) => i.name)}
          instance={logInstance}
          onInstance={setLogInstance}
          active={active}
        />
      </section>
      <section aria-labelledby="events-title" className="panel">
        <h2 id="events-title">Events</h2>
        <ErrorBanner error={events.error} />
        {events.data ? <EventsList events={events.data} /> : null}
      </section>
      {confirm === 'delete' ? (
        <ConfirmDialog
          title={`Delete job run ${props.name}?`}
          message="The run and its records are deleted; running instances are stopped."
          action="Delete run"
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            await client.deleteJobRun(project, props.name);
            navigate(r?.job_name ? paths.job(r.job_name) : paths.runs());
          }}
        />
      ) : null}
      {confirm === 'restart' ? (
        <ConfirmDialog
          title={`Restart ${props.name}?`}
          message="Every running instance of this run is stopped and started again."
          action="Restart"
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            await client.restartJobRun(project, props.name);
          }}
        />
      ) : null}
    </>
  );
}
