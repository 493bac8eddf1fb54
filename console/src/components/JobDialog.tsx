/**
 * Create or edit a job with every runtime field of the API. Editing reads the job first and
 * sends a merge patch with its entity tag (`If-Match`), so a concurrent change is a clear 412.
 * Max execution time and retries exist only in task mode and are hidden in daemon mode.
 */
import { useEffect, useState } from 'react';
import type { ApiJob } from '../../../src/client/index.js';
import { SERVICE_ACCOUNTS } from '../../../src/domain/types.js';
import { useApp } from '../lib/app-context.js';
import { formToPatch, formToPrototype, jobToForm, newJobForm, type JobForm } from '../lib/job-form.js';
import { Dialog } from './Dialog.js';
import { EnvEditor } from './EnvEditor.js';
import { ErrorBanner } from './ErrorBanner.js';
import { Field } from './Field.js';
import { FormFooter } from './FormFooter.js';
import { MountsEditor } from './MountsEditor.js';
import { ResourceFields } from './ResourceFields.js';

export function JobDialog(props: { name?: string; onClose: () => void; onSaved: (job: ApiJob) => void }) {
  const { client, project } = useApp();
  const editing = props.name !== undefined;
  const [form, setForm] = useState<JobForm | null>(editing ? null : newJobForm());
  const [etag, setEtag] = useState('*');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [refs, setRefs] = useState<{ configMaps: string[]; secrets: string[]; registry: string[] }>({ configMaps: [], secrets: [], registry: [] });

  useEffect(() => {
    if (props.name === undefined) return;
    client.getJob(project, props.name).then(
      ({ job, etag: tag }) => {
        setForm(jobToForm(job));
        setEtag(tag);
      },
      setError,
    );
  }, [client, project, props.name]);
  useEffect(() => {
    Promise.all([client.listAllConfigMaps(project), client.listAllSecrets(project)]).then(
      ([cms, ss]) =>
        setRefs({ configMaps: cms.map((c) => c.name), secrets: ss.map((s) => s.name), registry: ss.filter((s) => s.format === 'registry').map((s) => s.name) }),
      () => {},
    );
  }, [client, project]);

  const set = (patch: Partial<JobForm>) => setForm((f) => (f ? { ...f, ...patch } : f));

  return (
    <Dialog title={editing ? `Edit job ${props.name}` : 'Create job'} onClose={props.onClose} wide testId="job-dialog">
      {!form ? (
        <div className="dialog-body">{error ? <ErrorBanner error={error} /> : <p className="muted">Loading…</p>}</div>
      ) : (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(undefined);
            try {
              const job = editing ? (await client.updateJob(project, props.name!, formToPatch(form), etag)).job : await client.createJob(project, formToPrototype(form));
              props.onSaved(job);
            } catch (err) {
              setError(err);
              setBusy(false);
            }
          }}
        >
          <div className="dialog-body form-grid">
            <section>
              <h3>General</h3>
              <Field label="Name" hint="lowercase letters, digits and '-'">
                <input required disabled={editing} autoFocus={!editing} value={form.name} onChange={(e) => set({ name: e.target.value })} />
              </Field>
              <fieldset className="radios">
                <legend>Mode</legend>
                <label className="check">
                  <input type="radio" name="run_mode" value="task" checked={form.run_mode === 'task'} onChange={() => set({ run_mode: 'task' })} /> Task: runs to completion, with a maximum
                  time and retries
                </label>
                <label className="check">
                  <input type="radio" name="run_mode" value="daemon" checked={form.run_mode === 'daemon'} onChange={() => set({ run_mode: 'daemon' })} /> Daemon: runs indefinitely,
                  restarted on failure
                </label>
              </fieldset>
            </section>
            <section>
              <h3>Code</h3>
              <Field label="Image reference" hint="optional on the process driver">
                <input placeholder="icr.io/codeengine/helloworld" value={form.image_reference} onChange={(e) => set({ image_reference: e.target.value })} />
              </Field>
              <Field label="Registry secret">
                <select value={form.image_secret} onChange={(e) => set({ image_secret: e.target.value })}>
                  <option value="">none</option>
                  {[...new Set([...refs.registry, ...(form.image_secret ? [form.image_secret] : [])])].map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>
              </Field>
              <Field label="Command" hint="one entry per line">
                <textarea rows={2} spellCheck={false} value={form.commands} onChange={(e) => set({ commands: e.target.value })} />
              </Field>
              <Field label="Arguments" hint="one entry per line">
                <textarea rows={3} spellCheck={false} value={form.args} onChange={(e) => set({ args: e.target.value })} />
              </Field>
            </section>
            <section className="span">
              <EnvEditor rows={form.env} onChange={(env) => set({ env })} configMaps={refs.configMaps} secrets={refs.secrets} />
            </section>
            <section>
              <h3>Resources and scaling</h3>
              <Field label="Array indices" hint="e.g. 0-9 or 1,3,5-7 (JOB_INDEX of each instance)">
                <input value={form.scale_array_spec} onChange={(e) => set({ scale_array_spec: e.target.value })} />
              </Field>
              <div className="pair">
                <ResourceFields cpu={form.cpu} memory={form.memory} onChange={(cpu, memory) => set({ cpu, memory })} />
              </div>
              <Field label="Ephemeral storage">
                <input value={form.ephemeral} onChange={(e) => set({ ephemeral: e.target.value })} />
              </Field>
              {form.run_mode === 'task' ? (
                <div className="pair">
                  <Field label="Max execution time (s)">
                    <input type="number" min={1} max={86400} value={form.max_execution_time} onChange={(e) => set({ max_execution_time: e.target.value })} />
                  </Field>
                  <Field label="Retries">
                    <input type="number" min={0} max={5} value={form.retry_limit} onChange={(e) => set({ retry_limit: e.target.value })} />
                  </Field>
                </div>
              ) : null}
            </section>
            <section>
              <h3>Advanced</h3>
              <Field label="Run as user (uid)">
                <input type="number" min={0} value={form.run_as_user} onChange={(e) => set({ run_as_user: e.target.value })} />
              </Field>
              <Field label="Service account">
                <select value={form.run_service_account} onChange={(e) => set({ run_service_account: e.target.value as JobForm['run_service_account'] })}>
                  {SERVICE_ACCOUNTS.map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                </select>
              </Field>
              <label className="check">
                <input
                  type="checkbox"
                  checked={form.run_compute_resource_token_enabled}
                  onChange={(e) => set({ run_compute_resource_token_enabled: e.target.checked })}
                />{' '}
                Compute resource token
              </label>
            </section>
            <section className="span">
              <MountsEditor rows={form.mounts} onChange={(mounts) => set({ mounts })} />
            </section>
            <div className="span">
              <ErrorBanner error={error} title={editing ? 'The job was not saved' : 'The job was not created'} />
            </div>
          </div>
          <FormFooter onCancel={props.onClose} submit={busy ? 'Saving…' : editing ? 'Save' : 'Create'} disabled={busy} />
        </form>
      )}
    </Dialog>
  );
}
