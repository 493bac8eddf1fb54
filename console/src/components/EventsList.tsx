/** The run's events, newest first: type, reason, message, instance, count. */
import type { RunEvent } from '../../../src/client/index.js';
import { age, useTick } from '../lib/format.js';
import { DataTable } from './DataTable.js';

export function EventsList(props: { events: RunEvent[]; limit?: number }) {
  const now = useTick();
  const sorted = [...props.events].sort((a, b) => b.last_timestamp.localeCompare(a.last_timestamp)).slice(0, props.limit ?? 100);
  if (sorted.length === 0) return <p className="muted">No events yet.</p>;
  return (
    <DataTable label="Events" columns={['Type', 'Reason', 'Message', 'Instance', 'Count', 'Last seen']} compact scroll>
      {sorted.map((e) => (
        <tr key={e.id} className={e.type === 'Warning' ? 'warn' : undefined}>
          <td data-label="Type">{e.type}</td>
          <td data-label="Reason">
            <strong>{e.reason}</strong>
          </td>
          <td data-label="Message">{e.message}</td>
          <td data-label="Instance" className="mono">
            {e.instance_name ?? '—'}
          </td>
          <td data-label="Count">{e.count}</td>
          <td data-label="Last seen">{age(e.last_timestamp, now)} ago</td>
        </tr>
      ))}
    </DataTable>
  );
}
