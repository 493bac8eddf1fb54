/**
 * A table of listed things as the console draws them: a wrapper that scrolls sideways (with
 * `scroll`, also down), the table's accessible name, a heading per column (`scope="col"`), and
 * with `actions` a last column for row buttons whose heading only screen readers get. The
 * children are the body's rows; each cell carries its column's name in `data-label`.
 */
import type { ReactNode } from 'react';

export function DataTable(props: { label: string; columns: readonly string[]; actions?: boolean; compact?: boolean; scroll?: boolean; children: ReactNode }) {
  return (
    <div className={props.scroll ? 'table-wrap scroll-y' : 'table-wrap'}>
      <table className={props.compact ? 'table compact' : 'table'} aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
            {props.actions ? (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
