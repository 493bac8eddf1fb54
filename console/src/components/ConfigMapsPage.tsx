/** The project's config maps: list, create, edit, delete. */
import { useState } from 'react';
import { useApp } from '../lib/app-context.js';
import { age, useTick } from '../lib/format.js';
import { useLive } from '../lib/use-live.js';
import { ConfigMapDialog } from './ConfigMapDialog.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { DataTable } from './DataTable.js';
import { Empty } from './Empty.js';
import { ErrorBanner } from './ErrorBanner.js';
import { RowEditDelete } from './RowEditDelete.js';

export function ConfigMapsPage() {
  const { client, project } = useApp();
  const now = useTick();
  const list = useLive(() => client.listAllConfigMaps(project), [client, project]);
  const [open, setOpen] = useState<{ kind: 'create' } | { kind: 'edit' | 'delete'; name: string } | null>(null);
  const done = () => {
    setOpen(null);
    list.reload();
  };
  return (
    <>
      <div className="page-head">
        <h1>Config maps</h1>
        <button type="button" className="primary" onClick={() => setOpen({ kind: 'create' })}>
          Create config map
        </button>
      </div>
      <p className="muted">Key/value settings that jobs read as environment variables or mounted files. Runs read the values current when an instance starts.</p>
      <ErrorBanner error={list.error} title="Could not list the config maps" />
      {list.data && list.data.length === 0 ? <Empty title="No config maps yet" /> : null}
      {list.data && list.data.length > 0 ? (
        <DataTable label="Config maps" columns={['Name', 'Keys', 'Age']} actions>
          {list.data.map((c) => (
            <tr key={c.id}>
              <td data-label="Name" className="strong">
                {c.name}
              </td>
              <td data-label="Keys" className="mono clip">
                {Object.keys(c.data).join(', ') || '—'}
              </td>
              <td data-label="Age">{age(c.created_at, now)}</td>
              <td className="actions">
                <RowEditDelete name={c.name} onEdit={() => setOpen({ kind: 'edit', name: c.name })} onDelete={() => setOpen({ kind: 'delete', name: c.name })} />
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {open?.kind === 'create' ? <ConfigMapDialog onClose={() => setOpen(null)} onSaved={done} /> : null}
      {open?.kind === 'edit' ? <ConfigMapDialog name={open.name} onClose={() => setOpen(null)} onSaved={done} /> : null}
      {open?.kind === 'delete' ? (
        <ConfirmDialog
          title={`Delete config map ${open.name}?`}
          message="Jobs that reference it fail to start new instances until it exists again."
          action="Delete config map"
          onClose={() => setOpen(null)}
          onConfirm={async () => {
            await client.deleteConfigMap(project, open.name);
            list.reload();
          }}
        />
      ) : null}
    </>
  );
}
