/** The console: sign-in until a token is accepted, then the shell for the chosen project. */
import { useCallback, useMemo, useState } from 'react';
import { AppContext, type AppState } from '../lib/app-context.js';
import { loadProject, loadToken, makeClient, saveProject, saveToken } from '../lib/session.js';
import { Shell } from './Shell.js';
import { SignIn } from './SignIn.js';

export function App() {
  const [token, setToken] = useState<string | null>(() => loadToken());
  const [project, setProjectState] = useState<string>(() => loadProject());
  const [notice, setNotice] = useState<string | undefined>();
  const signOut = useCallback((message?: string) => {
    saveToken(null);
    setToken(null);
    setNotice(message);
  }, []);
  const setProject = useCallback((p: string) => {
    saveProject(p);
    setProjectState(p);
  }, []);
  const app = useMemo<AppState | null>(
    () => (token ? { client: makeClient(token), project, setProject, signOut } : null),
    [token, project, setProject, signOut],
  );
  if (!app) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t) => {
          saveToken(t);
          setNotice(undefined);
          setToken(t);
        }}
      />
    );
  }
  return (
    <AppContext.Provider value={app}>
      <Shell />
    </AppContext.Provider>
  );
}
