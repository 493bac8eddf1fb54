/**
 * Submit a run: of a job, with overrides (instances / array indices, cpu, memory, retries,
 * timeout; empty = the job's value), or standalone from an image or a command.
 */
import { useState } from 'react';
import type { ApiJob, ApiJobRun, JobRunPrototype } from '../../../src/client/index.js';
import type { RunMode } from '../../../src/domain/types.js';
import { useApp } from '../lib/app-context.js';
import { intOrText, lines } from '../lib/job-form.js';
import { Dialog } from './Dialog.js';
import { ErrorBanner } from './ErrorBanner.js';
import { Field } from './Field.js';
import { FormFooter } from './FormFooter.js';
import { ResourceFields } from './ResourceFields.js';

export function SubmitRunDialog(props: { job?: ApiJob; onClose: () => void; onSubmitted: (run: ApiJobRun) => void }) {
  const { client, project } = useApp();
  const job = props.job;
  const [name, setName] = useState('');
  const [image, setImage] = useState('');
  const [commands, setCommands] = useState('');
  const [args, setArgs] = useState('');
  const [mode, setMode] = useState<RunMode>(job?.run_mode ?? 'task');
  const [instances, setInstances] = useState('');
  const [indices, setIndices] = useState('');
  const [cpu, setCpu] = useState('');
  const [memory, setMemory] = useState('');
  const [retries, setRetries] = useState('');
  const [timeout, setTimeoutValue] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const build = (): JobRunPrototype => {
    const p: JobRunPrototype = {};
    if (name.trim()) p.name = name.trim();
    if (job) p.job_name = job.name;
    else {
      if (image.trim()) p.image_reference = image.trim();
      if (commands.trim()) p.run_commands = lines(commands);
      if (args.trim()) p.run_arguments = lines(args);
      p.run_mode = mode;
    }
    if (indices.trim()) p.scale_array_spec = indices.trim();
    if (cpu) p.scale_cpu_limit = cpu;
    if (memory) p.scale_memory_limit = memory;
    if (mode === 'task') {
      if (retries.trim()) p.scale_retry_limit = intOrText(retries);
      if (timeout.trim()) p.scale_max_execution_time = intOrText(timeout);
    }
    return p;
  };
  const inherit = (v: string | number | undefined) => (job ? `job's: ${v ?? '—'}` : `default`);

  return (
    <Dialog title={job ? `Submit a run of ${job.name}` : 'Submit a standalone run'} onClose={props.onClose} wide testId="submit-dialog">
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            props.onSubmitted(await client.submitJobRun(project, build()));
          } catch (err) {
            setError(err);
            setBusy(false);
          }
        }}
      >
        <div className="dialog-body form-grid">
          <section>
            <h3>Run</h3>
            <Field label="Run name" hint="optional: generated when empty">
              <input autoFocus value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            {!job ? (
              <>
                <Field label="Image reference" hint="or a command, on the process driver">
                  <input value={image} onChange={(e) => setImage(e.target.value)} />
                </Field>
                <Field label="Command" hint="one entry per line">
                  <textarea rows={2} spellCheck={false} value={commands} onChange={(e) => setCommands(e.target.value)} />
                </Field>
                <Field label="Arguments" hint="one entry per line">
                  <textarea rows={3} spellCheck={false} value={args} onChange={(e) => setArgs(e.target.value)} />
                </Field>
                <Field label="Mode">
                  <select value={mode} onChange={(e) => setMode(e.target.value as RunMode)}>
                    <option value="task">task</option>
                    <option value="daemon">daemon</option>
                  </select>
                </Field>
              </>
            ) : (
              <p className="muted small">
                Image and command come from the job ({job.image_reference || job.run_commands.join(' ') || 'none'}). Empty fields keep the job's values.
              </p>
            )}
          </section>
          <section>
            <h3>Overrides</h3>
            <div className="pair">
              <Field label="Instances" hint="indices 0 … N-1">
                <input
                  type="number"
                  min={1}
                  max={1000}
                  value={instances}
                  placeholder={job ? String(job.scale_array_spec) : '1'}
                  onChange={(e) => {
                    setInstances(e.target.value);
                    const n = Number(e.target.value);
                    setIndices(Number.isInteger(n) && n >= 1 ? (n === 1 ? '0' : `0-${n - 1}`) : '');
                  }}
                />
              </Field>
              <Field label="Array indices">
                <input
                  value={indices}
                  placeholder={inherit(job?.scale_array_spec)}
                  onChange={(e) => {
                    setIndices(e.target.value);
                    setInstances('');
                  }}
                />
              </Field>
            </div>
            <div className="pair">
              <ResourceFields
                cpu={cpu}
                memory={memory}
                allowInherit={job ? `job's: ${job.scale_cpu_limit} / ${job.scale_memory_limit}` : 'default'}
                onChange={(c, m) => {
                  setCpu(c);
                  setMemory(m);
                }}
              />
            </div>
            {mode === 'task' ? (
              <div className="pair">
                <Field label="Retries">
                  <input type="number" min={0} max={5} value={retries} placeholder={inherit(job?.scale_retry_limit)} onChange={(e) => setRetries(e.target.value)} />
                </Field>
                <Field label="Timeout (s)">
                  <input type="number" min={1} max={86400} value={timeout} placeholder={inherit(job?.scale_max_execution_time)} onChange={(e) => setTimeoutValue(e.target.value)} />
                </Field>
              </div>
            ) : null}
          </section>
          <div className="span">
            <ErrorBanner error={error} title="The run was not submitted" />
          </div>
        </div>
        <FormFooter onCancel={props.onClose} submit={busy ? 'Submitting…' : 'Submit run'} disabled={busy} />
      </form>
    </Dialog>
  );
}
