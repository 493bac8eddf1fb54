/** Every run of the project, newest first, live; and "Submit a standalone run". */
import { useState } from 'react';
import { useApp } from '../lib/app-context.js';
import { navigate, paths } from '../lib/router.js';
import { useLive } from '../lib/use-live.js';
import { Empty } from './Empty.js';
import { ErrorBanner } from './ErrorBanner.js';
import { RunsTable } from './RunsTable.js';
import { SubmitRunDialog } from './SubmitRunDialog.js';

export function RunsPage() {
  const { client, project } = useApp();
  const runs = useLive(async () => (await client.listAllJobRuns(project)).sort((a, b) => b.created_at.localeCompare(a.created_at)), [client, project], {
    concerns: (m) => m.event === 'run' || m.event === 'instance',
    delayMs: 1000,
  });
  const [submitting, setSubmitting] = useState(false);
  return (
    <>
      <div className="page-head">
        <h1>Job runs</h1>
        <button type="button" className="primary" onClick={() => setSubmitting(true)}>
          Submit standalone run
        </button>
      </div>
      <ErrorBanner error={runs.error} title="Could not list the runs" />
      {runs.loading && !runs.data ? <p className="muted">Loading…</p> : null}
      {runs.data && runs.data.length === 0 ? (
        <Empty title="No job runs yet">
          <p>Submit a run from a job on the Jobs page, or a standalone run from an image or a command.</p>
        </Empty>
      ) : null}
      {runs.data && runs.data.length > 0 ? <RunsTable runs={runs.data} showJob label="Job runs" /> : null}
      {submitting ? <SubmitRunDialog onClose={() => setSubmitting(false)} onSubmitted={(r) => navigate(paths.run(r.name))} /> : null}
    </>
  );
}
