/** A table of job runs: name, job, status, progress, age. */
import type { ApiJobRun } from '../../../src/client/index.js';
import { age, useTick } from '../lib/format.js';
import { paths } from '../lib/router.js';
import { DataTable } from './DataTable.js';
import { Link } from './Link.js';
import { StatusBadge } from './StatusBadge.js';

export function RunsTable(props: { runs: ApiJobRun[]; showJob?: boolean; label: string }) {
  const now = useTick();
  return (
    <DataTable label={props.label} columns={['Name', ...(props.showJob ? ['Job'] : []), 'Status', 'Indices', 'Succeeded', 'Failed', 'Age']}>
      {props.runs.map((r) => {
        const d = r.status_details;
        return (
          <tr key={r.id}>
            <td data-label="Name">
              <Link to={paths.run(r.name)} className="strong">
                {r.name}
              </Link>
            </td>
            {props.showJob ? <td data-label="Job">{r.job_name ? <Link to={paths.job(r.job_name)}>{r.job_name}</Link> : <span className="muted">standalone</span>}</td> : null}
            <td data-label="Status">
              <StatusBadge status={r.status} />
            </td>
            <td data-label="Indices" className="mono">
              {r.scale_array_spec}
            </td>
            <td data-label="Succeeded">{d.succeeded}</td>
            <td data-label="Failed">{d.failed}</td>
            <td data-label="Age">{age(r.created_at, now)}</td>
          </tr>
        );
      })}
    </DataTable>
  );
}
