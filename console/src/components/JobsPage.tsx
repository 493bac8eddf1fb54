/** The project's jobs: name, mode, image or command, last run, age; create, submit, edit, delete. */
import { useState } from 'react';
import type { ApiJob } from '../../../src/client/index.js';
import { useApp } from '../lib/app-context.js';
import { age, commandLine, useTick } from '../lib/format.js';
import { navigate, paths } from '../lib/router.js';
import { useLive } from '../lib/use-live.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { DataTable } from './DataTable.js';
import { Empty } from './Empty.js';
import { ErrorBanner } from './ErrorBanner.js';
import { JobDialog } from './JobDialog.js';
import { Link } from './Link.js';
import { RowEditDelete } from './RowEditDelete.js';
import { SubmitRunDialog } from './SubmitRunDialog.js';

type Open = { kind: 'create' } | { kind: 'edit'; name: string } | { kind: 'submit'; job: ApiJob } | { kind: 'delete'; name: string } | null;

export function JobsPage() {
  const { client, project } = useApp();
  const now = useTick();
  // A new run changes a job's "last run": re-read the list on run messages (coalesced).
  const jobs = useLive((_s) => client.listAllJobs(project), [client, project], { concerns: (m) => m.event === 'run', delayMs: 1000 });
  const [open, setOpen] = useState<Open>(null);
  const list = jobs.data ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Jobs</h1>
        <button type="button" className="primary" onClick={() => setOpen({ kind: 'create' })}>
          Create job
        </button>
      </div>
      <ErrorBanner error={jobs.error} title="Could not list the jobs" />
      {jobs.loading && !jobs.data ? <p className="muted">Loading…</p> : null}
      {jobs.data && list.length === 0 ? (
        <Empty title="No jobs in this project yet">
          <p>A job is a template for batch work: an image or a command, its environment and resources, and how many array indices run.</p>
          <button type="button" className="primary" onClick={() => setOpen({ kind: 'create' })}>
            Create your first job
          </button>
        </Empty>
      ) : null}
      {list.length > 0 ? (
        <DataTable label="Jobs" columns={['Name', 'Mode', 'Image or command', 'Last run', 'Age']} actions>
          {list.map((j) => (
            <tr key={j.id}>
              <td data-label="Name">
                <Link to={paths.job(j.name)} className="strong">
                  {j.name}
                </Link>
              </td>
              <td data-label="Mode">{j.run_mode}</td>
              <td data-label="Image or command" className="mono clip" title={j.image_reference || commandLine(j.run_commands, j.run_arguments)}>
                {j.image_reference || commandLine(j.run_commands, j.run_arguments) || '—'}
              </td>
              <td data-label="Last run">{j.last_job_run ? <Link to={paths.run(j.last_job_run.name)}>{j.last_job_run.name}</Link> : <span className="muted">never</span>}</td>
              <td data-label="Age">{age(j.created_at, now)}</td>
              <td className="actions">
                <button type="button" className="small" onClick={() => setOpen({ kind: 'submit', job: j })} aria-label={`Submit a run of ${j.name}`}>
                  Submit run
                </button>
                <RowEditDelete name={j.name} onEdit={() => setOpen({ kind: 'edit', name: j.name })} onDelete={() => setOpen({ kind: 'delete', name: j.name })} />
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {open?.kind === 'create' || open?.kind === 'edit' ? (
        <JobDialog
          {...(open.kind === 'edit' ? { name: open.name } : {})}
          onClose={() => setOpen(null)}
          onSaved={() => {
            setOpen(null);
            jobs.reload();
          }}
        />
      ) : null}
      {open?.kind === 'submit' ? <SubmitRunDialog job={open.job} onClose={() => setOpen(null)} onSubmitted={(r) => navigate(paths.run(r.name))} /> : null}
      {open?.kind === 'delete' ? (
        <ConfirmDialog
          title={`Delete job ${open.name}?`}
          message={`The job ${open.name} and all its runs are deleted; running instances are stopped.`}
          action="Delete job"
          onClose={() => setOpen(null)}
          onConfirm={async () => {
            await client.deleteJob(project, open.name);
            jobs.reload();
          }}
        />
      ) : null}
    </>
  );
}
