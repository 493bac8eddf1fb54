/** Display helpers: ages, durations, error messages. */
import { useEffect, useState } from 'react';
import { isApiError } from '../../../src/client/index.js';

/** `42s`, `5m`, `3h`, `2d` since `iso` (relative to `now`). */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** `1.2s`, `3m 4s`, `2h 5m` between two instants (the second defaults to now). */
export function duration(fromIso: string | undefined, toIso?: string): string {
  if (!fromIso) return '—';
  const ms = Math.max(0, (toIso ? Date.parse(toIso) : Date.now()) - Date.parse(fromIso));
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function localTime(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** The messages of an error: the server's messages for an API error. */
export function errorMessages(e: unknown): string[] {
  if (isApiError(e)) return e.errors.map((x) => x.message);
  if (e instanceof Error) return [e.message];
  return [String(e)];
}

/** Re-renders every `ms` (for ages). */
export function useTick(ms = 10_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** `a b "c d"` → `['a','b','c d']`: one line per item in the forms, so this is only for display. */
export function commandLine(commands: readonly string[], args: readonly string[]): string {
  const q = (s: string) => (/^[-\w./=:,@%+]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [...commands, ...args].map(q).join(' ');
}
