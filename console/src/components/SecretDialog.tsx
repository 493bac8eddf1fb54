/**
 * Create a secret (format, then its keys) or edit one. Editing reads the values with
 * `reveal=true` (a replace sends all data) but shows them as password fields until "Show values".
 */
import { useEffect, useState } from 'react';
import { SECRET_FORMATS, type SecretFormat } from '../../../src/client/index.js';
import { useApp } from '../lib/app-context.js';
import { Dialog } from './Dialog.js';
import { ErrorBanner } from './ErrorBanner.js';
import { Field } from './Field.js';
import { FormFooter } from './FormFooter.js';
import { KeyValueEditor, toData, toRows, type KV } from './KeyValueEditor.js';

const TEMPLATES: Record<SecretFormat, string[]> = {
  generic: [''],
  registry: ['server', 'username', 'password', 'email'],
  basic_auth: ['username', 'password'],
  ssh_auth: ['ssh_key', 'known_hosts'],
  tls: ['tls_cert', 'tls_key'],
  hmac_auth: ['access_key_id', 'secret_access_key'],
};

const template = (f: SecretFormat): KV[] => TEMPLATES[f].map((key) => ({ key, value: '' }));

export function SecretDialog(props: { name?: string; onClose: () => void; onSaved: () => void }) {
  const { client, project } = useApp();
  const editing = props.name !== undefined;
  const [name, setName] = useState(props.name ?? '');
  const [format, setFormat] = useState<SecretFormat>('generic');
  const [rows, setRows] = useState<KV[] | null>(editing ? null : template('generic'));
  const [etag, setEtag] = useState('*');
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (props.name === undefined) return;
    client.getSecret(project, props.name, { reveal: true }).then(({ secret, etag: tag }) => {
      setFormat(secret.format);
      setRows(toRows(secret.data));
      setEtag(tag);
    }, setError);
  }, [client, project, props.name]);
  return (
    <Dialog title={editing ? `Edit secret ${props.name}` : 'Create secret'} onClose={props.onClose} wide testId="secret-dialog">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (!rows) return;
          setError(undefined);
          try {
            if (editing) await client.replaceSecret(project, props.name!, { data: toData(rows) }, etag);
            else await client.createSecret(project, { name: name.trim(), format, data: toData(rows) });
            props.onSaved();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <div className="dialog-body">
          <div className="pair">
            <Field label="Name">
              <input required autoFocus={!editing} disabled={editing} value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            <Field label="Format" hint={editing ? 'the format of a secret cannot change' : undefined}>
              <select
                value={format}
                disabled={editing}
                onChange={(e) => {
                  const f = e.target.value as SecretFormat;
                  setFormat(f);
                  setRows(template(f));
                }}
              >
                {SECRET_FORMATS.map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          {rows ? <KeyValueEditor rows={rows} onChange={setRows} secret fixedKeys={format !== 'generic'} /> : <p className="muted">Loading…</p>}
          <ErrorBanner error={error} title="The secret was not saved" />
        </div>
        <FormFooter onCancel={props.onClose} submit={editing ? 'Save' : 'Create'} disabled={!rows} />
      </form>
    </Dialog>
  );
}
