/** The project picker: every project of the server, and "New project…". */
import { useEffect, useState } from 'react';
import type { ApiProject } from '../../../src/client/index.js';
import { useApp } from '../lib/app-context.js';
import { Dialog } from './Dialog.js';
import { ErrorBanner } from './ErrorBanner.js';
import { Field } from './Field.js';
import { FormFooter } from './FormFooter.js';

const NEW = '\u0000new';

export function ProjectPicker() {
  const { client, project, setProject } = useApp();
  const [projects, setProjects] = useState<ApiProject[]>([]);
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let live = true;
    client.listAllProjects().then(
      (ps) => live && setProjects(ps),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [client, creating]);
  const known = projects.some((p) => p.name === project || p.id === project);
  return (
    <>
      <label className="project">
        <span className="sr-only">Project</span>
        <select
          aria-label="Project"
          value={project}
          onChange={(e) => {
            if (e.target.value === NEW) setCreating(true);
            else setProject(e.target.value);
          }}
        >
          {!known ? <option value={project}>{project}</option> : null}
          {projects.map((p) => (
            <option key={p.id} value={p.name}>
              {p.name}
            </option>
          ))}
          <option value={NEW}>New project…</option>
        </select>
      </label>
      {creating ? (
        <Dialog title="New project" onClose={() => setCreating(false)}>
          <form
            onSubmit={async (e) => {
              e.preventDefault();
              setError(undefined);
              try {
                const p = await client.createProject({ name: name.trim() });
                setProject(p.name);
                setCreating(false);
                setName('');
              } catch (err) {
                setError(err);
              }
            }}
          >
            <div className="dialog-body">
              <Field label="Name">
                <input required autoFocus value={name} onChange={(e) => setName(e.target.value)} />
              </Field>
              <ErrorBanner error={error} />
            </div>
            <FormFooter onCancel={() => setCreating(false)} submit="Create" />
          </form>
        </Dialog>
      ) : null}
    </>
  );
}
