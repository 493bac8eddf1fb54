/**
 * The picture of a run's indices: one cell per index, coloured by its state, with counts in a
 * legend. Made for 1,000 indices: plain spans with a class, one click listener on the grid
 * (delegation, never per cell), and re-rendered only when the states change.
 */
import { memo, useMemo, type MouseEvent } from 'react';
import type { IndexDetails } from '../../../src/domain/types.js';

const STATES = ['pending', 'running', 'succeeded', 'failed', 'unknown'] as const;

function IndexGridImpl(props: { details: Record<string, IndexDetails>; selected: number | null; onSelect: (index: number | null) => void }) {
  const entries = useMemo(
    () =>
      Object.entries(props.details)
        .map(([k, d]) => [Number(k), d] as const)
        .sort((a, b) => a[0] - b[0]),
    [props.details],
  );
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const [, d] of entries) c[d.status] = (c[d.status] ?? 0) + 1;
    return c;
  }, [entries]);
  const dense = entries.length > 120;
  const summary = STATES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(', ');
  const onClick = (e: MouseEvent<HTMLDivElement>) => {
    const i = (e.target as HTMLElement).dataset.i;
    if (i === undefined) return;
    const n = Number(i);
    props.onSelect(props.selected === n ? null : n);
  };
  return (
    <div className="index-grid-box">
      <ul className="legend" aria-label="Index states">
        {STATES.map((s) => (
          <li key={s}>
            <span className={`swatch s-${s}`} aria-hidden="true" /> {s} <strong data-testid={`count-${s}`}>{counts[s] ?? 0}</strong>
          </li>
        ))}
      </ul>
      <div className={dense ? 'index-grid dense' : 'index-grid'} role="img" aria-label={`${entries.length} indices: ${summary || 'none yet'}`} onClick={onClick} data-testid="index-grid">
        {entries.map(([i, d]) => (
          <span
            key={i}
            data-i={i}
            className={`cell s-${d.status}${props.selected === i ? ' sel' : ''}`}
            title={`index ${i}: ${d.status}${d.retries ? `, ${d.retries} retries` : ''}${d.last_failure_reason ? ` (${d.last_failure_reason})` : ''}`}
          >
            {dense ? '' : i}
          </span>
        ))}
      </div>
      <p className="muted small">Click an index to show only its instances and logs{props.selected !== null ? ` (showing index ${props.selected})` : ''}.</p>
    </div>
  );
}

export const IndexGrid = memo(IndexGridImpl);
