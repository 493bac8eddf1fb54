/**
 * Sign-in with the server's token (`ce server token` prints it). The token is checked with
 * `GET /v2/server` before it is kept (sessionStorage: this tab only).
 */
import { useState } from 'react';
import { makeClient } from '../lib/session.js';
import { ErrorBanner } from './ErrorBanner.js';

export function SignIn(props: { onSignedIn: (token: string) => void; notice?: string | undefined }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <main className="signin">
      <form
        className="card signin-card"
        aria-labelledby="signin-title"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            await makeClient(token.trim()).serverInfo();
            props.onSignedIn(token.trim());
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <div className="brand big">
          <span className="logo" aria-hidden="true" />
          cejobs
        </div>
        <h1 id="signin-title">Sign in to the console</h1>
        <p className="muted">
          Paste the server's API token. <code>ce server token</code> prints it (it is in <code>&lt;state home&gt;/token</code>). It is kept for this tab only.
        </p>
        {props.notice ? <p className="notice">{props.notice}</p> : null}
        <div className="field">
          <label htmlFor="token">API token</label>
          <input id="token" name="token" type="password" autoComplete="current-password" required autoFocus value={token} onChange={(e) => setToken(e.target.value)} />
        </div>
        <ErrorBanner error={error} title="Sign-in failed" />
        <button type="submit" className="primary" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
