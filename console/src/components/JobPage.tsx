/** One job: its configuration, its runs (live), and the actions submit, edit, delete. */
import { useState } from 'react';
import { isApiError } from '../../../src/client/index.js';
import { useApp } from '../lib/app-context.js';
import { age, commandLine, useTick } from '../lib/format.js';
import { navigate, paths } from '../lib/router.js';
import { useLive } from '../lib/use-live.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { Empty } from './Empty.js';
import { ErrorBanner } from './ErrorBanner.js';
import { JobDialog } from './JobDialog.js';
import { Link } from './Link.js';
import { RunsTable } from './RunsTable.js';
import { SubmitRunDialog } from './SubmitRunDialog.js';

export function JobPage(props: { name: string }) {
  const { client, project } = useApp();
  const now = useTick();
  const job = useLive(async () => (await client.getJob(project, props.name)).job, [client, project, props.name]);
  const runs = useLive(
    async () => (await client.listAllJobRuns(project, { jobName: props.name })).sort((a, b) => b.created_at.localeCompare(a.created_at)),
    [client, project, props.name],
    { concerns: (m) => m.event === 'run' || m.event === 'instance', delayMs: 700 },
  );
  const [open, setOpen] = useState<'edit' | 'submit' | 'delete' | null>(null);
  if (isApiError(job.error) && job.error.status === 404) {
    return (
      <Empty title={`Job ${props.name} not found`}>
        <p>{job.error.message}</p>
        <Link to={paths.jobs()}>Back to the jobs</Link>
      </Empty>
    );
  }
  const j = job.data;
  return (
    <>
      <p className="crumbs">
        <Link to={paths.jobs()}>Jobs</Link> / <span>{props.name}</span>
      </p>
      <div className="page-head">
        <h1>{props.name}</h1>
        <div className="buttons">
          <button type="button" className="primary" disabled={!j} onClick={() => setOpen('submit')}>
            Submit run
          </button>
          <button type="button" disabled={!j} onClick={() => setOpen('edit')}>
            Edit
          </button>
          <button type="button" className="danger" disabled={!j} onClick={() => setOpen('delete')}>
            Delete
          </button>
        </div>
      </div>
      <ErrorBanner error={job.error} />
      {j ? (
        <dl className="facts">
          <div>
            <dt>Mode</dt>
            <dd>{j.run_mode}</dd>
          </div>
          <div>
            <dt>Image</dt>
            <dd className="mono">{j.image_reference || '—'}</dd>
          </div>
          <div className="wide">
            <dt>Command</dt>
            <dd className="mono">{commandLine(j.run_commands, j.run_arguments) || '—'}</dd>
          </div>
          <div>
            <dt>Array indices</dt>
            <dd className="mono">{j.scale_array_spec}</dd>
          </div>
          <div>
            <dt>CPU / memory</dt>
            <dd>
              {j.scale_cpu_limit} vCPU / {j.scale_memory_limit}
            </dd>
          </div>
          {j.run_mode === 'task' ? (
            <div>
              <dt>Timeout / retries</dt>
              <dd>
                {j.scale_max_execution_time}s / {j.scale_retry_limit}
              </dd>
            </div>
          ) : null}
          <div>
            <dt>Environment</dt>
            <dd>{j.run_env_variables.length} variable(s)</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{age(j.created_at, now)} ago</dd>
          </div>
        </dl>
      ) : null}
      <h2>Runs</h2>
      <ErrorBanner error={runs.error} />
      {runs.data && runs.data.length === 0 ? <Empty title="This job has not run yet" /> : null}
      {runs.data && runs.data.length > 0 ? <RunsTable runs={runs.data} label={`Runs of ${props.name}`} /> : null}
      {open === 'edit' ? (
        <JobDialog
          name={props.name}
          onClose={() => setOpen(null)}
          onSaved={(saved) => {
            job.set(saved);
            setOpen(null);
          }}
        />
      ) : null}
      {open === 'submit' && j ? <SubmitRunDialog job={j} onClose={() => setOpen(null)} onSubmitted={(r) => navigate(paths.run(r.name))} /> : null}
      {open === 'delete' ? (
        <ConfirmDialog
          title={`Delete job ${props.name}?`}
          message={`The job ${props.name} and all its runs are deleted; running instances are stopped.`}
          action="Delete job"
          onClose={() => setOpen(null)}
          onConfirm={async () => {
            await client.deleteJob(project, props.name);
            navigate(paths.jobs());
          }}
        />
      ) : null}
    </>
  );
}
