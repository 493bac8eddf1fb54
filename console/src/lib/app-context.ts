/** What every page needs: the client, the chosen project, and sign-out. */
import { createContext, useContext } from 'react';
import type { CejobsClient } from '../../../src/client/index.js';

export interface AppState {
  client: CejobsClient;
  project: string;
  setProject(project: string): void;
  signOut(message?: string): void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside AppContext');
  return app;
}
