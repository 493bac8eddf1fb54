/**
 * `run_env_variables`: literal values and references to config maps and secrets (the whole
 * object with an optional prefix, or one key as a named variable).
 */
import type { EnvVarType } from '../../../src/domain/types.js';
import { emptyEnvRow, type EnvRow } from '../lib/job-form.js';

const TYPES: { value: EnvVarType; label: string }[] = [
  { value: 'literal', label: 'Literal value' },
  { value: 'config_map_key_reference', label: 'Config map key' },
  { value: 'config_map_full_reference', label: 'Config map (all keys)' },
  { value: 'secret_key_reference', label: 'Secret key' },
  { value: 'secret_full_reference', label: 'Secret (all keys)' },
];

export function EnvEditor(props: { rows: EnvRow[]; onChange: (rows: EnvRow[]) => void; configMaps: string[]; secrets: string[] }) {
  const update = (i: number, patch: Partial<EnvRow>) => props.onChange(props.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="rows">
      <legend>Environment variables</legend>
      <datalist id="env-config-maps">
        {props.configMaps.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
      <datalist id="env-secrets">
        {props.secrets.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
      {props.rows.length === 0 ? <p className="muted small">No environment variables.</p> : null}
      {props.rows.map((r, i) => {
        const isRef = r.type !== 'literal';
        const full = r.type.endsWith('full_reference');
        const list = r.type.startsWith('config_map') ? 'env-config-maps' : 'env-secrets';
        const n = i + 1;
        return (
          <div className="row-edit" key={i}>
            <select aria-label={`Variable ${n} type`} value={r.type} onChange={(e) => update(i, { type: e.target.value as EnvVarType })}>
              {TYPES.map((t) => (
                <option key={t.value} value={t.value}>
                  {t.label}
                </option>
              ))}
            </select>
            {!full ? <input aria-label={`Variable ${n} name`} placeholder="NAME" value={r.name} onChange={(e) => update(i, { name: e.target.value })} /> : null}
            {!isRef ? <input aria-label={`Variable ${n} value`} placeholder="value" value={r.value} onChange={(e) => update(i, { value: e.target.value })} /> : null}
            {isRef ? (
              <input aria-label={`Variable ${n} reference`} placeholder={list === 'env-secrets' ? 'secret name' : 'config map name'} list={list} value={r.reference} onChange={(e) => update(i, { reference: e.target.value })} />
            ) : null}
            {isRef && !full ? <input aria-label={`Variable ${n} key`} placeholder="key" value={r.key} onChange={(e) => update(i, { key: e.target.value })} /> : null}
            {full ? <input aria-label={`Variable ${n} prefix`} placeholder="prefix (optional)" value={r.prefix} onChange={(e) => update(i, { prefix: e.target.value })} /> : null}
            <button type="button" className="icon" aria-label={`Remove variable ${n}`} onClick={() => props.onChange(props.rows.filter((_, j) => j !== i))}>
              ×
            </button>
          </div>
        );
      })}
      <button type="button" className="small" onClick={() => props.onChange([...props.rows, emptyEnvRow()])}>
        Add variable
      </button>
    </fieldset>
  );
}
