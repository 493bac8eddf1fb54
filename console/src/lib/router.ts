/**
 * A small history router: `useLocation()` re-renders on navigation, `navigate()` pushes a path,
 * `matchPath()` matches `/jobs/:name` patterns. The server answers every client route with
 * index.html (SPA fallback), so deep links and reloads work.
 */
import { useSyncExternalStore } from 'react';

const EVENT = 'cejobs:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(EVENT, onChange);
  };
}

const snapshot = (): string => window.location.pathname;

export function useLocation(): string {
  return useSyncExternalStore(subscribe, snapshot);
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === window.location.pathname) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(EVENT));
  window.scrollTo(0, 0);
}

/** Params of `path` for `pattern` (`/runs/:name`), or null. Segments are URI-decoded. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const want = p[i]!;
    const got = s[i]!;
    if (want.startsWith(':')) {
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return null;
      }
    } else if (want !== got) return null;
  }
  return params;
}

export const paths = {
  jobs: () => '/jobs',
  job: (name: string) => `/jobs/${encodeURIComponent(name)}`,
  runs: () => '/runs',
  run: (name: string) => `/runs/${encodeURIComponent(name)}`,
  configMaps: () => '/configmaps',
  secrets: () => '/secrets',
};
