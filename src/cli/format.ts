/**
 * Text layout of the human output: Kubernetes-style ages (`3m58s`, `2d4h`), aligned tables and
 * `Label:  value` blocks like Code Engine's CLI, local ISO times with offset.
 */

/**
 * A duration as Kubernetes prints ages (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`):
 * `45s`, `119s`, `3m58s`, `12m`, `3h20m`, `26h`, `2d4h`, `30d`, `2y10d`, `9y`. Negative → `0s`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    const d = Math.floor(hours / 24);
    return h === 0 ? `${d}d` : `${d}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  if (years < 8) {
    const d = Math.floor(hours / 24) % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/** The age of an ISO timestamp at `now`; `''` when absent or unparsable. */
export function age(iso: string | undefined, now: Date): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : humanDuration(now.getTime() - t);
}

/** `2022-04-14T16:10:11-04:00`: the time in the local zone with its offset (as Code Engine prints `Created`). */
export function localIso(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`
  );
}

/** Visible length (ANSI colour codes do not count). */
function width(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/**
 * A table: header and rows, columns left-aligned and separated by two spaces, each line
 * prefixed with `indent`, trailing spaces trimmed. Returns lines.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]): string =>
    (indent + cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c) + 2))).join('')).trimEnd();
  return [line(header), ...rows.map(line)];
}

/** One entry of a `Label:  value` block; `null` value = a section heading (`Runtime:`). */
export type KeyValue = readonly [label: string, value: string | null];

/**
 * `Label:  value` lines with values aligned two spaces after the longest label (headings
 * included, as Code Engine aligns `Image:` with `Resource Allocation:`), each prefixed with
 * `indent`. A `null` value prints the label alone (a heading).
 */
export function keyValues(entries: readonly KeyValue[], indent = ''): string[] {
  const w = Math.max(0, ...entries.map(([l]) => l.length + 1));
  return entries.map(([label, value]) =>
    value === null ? `${indent}${label}:` : `${indent}${`${label}:`.padEnd(w + 2)}${value}`.trimEnd(),
  );
}

/** `Running` from `running`. */
export function capitalize(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}
