/** `run_volume_mounts`: config maps and secrets mounted as files (and persistent data stores). */
import type { VolumeMountType } from '../../../src/domain/types.js';
import { emptyMountRow, type MountRow } from '../lib/job-form.js';

export function MountsEditor(props: { rows: MountRow[]; onChange: (rows: MountRow[]) => void }) {
  const update = (i: number, patch: Partial<MountRow>) => props.onChange(props.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="rows">
      <legend>Volume mounts</legend>
      {props.rows.length === 0 ? <p className="muted small">No volume mounts.</p> : null}
      {props.rows.map((r, i) => {
        const n = i + 1;
        return (
          <div className="row-edit" key={i}>
            <select aria-label={`Mount ${n} type`} value={r.type} onChange={(e) => update(i, { type: e.target.value as VolumeMountType })}>
              <option value="config_map">Config map</option>
              <option value="secret">Secret</option>
              <option value="persistent_data_store">Persistent data store</option>
            </select>
            <input aria-label={`Mount ${n} reference`} placeholder="name" value={r.reference} onChange={(e) => update(i, { reference: e.target.value })} />
            <input aria-label={`Mount ${n} path`} placeholder="/mount/path" value={r.mount_path} onChange={(e) => update(i, { mount_path: e.target.value })} />
            <input aria-label={`Mount ${n} sub path`} placeholder="sub path (optional)" value={r.sub_path} onChange={(e) => update(i, { sub_path: e.target.value })} />
            <label className="check">
              <input type="checkbox" checked={r.read_only} onChange={(e) => update(i, { read_only: e.target.checked })} /> read-only
            </label>
            <button type="button" className="icon" aria-label={`Remove mount ${n}`} onClick={() => props.onChange(props.rows.filter((_, j) => j !== i))}>
              ×
            </button>
          </div>
        );
      })}
      <button type="button" className="small" onClick={() => props.onChange([...props.rows, emptyMountRow()])}>
        Add mount
      </button>
    </fieldset>
  );
}
