/** Create a config map, or edit one (reads it with its entity tag, replaces its data with `If-Match`). */
import { useEffect, useState } from 'react';
import { useApp } from '../lib/app-context.js';
import { Dialog } from './Dialog.js';
import { ErrorBanner } from './ErrorBanner.js';
import { Field } from './Field.js';
import { FormFooter } from './FormFooter.js';
import { KeyValueEditor, toData, toRows, type KV } from './KeyValueEditor.js';

export function ConfigMapDialog(props: { name?: string; onClose: () => void; onSaved: () => void }) {
  const { client, project } = useApp();
  const editing = props.name !== undefined;
  const [name, setName] = useState(props.name ?? '');
  const [rows, setRows] = useState<KV[] | null>(editing ? null : [{ key: '', value: '' }]);
  const [etag, setEtag] = useState('*');
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (props.name === undefined) return;
    client.getConfigMap(project, props.name).then(({ configMap, etag: tag }) => {
      setRows(toRows(configMap.data));
      setEtag(tag);
    }, setError);
  }, [client, project, props.name]);
  return (
    <Dialog title={editing ? `Edit config map ${props.name}` : 'Create config map'} onClose={props.onClose} wide testId="configmap-dialog">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (!rows) return;
          setError(undefined);
          try {
            if (editing) await client.replaceConfigMap(project, props.name!, toData(rows), etag);
            else await client.createConfigMap(project, { name: name.trim(), data: toData(rows) });
            props.onSaved();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <div className="dialog-body">
          <Field label="Name">
            <input required autoFocus={!editing} disabled={editing} value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          {rows ? <KeyValueEditor rows={rows} onChange={setRows} /> : <p className="muted">Loading…</p>}
          <ErrorBanner error={error} title="The config map was not saved" />
        </div>
        <FormFooter onCancel={props.onClose} submit={editing ? 'Save' : 'Create'} disabled={!rows} />
      </form>
    </Dialog>
  );
}
