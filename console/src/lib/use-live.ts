/**
 * `useLive`: data read through the API and kept current by the change stream. A message for
 * which `concerns` is true marks the data stale; re-reads are coalesced (one at a time, at most
 * one per `delayMs`), so a burst of 1,000 instance changes costs a handful of requests.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { isApiError } from '../../../src/client/index.js';
import { useApp } from './app-context.js';
import { useChangeHub, type HubMessage } from './changes.js';
import type { ChangeMessage } from '../../../src/client/index.js';

export interface Live<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Re-read now (coalesced with a pending re-read). */
  reload(): void;
  /** Replace the data locally (e.g. after a write returned the new document). */
  set(data: T): void;
}

export function useLive<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  options: { concerns?: (m: ChangeMessage) => boolean; delayMs?: number } = {},
): Live<T> {
  const { signOut } = useApp();
  const hub = useChangeHub();
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const concernsRef = useRef(options.concerns);
  concernsRef.current = options.concerns;
  const delay = options.delayMs ?? 300;
  const ctl = useRef({ inflight: false, again: false, timer: 0 as number | 0, abort: new AbortController(), gen: 0 });

  const run = useCallback(async () => {
    const c = ctl.current;
    if (c.inflight) {
      c.again = true;
      return;
    }
    c.inflight = true;
    const gen = c.gen;
    try {
      const data = await loadRef.current(c.abort.signal);
      if (gen === c.gen) setState({ data, error: undefined, loading: false });
    } catch (e) {
      if (c.abort.signal.aborted || gen !== c.gen) return;
      if (isApiError(e) && e.status === 401) return signOut('Your session was refused by the server: sign in again.');
      setState((s) => ({ data: s.data, error: e, loading: false }));
    } finally {
      if (gen === c.gen) {
        c.inflight = false;
        if (c.again) {
          c.again = false;
          schedule();
        }
      }
    }
  }, [signOut]);

  const schedule = useCallback(() => {
    const c = ctl.current;
    if (c.timer) return;
    c.timer = window.setTimeout(() => {
      c.timer = 0;
      void run();
    }, delay);
  }, [run, delay]);

  useEffect(() => {
    const c = ctl.current;
    c.gen++;
    c.abort = new AbortController();
    c.inflight = false;
    c.again = false;
    setState({ data: undefined, error: undefined, loading: true });
    void run();
    return () => {
      c.abort.abort();
      if (c.timer) clearTimeout(c.timer);
      c.timer = 0;
    };
  }, deps);

  useEffect(() => {
    if (!hub) return;
    return hub.subscribe((m: HubMessage) => {
      if (m.event === 'resync' || concernsRef.current?.(m)) schedule();
    });
  }, [hub, schedule]);

  return {
    ...state,
    reload: () => {
      void run();
    },
    set: (data: T) => setState({ data, error: undefined, loading: false }),
  };
}
