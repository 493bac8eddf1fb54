/** The run's instances (every attempt of every index): name, state, restarts, age, failure reason. */
import type { Instance } from '../../../src/client/index.js';
import { age, useTick } from '../lib/format.js';
import { DataTable } from './DataTable.js';
import { StatusBadge } from './StatusBadge.js';

export function InstancesTable(props: { instances: Instance[]; onLogs: (name: string) => void; onRestart?: ((name: string) => void) | undefined; limit?: number }) {
  const now = useTick();
  const limit = props.limit ?? 200;
  const shown = props.instances.slice(0, limit);
  return (
    <>
      <DataTable label="Instances" columns={['Name', 'Index', 'State', 'Restarts', 'Exit', 'Age', 'Failure reason']} actions>
        {shown.map((i) => (
          <tr key={i.name} data-instance={i.name}>
            <td data-label="Name" className="mono">
              {i.name}
            </td>
            <td data-label="Index">{i.index}</td>
            <td data-label="State">
              <StatusBadge status={i.state} />
            </td>
            <td data-label="Restarts">{i.restarts}</td>
            <td data-label="Exit">{i.exit_code ?? '—'}</td>
            <td data-label="Age">{age(i.created_at, now)}</td>
            <td data-label="Failure reason" className="clip" title={i.message ?? ''}>
              {i.last_failure_reason ? (
                <>
                  <strong>{i.last_failure_reason}</strong>
                  {i.message ? <span className="muted"> {i.message}</span> : null}
                </>
              ) : (
                '—'
              )}
            </td>
            <td className="actions">
              <button type="button" className="small" onClick={() => props.onLogs(i.name)} aria-label={`Logs of ${i.name}`}>
                Logs
              </button>
              {props.onRestart && i.state === 'running' ? (
                <button type="button" className="small" onClick={() => props.onRestart!(i.name)} aria-label={`Restart ${i.name}`}>
                  Restart
                </button>
              ) : null}
            </td>
          </tr>
        ))}
      </DataTable>
      {props.instances.length > limit ? (
        <p className="muted small">
          Showing {limit} of {props.instances.length} instances: pick an index in the grid to see its instances.
        </p>
      ) : null}
    </>
  );
}
