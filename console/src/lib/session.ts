/**
 * The signed-in session: the server's bearer token in sessionStorage (per tab, gone when the tab
 * closes; never a cookie) and the chosen project in localStorage. The client is the project's
 * typed API client (src/client), pointed at the server that served the console.
 */
import { CejobsClient } from '../../../src/client/index.js';

const TOKEN_KEY = 'cejobs.token';
const PROJECT_KEY = 'cejobs.project';

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export function loadProject(): string {
  try {
    return localStorage.getItem(PROJECT_KEY) ?? 'default';
  } catch {
    return 'default';
  }
}

export function saveProject(project: string): void {
  try {
    localStorage.setItem(PROJECT_KEY, project);
  } catch {
    // storage unavailable: the choice lasts for this page only
  }
}

export function makeClient(token: string): CejobsClient {
  return new CejobsClient({ baseUrl: window.location.origin, token });
}
