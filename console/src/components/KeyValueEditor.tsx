/** Editable key/value rows (config map and secret data); `secret` hides values until shown. */
import { useState } from 'react';

export interface KV {
  key: string;
  value: string;
}

export function KeyValueEditor(props: { rows: KV[]; onChange: (rows: KV[]) => void; secret?: boolean; fixedKeys?: boolean }) {
  const [shown, setShown] = useState(false);
  const update = (i: number, patch: Partial<KV>) => props.onChange(props.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="rows">
      <legend>Data</legend>
      {props.secret ? (
        <label className="check small">
          <input type="checkbox" checked={shown} onChange={(e) => setShown(e.target.checked)} /> Show values
        </label>
      ) : null}
      {props.rows.map((r, i) => (
        <div className="row-edit kv" key={i}>
          <input aria-label={`Key ${i + 1}`} placeholder="key" value={r.key} readOnly={props.fixedKeys} onChange={(e) => update(i, { key: e.target.value })} />
          {props.secret && !shown ? (
            <input aria-label={`Value ${i + 1}`} type="password" autoComplete="off" placeholder="value" value={r.value} onChange={(e) => update(i, { value: e.target.value })} />
          ) : (
            <textarea aria-label={`Value ${i + 1}`} rows={1} spellCheck={false} placeholder="value" value={r.value} onChange={(e) => update(i, { value: e.target.value })} />
          )}
          {!props.fixedKeys ? (
            <button type="button" className="icon" aria-label={`Remove key ${i + 1}`} onClick={() => props.onChange(props.rows.filter((_, j) => j !== i))}>
              ×
            </button>
          ) : null}
        </div>
      ))}
      {!props.fixedKeys ? (
        <button type="button" className="small" onClick={() => props.onChange([...props.rows, { key: '', value: '' }])}>
          Add key
        </button>
      ) : null}
    </fieldset>
  );
}

export const toRows = (data: Record<string, string>): KV[] => Object.entries(data).map(([key, value]) => ({ key, value }));
export const toData = (rows: KV[]): Record<string, string> => Object.fromEntries(rows.filter((r) => r.key.trim() !== '').map((r) => [r.key.trim(), r.value]));
