/**
 * The project's secrets: list (values hidden: the API returns REDACTED), reveal one on request
 * (`?reveal=true`), create, edit, delete.
 */
import { Fragment, useState } from 'react';
import { useApp } from '../lib/app-context.js';
import { age, useTick } from '../lib/format.js';
import { useLive } from '../lib/use-live.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { DataTable } from './DataTable.js';
import { Empty } from './Empty.js';
import { ErrorBanner } from './ErrorBanner.js';
import { RowEditDelete } from './RowEditDelete.js';
import { SecretDialog } from './SecretDialog.js';

export function SecretsPage() {
  const { client, project } = useApp();
  const now = useTick();
  const list = useLive(() => client.listAllSecrets(project), [client, project]);
  const [open, setOpen] = useState<{ kind: 'create' } | { kind: 'edit' | 'delete'; name: string } | null>(null);
  const [revealed, setRevealed] = useState<Record<string, Record<string, string>>>({});
  const [error, setError] = useState<unknown>();
  const done = () => {
    setOpen(null);
    setRevealed({});
    list.reload();
  };
  const toggle = async (name: string) => {
    if (revealed[name]) {
      const { [name]: _gone, ...rest } = revealed;
      setRevealed(rest);
      return;
    }
    try {
      const { secret } = await client.getSecret(project, name, { reveal: true });
      setRevealed((r) => ({ ...r, [name]: secret.data }));
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <div className="page-head">
        <h1>Secrets</h1>
        <button type="button" className="primary" onClick={() => setOpen({ kind: 'create' })}>
          Create secret
        </button>
      </div>
      <p className="muted">Stored encrypted; values stay hidden unless you reveal them.</p>
      <ErrorBanner error={list.error ?? error} />
      {list.data && list.data.length === 0 ? <Empty title="No secrets yet" /> : null}
      {list.data && list.data.length > 0 ? (
        <DataTable label="Secrets" columns={['Name', 'Format', 'Keys', 'Age']} actions>
          {list.data.map((s) => (
            <Fragment key={s.id}>
              <tr>
                <td data-label="Name" className="strong">
                  {s.name}
                </td>
                <td data-label="Format">{s.format}</td>
                <td data-label="Keys" className="mono clip">
                  {Object.keys(s.data).join(', ') || '—'}
                </td>
                <td data-label="Age">{age(s.created_at, now)}</td>
                <td className="actions">
                  <button type="button" className="small" aria-expanded={Boolean(revealed[s.name])} onClick={() => toggle(s.name)} aria-label={`${revealed[s.name] ? 'Hide' : 'Reveal'} values of ${s.name}`}>
                    {revealed[s.name] ? 'Hide' : 'Reveal'}
                  </button>
                  <RowEditDelete name={s.name} onEdit={() => setOpen({ kind: 'edit', name: s.name })} onDelete={() => setOpen({ kind: 'delete', name: s.name })} />
                </td>
              </tr>
              {revealed[s.name] ? (
                <tr className="revealed">
                  <td colSpan={5}>
                    <dl className="kv-list">
                      {Object.entries(revealed[s.name]!).map(([k, v]) => (
                        <div key={k}>
                          <dt>{k}</dt>
                          <dd className="mono">{v}</dd>
                        </div>
                      ))}
                    </dl>
                  </td>
                </tr>
              ) : null}
            </Fragment>
          ))}
        </DataTable>
      ) : null}
      {open?.kind === 'create' ? <SecretDialog onClose={() => setOpen(null)} onSaved={done} /> : null}
      {open?.kind === 'edit' ? <SecretDialog name={open.name} onClose={() => setOpen(null)} onSaved={done} /> : null}
      {open?.kind === 'delete' ? (
        <ConfirmDialog
          title={`Delete secret ${open.name}?`}
          message="Jobs that reference it fail to start new instances until it exists again."
          action="Delete secret"
          onClose={() => setOpen(null)}
          onConfirm={async () => {
            await client.deleteSecret(project, open.name);
            list.reload();
          }}
        />
      ) : null}
    </>
  );
}
